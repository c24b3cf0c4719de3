"""The kconform CLI against a real API server through a kubeconfig (KUBECONFIG), as a user runs it."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from kconform.platforms.kubernetes import ownership
from tests.apiserver.conftest import ServerPool
from tests.support.cli import environment, path_without_kind, run_module

pytestmark = pytest.mark.apiserver


def _kconform(
    args: list[str], kubeconfig: Path, tmp_path: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`kconform <args>` through `kubeconfig`, with no kind on PATH (`clean --all` deletes kind clusters named
    kconform*, which are not this test's) nor kconform's cached kind."""
    env = environment(
        KUBECONFIG=str(kubeconfig), PATH=path_without_kind(), KCONFORM_CACHE=str(tmp_path / "cache")
    )
    return run_module("kconform", *args, env=env, timeout=timeout)


@pytest.mark.parametrize("context", ["--context", "the kubeconfig's current context"])
def test_run_on_a_cluster_without_strimzi_stops_with_one_line(
    servers: ServerPool, tmp_path: Path, context: str
) -> None:
    """Target behaviour (issue 8): on --provider existing with no operator, kconform tests the Strimzi that
    is installed — there is none — so it stops before any test: exit 2, a line saying to install Strimzi or
    pass --install. Without --context the kubeconfig's current context names the same cluster."""
    running = servers.get("1.2.0")
    result = _kconform(
        [
            "run",
            "--platform",
            "kubernetes",
            "--provider",
            "existing",
            *(["--context", running.context] if context == "--context" else []),
            "--reports",
            str(tmp_path / "reports"),
        ],
        running.kubeconfig,
        tmp_path,
        timeout=300,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output[-3000:]
    assert len(output.splitlines()) <= 3, output[-3000:]
    assert "Strimzi" in output and "--install" in output


def test_clean_all_leaves_namespaces_kconform_did_not_create(servers: ServerPool, tmp_path: Path) -> None:
    running = servers.get("1.2.0")
    kube = servers.kube("1.2.0")
    run_id = f"clean{uuid.uuid4().hex[:6]}"
    ours, users = f"ours-{run_id}", f"users-{run_id}"
    kube.apply(ownership.namespace_manifest(ours, run_id))  # as kconform creates its namespaces
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": users}})
    result = _kconform(
        ["clean", "--all", "--context", running.context], running.kubeconfig, tmp_path, timeout=120
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert ours in result.stdout
    deleted = kube.get("v1", "Namespace", None, ours)
    assert deleted is None or deleted["metadata"].get("deletionTimestamp")
    kept = kube.get("v1", "Namespace", None, users)
    assert kept is not None and not kept["metadata"].get("deletionTimestamp")
