"""Back-to-back `--install` runs on one existing cluster, against a real kube-apiserver: the operator namespace
the last run deleted is still Terminating when the next run starts. Its preflight waits for it (bounded)
instead of refusing "Strimzi already runs", and says exactly what still goes when it does not go in time.

No controller runs here: a deleted namespace stays Terminating until a test plays the namespace controller
(tests.support.namespace_controller, which says so); the operator Deployment is a test double.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from kconform import progress
from kconform.errors import InfrastructureFailure
from kconform.platforms.kubernetes import crd_install, kube_preflight, ownership
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.settings import KubeSettings, SetupBudget
from kconform.versions import PROFILES
from tests.apiserver.conftest import ServerPool
from tests.apiserver.test_existing_provider import _install_files
from tests.support.cli import environment, run_module
from tests.support.namespace_controller import finish_deletion
from tests.support.strimzi_doubles import operator_deployment

pytestmark = pytest.mark.apiserver


def last_run_left(kube: Kube, namespace: str) -> None:
    """What a run's end leaves: its operator namespace (kconform's mark) deleted, the operator still in it."""
    ownership.ensure_namespace(kube, namespace, "earlier", "Strimzi operator")
    kube.apply(operator_deployment(namespace, "quay.io/strimzi/operator:1.2.0"))
    kube.delete("v1", "Namespace", None, namespace)
    found = kube.get("v1", "Namespace", None, namespace)
    assert found is not None and found["status"]["phase"] == "Terminating"  # the real API server's shape


def settings(running: Any, namespace: str, budget_s: float) -> KubeSettings:
    return KubeSettings(
        profile=PROFILES["1.2.0"],
        run_id="next",
        provider="existing",
        install="helm",
        operator_namespace=namespace,
        context=running.context,
        kubeconfig=str(running.kubeconfig),
        budget=SetupBudget(deleted_namespaces=budget_s),
    )


def test_the_next_run_waits_for_the_namespace_the_last_one_deleted(servers: ServerPool) -> None:
    kube, running = servers.kube("departing"), servers.get("departing")
    namespace = f"strimzi-{uuid.uuid4().hex[:6]}"
    last_run_left(kube, namespace)
    seen: list[str] = []

    def controller_on_wait(line: str) -> None:
        """Plays the namespace controller once the preflight says it waits, so the wait itself is proven."""
        seen.append(line)
        if "waiting up to" in line:
            finish_deletion(kube, namespace)

    stop = progress.listen(controller_on_wait)
    try:
        _, operators = kube_preflight.operators_staying(kube, settings(running, namespace, 60))
    finally:
        stop()
    assert [o for o in operators if o.namespace == namespace] == []  # not "Strimzi already runs"
    assert kube.get("v1", "Namespace", None, namespace) is None
    assert any(f"Namespace {namespace} to be gone" in line for line in seen)


def test_one_that_stays_terminating_is_inconclusive_and_untouched(servers: ServerPool) -> None:
    kube, running = servers.kube("departing"), servers.get("departing")
    namespace = f"strimzi-{uuid.uuid4().hex[:6]}"
    last_run_left(kube, namespace)
    with pytest.raises(InfrastructureFailure) as caught:
        kube_preflight.operators_staying(kube, settings(running, namespace, 1.0))
    assert f"Namespace {namespace}, deleted by an earlier kconform run, still being deleted" in str(
        caught.value
    )
    left = kube.get("v1", "Namespace", None, namespace)
    assert left is not None and left["spec"]["finalizers"] == ["kubernetes"]  # waited for, never forced
    finish_deletion(kube, namespace)  # the namespace controller's part, for the tests after this one


@pytest.mark.parametrize("command", ["kconform run", "pytest"])
def test_a_run_right_after_another_is_exit_3_naming_what_still_goes(
    servers: ServerPool, tmp_path: Path, command: str
) -> None:
    """Through the CLI and plain pytest: --install yaml while the last run's `strimzi` namespace is
    Terminating; its budget scaled down (KCONFORM_SETUP_SCALE), the run stops before any test: inconclusive,
    exit 3."""
    kube, running = servers.kube("departing-cli"), servers.get("departing-cli")
    if not kube.crds():
        crd_install.apply_crds(kube, crd_install.crd_documents(crd_install.crd_folder(PROFILES["1.2.0"])))
    if kube.get("v1", "Namespace", None, "strimzi") is None:
        last_run_left(kube, "strimzi")
    options = [
        "--platform",
        "kubernetes",
        "--provider",
        "existing",
        "--install",
        "yaml",
        "--profile",
        "1.2.0",
    ]
    options += ["--reports", str(tmp_path / "reports")]
    argv = (
        ["kconform", "run"]
        if command == "kconform run"
        else ["pytest", "scenarios", "-p", "no:cacheprovider"]
    )
    env = environment(
        KUBECONFIG=str(running.kubeconfig),
        KCONFORM_STRIMZI_FILES=_install_files(tmp_path, "1.2.0"),  # the CRDs and a release YAML double
        KCONFORM_CACHE=str(tmp_path / "cache"),
        KCONFORM_SETUP_SCALE="0.01",
    )
    done = run_module(*argv, *options, env=env, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 3, out[-3000:]
    assert "kconform: Namespace strimzi, deleted by an earlier kconform run, still being deleted" in out
    assert "Strimzi already runs" not in out and "Traceback" not in out
    assert not (tmp_path / "reports" / "conformance.json").exists()  # no test ran
