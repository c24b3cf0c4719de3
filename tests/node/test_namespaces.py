"""Namespace deletion finishing on a real node (the namespace controller, the kubelet stopping the pods), through
the platform's own teardown and through `kconform clean`, which never touches what kconform did not create."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kconform.platforms.kubernetes import ownership
from kconform.platforms.kubernetes.kube import Kube
from kconform.waits import wait_until
from tests.node import workloads
from tests.node.cluster import Node
from tests.node.conftest import make_platform, run_id
from tests.support.cli import environment, path_without_kind, run_module

pytestmark = pytest.mark.node
GONE_TIMEOUT_S = 120.0


def _wait_gone(kube: Kube, namespace: str) -> None:
    wait_until(
        lambda: kube.get("v1", "Namespace", None, namespace) is None,
        describe=f"namespace {namespace} to be gone",
        timeout=GONE_TIMEOUT_S,
        interval=0.5,
        diagnose=lambda: str((kube.get("v1", "Namespace", None, namespace) or {}).get("status")),
    )


def test_deleting_a_namespace_with_running_pods_finishes(node: Node) -> None:
    """The platform's delete_namespace, then await_namespaces_gone (what runs before node ports are reused)."""
    platform = make_platform(node)
    namespace = f"{platform.settings.run_id}-gone"
    try:
        platform.create_namespace(namespace)
        workloads.start_pods(platform, [workloads.sleeper_pod(f"sleeper-{i}", namespace) for i in range(2)])
        platform.internal_clients(namespace)
        platform.delete_namespace(namespace)
        platform.await_namespaces_gone()
        assert platform.kube.get("v1", "Namespace", None, namespace) is None
        assert not [
            p for p in platform.kube.list_objects("v1", "Pod") if p["metadata"]["namespace"] == namespace
        ]
    finally:
        platform.close()


def _clean(node: Node, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = environment(
        KUBECONFIG=str(node.kubeconfig), PATH=path_without_kind(), KCONFORM_CACHE=str(tmp_path / "cache")
    )
    return run_module("kconform", "clean", *args, "--context", node.context, env=env, timeout=180)


def test_kconform_clean_deletes_one_runs_namespaces_and_they_finish(
    node: Node, kube: Kube, tmp_path: Path
) -> None:
    doomed_run, other_run = run_id(), run_id()
    doomed = [f"{doomed_run}-a", f"{doomed_run}-b"]
    other = f"{other_run}-keep"
    users = f"users-{other_run}"
    for name, run in [(doomed[0], doomed_run), (doomed[1], doomed_run), (other, other_run)]:
        kube.apply(ownership.namespace_manifest(name, run))
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": users, "labels": {"kconform.io/run": doomed_run}},
        }
    )
    platform = make_platform(node, run=doomed_run)
    try:
        platform.internal_clients(doomed[0])  # a running pod in the namespace clean deletes
    finally:
        platform.close()
    result = _clean(node, tmp_path, "--run-id", doomed_run)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in doomed:
        assert name in result.stdout
        _wait_gone(kube, name)
    for kept in (other, users):
        found = kube.get("v1", "Namespace", None, kept)
        assert found is not None and not found["metadata"].get("deletionTimestamp"), kept
        kube.delete("v1", "Namespace", None, kept)
