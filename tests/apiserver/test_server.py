"""The API server fixture itself: the real binaries at the pinned versions, RBAC, NodePort allocation, and no
process left behind — after a normal stop and after SIGINT or SIGTERM to the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kconform.errors import ManifestError, MissingPrerequisite, PlatformError
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.local.processes import group_members
from kconform.waits import wait_until
from tests.apiserver import build, server
from tests.apiserver.conftest import ServerPool
from tests.support.cli import ctrl_c_as_in_a_terminal

pytestmark = pytest.mark.apiserver
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_pinned_kube_apiserver_answers_through_the_platform_facade(servers: ServerPool) -> None:
    running = servers.get("1.2.0")
    assert running.apiserver.alive() and running.etcd.alive()
    assert servers.kube("1.2.0").server_version() == build.kubernetes_version().lstrip("v")
    argv = Path(f"/proc/{running.apiserver.pid}/cmdline").read_bytes().split(b"\0")
    assert argv[0].decode() == str(build.binary(build.KUBE_APISERVER))


def test_etcd_is_the_release_kubeadm_names(servers: ServerPool) -> None:
    """kubeadm v1.35.4's DefaultEtcdVersion is 3.6.6 (cmd/kubeadm/app/constants/constants.go)."""
    out = subprocess.run(
        [str(build.binary(build.ETCD)), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert "etcd Version: 3.6.6" in out
    assert build.ETCD.version() == "v3.6.6"


def test_rbac_refuses_an_authenticated_user_without_bindings(servers: ServerPool) -> None:
    running = servers.get("1.2.0")
    assert running.status_of("/api/v1/namespaces") == 200
    assert running.status_of("/api/v1/namespaces", token=running.unbound_token) == 403
    assert running.status_of("/api/v1/namespaces", token="not-a-token") == 401


def test_node_ports_of_the_platform_are_allocatable_and_unique(servers: ServerPool) -> None:
    """The fixed NodePorts (32100-32107) fit the range; a taken one gives 'provided port is already allocated'
    — what a second cluster on the same ports meets on a real cluster."""
    kube = servers.kube("1.2.0")
    namespace = f"np-{os.getpid()}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})

    def service(name: str, port: int) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "NodePort", "ports": [{"port": 9094, "nodePort": port}], "selector": {"a": "b"}},
        }

    created = kube.apply(service("bootstrap", 32100))
    assert created["spec"]["ports"][0]["nodePort"] == 32100
    with pytest.raises(ManifestError, match="already allocated"):
        kube.apply(service("again", 32100))
    with pytest.raises(ManifestError, match="not in the valid range"):
        kube.apply(service("outside", 30000))


def test_a_stopped_server_leaves_no_process(apiserver_binaries: tuple[Path, Path], tmp_path: Path) -> None:
    running = server.start(
        kube_apiserver=apiserver_binaries[0],
        etcd=apiserver_binaries[1],
        workdir=tmp_path / "w",
        log_dir=tmp_path / "logs",
        run_id="apiserver-stop-test",
    )
    pids = running.pids()
    assert all(group_members(pid) for pid in pids)
    running.stop()
    assert not [pid for pid in pids if group_members(pid)]
    assert not running.readyz()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupting_the_owner_leaves_no_process(
    apiserver_binaries: tuple[Path, Path], tmp_path: Path, signum: int
) -> None:
    """A process that started a server and is interrupted (Ctrl-C, or SIGTERM from CI) stops it on the way out."""
    pid_file = tmp_path / "pids"
    script = textwrap.dedent(
        f"""
        import threading
        from pathlib import Path
        from kconform.platforms.local.processes import install_signal_handlers
        from tests.apiserver import server
        install_signal_handlers()
        running = server.start(kube_apiserver=Path({str(apiserver_binaries[0])!r}),
                               etcd=Path({str(apiserver_binaries[1])!r}),
                               workdir=Path({str(tmp_path / "w")!r}), log_dir=Path({str(tmp_path / "l")!r}),
                               run_id="apiserver-signal-test")
        try:
            Path({str(pid_file)!r}).write_text(" ".join(map(str, running.pids())))
            threading.Event().wait(120)
        finally:
            running.stop()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    owner = subprocess.Popen(
        [sys.executable, "-c", script], env=env, cwd=PROJECT_ROOT, preexec_fn=ctrl_c_as_in_a_terminal
    )
    try:
        wait_until(
            lambda: pid_file.exists() and pid_file.read_text(),
            describe="the child to start its API server",
            timeout=90,
            diagnose=lambda: f"child exit code {owner.poll()}",
        )
        pids = [int(p) for p in pid_file.read_text().split()]
        assert all(group_members(pid) for pid in pids)
        owner.send_signal(signum)
        owner.wait(timeout=60)
        assert not [pid for pid in pids if group_members(pid)]
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(timeout=30)


def test_the_build_is_reused_when_its_marker_matches() -> None:
    result = build.ensure_built()
    assert result.built == ()
    assert result.kube_apiserver.is_file() and result.etcd.is_file()


def test_a_missing_go_is_one_line_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(build, "GO_FALLBACKS", ())
    with pytest.raises(MissingPrerequisite) as missing:
        build.find_go()
    message = str(missing.value)
    assert "\n" not in message and "install Go (golang)" in message


def test_a_changed_wrapper_module_is_rebuilt_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The marker holds the hash of go.mod + go.sum: a different pin does not count as built."""
    assert build.is_built(build.ETCD)
    monkeypatch.setattr(build.Target, "fingerprint", lambda self: "another-pin")
    assert not build.is_built(build.ETCD)


def test_a_broken_kubeconfig_context_is_a_platform_error(servers: ServerPool) -> None:
    running = servers.get("1.2.0")
    with pytest.raises(PlatformError, match="no-such-context"):
        Kube(context="no-such-context", kubeconfig=str(running.kubeconfig))
