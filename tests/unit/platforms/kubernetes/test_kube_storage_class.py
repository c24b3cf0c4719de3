"""The kraft-migration workflow's PersistentVolumeClaims need a default StorageClass: without one, one line and
exit 2 before any test (instead of Pending claims and the operator's complaint minutes later).

Which cells claim volumes is read from the run's selection; the StorageClasses are the API's shapes (kind's
`standard` carries the GA annotation; older clusters the beta one). tests/apiserver/test_storage_class.py
checks the same on a real API server, RBAC refusal included.
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform import progress
from kconform.errors import MissingPrerequisite, PlatformError
from kconform.platforms.kubernetes import storage_class
from kconform.runconfig import RunConfig

MIGRATION = ["kraft-migration (strimzi 0.45.2 zookeeper)"]


def config(**kwargs: Any) -> RunConfig:
    return RunConfig(platform="kubernetes", provider="existing", context="c", **kwargs)


def sc(name: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "annotations": annotations or {}}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta, "provisioner": "x"}


class Classes:
    def __init__(self, *classes: dict[str, Any], error: Exception | None = None) -> None:
        self.classes, self.error = list(classes), error

    def list_objects(self, api_version: str, kind: str, *_: Any, **__: Any) -> list[dict[str, Any]]:
        assert (api_version, kind) == ("storage.k8s.io/v1", "StorageClass")
        if self.error is not None:
            raise self.error
        return self.classes


@pytest.mark.parametrize(
    ("selection", "claiming"),
    [
        ({"profiles": ("0.45.2",)}, MIGRATION),  # every workflow, every mode: the zookeeper cell migrates
        ({"profiles": ("0.45.2",), "workflows": ("kraft-migration", "tls-listener")}, MIGRATION),
        ({"profiles": ("0.45.2",), "modes": ("zookeeper",)}, MIGRATION),
        ({"profiles": ("0.45.2",), "modes": ("kraft",)}, []),  # no ZooKeeper cluster to migrate
        ({"profiles": ("0.45.2",), "workflows": ("tls-listener",)}, []),
        ({"profiles": ("1.2.0",)}, []),  # no ZooKeeper on 1.x
    ],
)
def test_the_cells_that_claim_volumes_come_from_the_selection(
    selection: dict[str, Any], claiming: list[str]
) -> None:
    assert storage_class.claiming_workflows(config(**selection)) == claiming


@pytest.mark.parametrize(
    "annotation",
    ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"],
)
def test_a_default_storage_class_passes(annotation: str) -> None:
    storage_class.check_default(Classes(sc("slow"), sc("standard", {annotation: "true"})), MIGRATION)


def test_no_storage_class_at_all_names_a_provisioner_and_the_way_out() -> None:
    with pytest.raises(MissingPrerequisite) as caught:
        storage_class.check_default(Classes(), MIGRATION)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("kraft-migration (strimzi 0.45.2 zookeeper) claims")
    assert "no default StorageClass (none at all)" in message and "local-path-provisioner" in message
    assert "--workflow" in message and "--mode kraft" in message


def test_storage_classes_none_default_name_them_and_how_to_mark_one() -> None:
    classes = Classes(
        sc("fast"),
        sc("slow", {"storageclass.kubernetes.io/is-default-class": "false"}),
        sc("c"),
        sc("d"),
    )
    with pytest.raises(MissingPrerequisite) as caught:
        storage_class.check_default(classes, MIGRATION)
    message = str(caught.value)
    assert "StorageClasses fast, slow, c and 1 more, none annotated" in message
    assert "kubectl annotate storageclass fast storageclass.kubernetes.io/is-default-class=true" in message


def test_nothing_is_read_when_no_selected_workflow_claims_volumes() -> None:
    storage_class.check_default(Classes(error=AssertionError("read")), [])


def test_credentials_that_may_not_list_storage_classes_are_said_not_guessed() -> None:
    denied = PlatformError("list StorageClass in all namespaces: storageclasses is forbidden")
    denied.__cause__ = type("ApiException", (Exception,), {"status": 403})()
    seen: list[str] = []
    stop = progress.listen(seen.append)
    try:
        storage_class.check_default(Classes(error=denied), MIGRATION)
    finally:
        stop()
    assert len(seen) == 1 and "your credentials may not list storageclasses" in seen[0]
    assert "cannot tell whether the cluster has a default StorageClass" in seen[0]
