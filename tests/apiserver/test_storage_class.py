"""The default StorageClass the kraft-migration workflow's claims need, checked on a real API server: real
StorageClass objects created and deleted, the RBAC refusal of a user bound to nothing, and the CLI's one line.

A server of its own: StorageClasses are cluster-scoped, and each test starts from none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kconform import progress
from kconform.errors import MissingPrerequisite
from kconform.platforms.kubernetes import storage_class
from kconform.platforms.kubernetes.kube import Kube
from tests.apiserver.conftest import ServerPool
from tests.apiserver.test_existing_provider import _install_files
from tests.support.cli import environment, one_line, run_module
from tests.support.namespace_controller import BACKGROUND

pytestmark = pytest.mark.apiserver
SERVER = "storage-classes"
MIGRATION = ["kraft-migration (strimzi 0.45.2 zookeeper)"]


@pytest.fixture
def cluster(servers: ServerPool) -> Iterator[tuple[Kube, Any]]:
    kube = servers.kube(SERVER)
    yield kube, servers.get(SERVER)
    api = kube.dynamic.resources.get(api_version=storage_class.API_VERSION, kind="StorageClass")
    for found in kube.list_objects(storage_class.API_VERSION, "StorageClass"):
        api.delete(name=found["metadata"]["name"], body=BACKGROUND)  # no garbage collector runs here


def add(kube: Kube, name: str, annotations: dict[str, str] | None = None) -> None:
    """A StorageClass as a provisioner installs it (kind's `standard`: rancher.io/local-path, the GA mark)."""
    meta: dict[str, Any] = {"name": name, "annotations": annotations or {}}
    kube.apply(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": meta,
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )


def test_the_default_storage_class_is_found_by_either_annotation(cluster: tuple[Kube, Any]) -> None:
    kube, _ = cluster
    with pytest.raises(MissingPrerequisite, match=r"no default StorageClass \(none at all\)"):
        storage_class.check_default(kube, MIGRATION)
    add(kube, "fast")
    with pytest.raises(MissingPrerequisite, match="StorageClasses fast, none annotated"):
        storage_class.check_default(kube, MIGRATION)
    add(kube, "old", {"storageclass.beta.kubernetes.io/is-default-class": "true"})
    storage_class.check_default(kube, MIGRATION)
    kube.delete(storage_class.API_VERSION, "StorageClass", None, "old")  # kept, being deleted (no GC here)
    with pytest.raises(MissingPrerequisite, match="none annotated"):  # a default on its way out is none
        storage_class.check_default(kube, MIGRATION)
    add(kube, "standard", {"storageclass.kubernetes.io/is-default-class": "true"})  # kind's
    storage_class.check_default(kube, MIGRATION)


def test_a_user_who_may_not_list_storage_classes_is_told_so(
    cluster: tuple[Kube, Any], tmp_path: Path
) -> None:
    _, running = cluster
    config = yaml.safe_load(running.kubeconfig.read_text())
    config["users"][0]["user"]["token"] = running.unbound_token  # authenticated, no RBAC binding
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    nobody = Kube(context=running.context, kubeconfig=str(path))
    seen: list[str] = []
    stop = progress.listen(seen.append)
    try:
        storage_class.check_default(nobody, MIGRATION)  # not a refusal: it cannot tell
    finally:
        stop()
        nobody.api_client.close()
    assert len(seen) == 1 and "your credentials may not list storageclasses" in seen[0]


def test_a_migration_run_on_a_cluster_without_a_default_is_one_line_exit_2(
    cluster: tuple[Kube, Any], tmp_path: Path
) -> None:
    kube, running = cluster
    add(kube, "manual")
    argv = ["run", "--platform", "kubernetes", "--provider", "existing", "--install", "yaml"]
    argv += ["--profile", "0.45.2", "--workflow", "kraft-migration", "--reports", str(tmp_path / "reports")]
    env = environment(
        KUBECONFIG=str(running.kubeconfig),
        KCONFORM_STRIMZI_FILES=_install_files(tmp_path, "0.45.2"),
        KCONFORM_CACHE=str(tmp_path / "cache"),
    )
    done = run_module("kconform", *argv, env=env, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    line = one_line(done)
    assert "kraft-migration (strimzi 0.45.2 zookeeper) claims PersistentVolumes" in line
    assert "kubectl annotate storageclass manual storageclass.kubernetes.io/is-default-class=true" in line
    assert kube.get("v1", "Namespace", None, "strimzi") is None  # nothing was created
