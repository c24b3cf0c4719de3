"""Back-to-back installs on an existing cluster: what the last kconform run deleted and Kubernetes still removes
is awaited (bounded), never taken for someone's Strimzi; the run that deleted it waits for it too.

`Cluster` plays the API server's part: a deleted object stays readable with a deletionTimestamp for a number
of reads (a namespace in phase Terminating while its pods stop), then 404s, and a namespace takes what is in
it along. It proves the harness's waiting and what it waits for, not Kubernetes
(tests/apiserver/test_departing.py does that on a real API server).
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform import progress
from kconform.errors import InfrastructureFailure, UsageError
from kconform.platforms.kubernetes import departing, install, kube_preflight, leftovers, ownership
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import INSTALLED, KubeSettings, SetupBudget
from kconform.schemas import SchemaSet
from kconform.versions import profile
from tests.support.strimzi_doubles import operator_deployment

DELETED_AT = "2026-11-22T18:00:00Z"
OWNED = {ownership.CREATED_BY_LABEL: ownership.CREATED_BY_VALUE}


class ApiClient:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Cluster:
    def __init__(self, deletion_reads: int = 3) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.reads_left: dict[tuple[str, str | None, str], int] = {}
        self.deletion_reads = deletion_reads  # how long what kconform deletes stays readable
        self.api_client = ApiClient()

    def add(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = obj

    def deleting(self, kind: str, name: str, reads: int, namespace: str | None = None) -> None:
        """Delete an object that stays `reads` reads (forever: a huge number) before it is gone."""
        self.objects[(kind, namespace, name)]["metadata"]["deletionTimestamp"] = DELETED_AT
        self.reads_left[(kind, namespace, name)] = reads

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        if (kind, namespace, name) not in self.objects:
            return False
        self.deleting(kind, name, self.deletion_reads, namespace)
        return True

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        key = (kind, namespace, name)
        if key in self.reads_left:
            if self.reads_left[key] <= 0:
                self._remove(key)
                return None
            self.reads_left[key] -= 1
        return self.objects.get(key)

    def _remove(self, key: tuple[str, str | None, str]) -> None:
        self.objects.pop(key, None)
        self.reads_left.pop(key, None)
        if key[0] == "Namespace":  # the namespace controller empties it first
            for inside in [k for k in self.objects if k[1] == key[2]]:
                self.objects.pop(inside)

    def crds(self) -> list[dict[str, Any]]:
        return []

    def list_objects(self, api_version: str, kind: str, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return [o for (k, _, _), o in self.objects.items() if k == kind]


def namespace(name: str, owned: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": OWNED if owned else {}},
    }


def settings(install_with: str = "helm", budget_s: float = 30.0) -> KubeSettings:
    return KubeSettings(
        profile=profile("1.2.0"),
        run_id="r2",
        provider="existing",
        install=install_with,
        context="ctx",
        budget=SetupBudget(deleted_namespaces=budget_s),
    )


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(departing, "POLL_S", 0.01)


@pytest.fixture
def lines() -> Any:
    seen: list[str] = []
    stop = progress.listen(seen.append)
    yield seen
    stop()


def last_run_left(reads: int, owned: bool = True) -> Cluster:
    """The operator namespace `strimzi` a run deleted at its end, its operator still in it for `reads`."""
    cluster = Cluster()
    cluster.add(namespace("strimzi", owned=owned))
    cluster.add(operator_deployment("strimzi", "quay.io/strimzi/operator:1.2.0"))
    cluster.deleting("Namespace", "strimzi", reads)
    return cluster


def test_an_install_right_after_a_run_waits_for_its_operator_namespace_to_go(lines: list[str]) -> None:
    cluster = last_run_left(reads=3)
    _, operators = kube_preflight.operators_staying(cluster, settings())
    assert operators == []  # not "Strimzi already runs on this cluster"
    assert cluster.get("v1", "Namespace", None, "strimzi") is None
    assert any("waiting up to 30s for Namespace strimzi to be gone" in line for line in lines)


def test_testing_the_installed_strimzi_waits_too_rather_than_testing_the_one_going() -> None:
    cluster = last_run_left(reads=2)
    cluster.add(namespace("users-strimzi", owned=False))
    cluster.add(operator_deployment("users-strimzi", "quay.io/strimzi/operator:1.2.0"))
    _, operators = kube_preflight.operators_staying(cluster, settings(INSTALLED))
    assert [o.namespace for o in operators] == ["users-strimzi"]


def test_one_still_going_at_the_end_of_the_budget_is_inconclusive_naming_it() -> None:
    cluster = last_run_left(reads=10**9)
    with pytest.raises(InfrastructureFailure) as caught:
        kube_preflight.operators_staying(cluster, settings(budget_s=0.3))
    message = str(caught.value)
    assert "\n" not in message
    assert "Namespace strimzi, deleted by an earlier kconform run, still being deleted after 0s" in message
    assert "kubectl get namespace" in message


def test_a_terminating_namespace_kconform_did_not_create_is_not_awaited(lines: list[str]) -> None:
    """Someone else's Strimzi going away is theirs: decided on as it is (refused), no wait."""
    cluster = last_run_left(reads=10**9, owned=False)
    _, operators = kube_preflight.operators_staying(cluster, settings())
    assert [o.namespace for o in operators] == ["strimzi"] and lines == []
    with pytest.raises(UsageError, match="Strimzi already runs on this cluster"):
        kube_preflight.check_existing_strimzi(settings(), cluster)


def test_kconforms_cluster_rbac_still_being_deleted_is_awaited_before_it_is_applied_again() -> None:
    """Applied over while the garbage collector still removes it, it would be deleted under the new operator."""
    cluster = Cluster()
    kind, name = leftovers.HELM_CLUSTER_OBJECTS[0]
    role = {
        "apiVersion": leftovers.RBAC,
        "kind": kind,
        "metadata": {"name": name, "labels": install.OWNER_LABELS},
    }
    cluster.add(role)
    cluster.deleting(kind, name, reads=2)
    assert departing.departing_installs(cluster, settings(), []) == [(leftovers.RBAC, kind, name)]
    assert departing.before_install(cluster, settings(), []) is True
    assert cluster.get(leftovers.RBAC, kind, None, name) is None
    users = {
        "apiVersion": leftovers.RBAC,
        "kind": kind,
        "metadata": {"name": name, "labels": {"app": "strimzi"}},
    }
    cluster.add(users)
    cluster.deleting(kind, name, reads=10**9)
    assert departing.departing_installs(cluster, settings(), []) == []  # not kconform's: not awaited


def test_nothing_departing_is_no_wait() -> None:
    cluster = Cluster()
    cluster.add(namespace("strimzi"))  # an earlier --keep run's, not being deleted
    assert departing.before_install(cluster, settings(), []) is False


def test_the_run_end_says_what_is_still_going_and_does_not_fail(lines: list[str]) -> None:
    cluster = last_run_left(reads=10**9)
    departing.at_run_end(cluster, [("v1", "Namespace", "strimzi")], timeout=0.2)
    assert "a next run waits for them before it starts" in lines[-1]
    assert "Namespace strimzi" in lines[-1]


def test_closing_the_platform_waits_for_the_test_namespaces_it_deleted(lines: list[str]) -> None:
    """Their NodePort Services hold kconform's fixed node ports until they are gone."""
    cluster = Cluster(deletion_reads=3)
    cluster.add(namespace("kconform-r2-a"))
    plat = KubernetesPlatform(
        settings(), cluster, ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]
    plat.create_namespace("kconform-r2-a")
    plat.delete_namespace("kconform-r2-a")
    assert cluster.objects[("Namespace", None, "kconform-r2-a")]["metadata"]["deletionTimestamp"]
    plat.close()
    assert cluster.get("v1", "Namespace", None, "kconform-r2-a") is None and cluster.api_client.closed
    assert any("Namespace kconform-r2-a to be gone" in line for line in lines)
