"""An interrupted kubernetes run, and `kconform clean --run-id`, against a real kube-apiserver with Strimzi's
real 1.2.0 release files (../shared/strimzi-install; no kubelet runs the operator, so its Deployment never
becomes Available and the run waits for it until interrupted).

An interrupted run ends like an interrupted local run: the reports (conformance.json too, even with no result
yet), everything it created removed (the operator namespace, the release's ClusterRoles and
ClusterRoleBindings), exit 130. What a run could not remove, `kconform clean --run-id` removes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from kconform import paths
from kconform.platforms.kubernetes import install, ownership, strimzi_files
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import profile
from kconform.waits import wait_until
from tests.apiserver.conftest import ServerPool
from tests.support.cli import environment, path_without_kind, run_module, start_module
from tests.support.namespace_controller import NamespaceController

pytestmark = pytest.mark.apiserver
RBAC = "rbac.authorization.k8s.io/v1"
# Beside the checkout, or where KCONFORM_STRIMZI_FILES points (a worktree elsewhere).
RELEASE_FILES = Path(
    os.environ.get("KCONFORM_STRIMZI_FILES") or paths.PROJECT_ROOT.parent / "shared" / "strimzi-install"
)
# Strimzi 1.2.0's release YAML: 7 ClusterRoles (020-033) and 3 ClusterRoleBindings (021, 030, 033), plus the
# 3 ClusterRoleBindings kconform adds for watching every namespace (install.watched_bindings).
CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS = 7, 6


def gone(obj: dict[str, Any] | None) -> bool:
    """Deleted: no garbage collector runs here to finish a foreground deletion, so being deleted counts."""
    return obj is None or bool(obj["metadata"].get("deletionTimestamp"))


def kconforms_rbac(kube: Kube, run_id: str) -> list[dict[str, Any]]:
    """The run's cluster RBAC that is not being deleted."""
    selector = install.run_selector(run_id)
    found = [
        o
        for kind in ("ClusterRole", "ClusterRoleBinding")
        for o in kube.list_objects(RBAC, kind, label_selector=selector)
    ]
    return [o for o in found if not gone(o)]


def start_run(running: Any, tmp_path: Path, run_id: str) -> subprocess.Popen[bytes]:
    env = environment(
        KUBECONFIG=str(running.kubeconfig),
        KCONFORM_RUN_ID=run_id,
        KCONFORM_STRIMZI_FILES=str(RELEASE_FILES),
        KCONFORM_CACHE=str(tmp_path / "cache"),
    )
    argv = ["run", "--platform", "kubernetes", "--provider", "existing", "--context", running.context]
    argv += [
        "--install",
        "yaml",
        "--profile",
        "1.2.0",
        "--mode",
        "kraft",
        "--reports",
        str(tmp_path / "reports"),
    ]
    return start_module("kconform", *argv, env=env)


@pytest.mark.parametrize(
    "how",
    ["SIGTERM to kconform run", "SIGINT to the process group"],
)
def test_an_interrupted_install_run_removes_what_it_made_and_writes_its_record(
    servers: ServerPool, tmp_path: Path, how: str
) -> None:
    name = f"interrupt-{'term' if 'TERM' in how else 'int'}"
    kube, running = servers.kube(name), servers.get(name)
    run_id = f"intr{uuid.uuid4().hex[:6]}"
    # The namespace controller's part (none runs here): the run's end waits for its operator namespace to go.
    with NamespaceController(kube, "strimzi") as controller:
        proc = start_run(running, tmp_path, run_id)
        try:
            wait_until(
                lambda: kube.get("apps/v1", "Deployment", "strimzi", install.DEPLOYMENT) is not None,
                describe="the run to have applied Strimzi's release YAML (its operator Deployment)",
                timeout=240,
                interval=0.5,
            )
            assert len(kconforms_rbac(kube, run_id)) == CLUSTER_ROLES + CLUSTER_ROLE_BINDINGS
            if "TERM" in how:
                os.kill(proc.pid, signal.SIGTERM)  # e.g. CI cancelling the job it started
            else:
                os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal
            out, _ = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
    text = out.decode(errors="replace")
    assert proc.returncode == 130, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    record = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    assert record["run"]["interrupted"] is True and record["run"]["id"] == run_id
    assert controller.finished and kube.get("v1", "Namespace", None, "strimzi") is None
    assert "waiting up to 180s for Namespace strimzi to be gone" in text, text[-3000:]
    assert kconforms_rbac(kube, run_id) == []


def test_clean_run_id_removes_the_cluster_rbac_that_run_installed(
    servers: ServerPool, tmp_path: Path
) -> None:
    """A run killed outright (SIGKILL: no cleanup) left its operator namespace and the release YAML's cluster
    RBAC. `kconform clean --run-id` removes them; another run's and a user's cluster RBAC stay."""
    kube, running = servers.kube("clean-rbac"), servers.get("clean-rbac")
    ours, other = f"left{uuid.uuid4().hex[:6]}", f"othr{uuid.uuid4().hex[:6]}"
    documents = install.parse_documents(
        strimzi_files.read("1.2.0", install.operator_yaml_url("1.2.0"))
        if not RELEASE_FILES.is_dir()
        else (RELEASE_FILES / "1.2.0" / "strimzi-cluster-operator-1.2.0.yaml").read_text()
    )
    for run_id in (ours, other):
        namespace = f"strimzi-{run_id}"
        ownership.ensure_namespace(kube, namespace, run_id, "Strimzi operator")
        settings = KubeSettings(
            profile=profile("1.2.0"), run_id=run_id, install="yaml", operator_namespace=namespace
        )
        for document in install.release_documents(documents, settings):
            if document["kind"] in ("ClusterRole", "ClusterRoleBinding"):
                document["metadata"]["name"] += f"-{run_id}"  # two runs side by side on one server
                kube.apply(document)
    users = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": f"users-{ours}", "labels": {"kconform.io/run": ours}},  # not kconform's mark
        "rules": [],
    }
    kube.apply(users)
    assert len(kconforms_rbac(kube, ours)) == CLUSTER_ROLES + CLUSTER_ROLE_BINDINGS

    environ = environment(
        KUBECONFIG=str(running.kubeconfig), PATH=path_without_kind(), KCONFORM_CACHE=str(tmp_path)
    )
    done = run_module("kconform", "clean", "--run-id", ours, "--context", running.context, env=environ)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ClusterRole strimzi-kafka-broker-" in done.stdout, done.stdout
    assert kconforms_rbac(kube, ours) == []
    assert gone(kube.get("v1", "Namespace", None, f"strimzi-{ours}"))
    assert len(kconforms_rbac(kube, other)) == CLUSTER_ROLES + CLUSTER_ROLE_BINDINGS
    assert not gone(kube.get(RBAC, "ClusterRole", None, f"users-{ours}"))
