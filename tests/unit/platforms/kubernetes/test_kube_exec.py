"""Exec and port-forward through the kubernetes client: outcomes as kconform errors that say what happened, and
streams that never borrow the ApiClient other threads use.

`FakeStream` plays the part of the kubernetes client's WSClient (kubernetes/stream/ws_client.py): its
channels, `run_forever(timeout)` that returns while the connection is still open when the process did not
end, and the Status the kubelet sends on channel 3 when the process ends (remotecommand: `{"status":
"Success"}`, or `Failure` with reason NonZeroExitCode and an ExitCode cause).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from kconform.errors import PlatformError
from kconform.platforms.kubernetes import kube as kube_module
from kconform.platforms.kubernetes.kube import Kube, exec_outcome

SUCCESS = json.dumps({"status": "Success"})
EXIT_3 = json.dumps(
    {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "message": "command terminated with non-zero exit code: error executing command [sh], exit code 3",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
)


class FakeStream:
    def __init__(
        self, *, ends: bool, status: str = "", stdout: str = "", stderr: str = "", drop: bool = False
    ):
        self.ends, self.status, self.stdout, self.stderr, self.drop = ends, status, stdout, stderr, drop
        self.open = True
        self.stdin: list[str] = []

    def write_stdin(self, data: str) -> None:
        self.stdin.append(str(data))

    def close_channel(self, channel: int) -> None:
        assert channel == 0

    def run_forever(self, timeout: float | None = None) -> None:
        if self.drop:
            raise ConnectionResetError("connection reset by peer")
        if self.ends:
            self.open = False

    def is_open(self) -> bool:
        return self.open

    def read_stdout(self, timeout: float | None = None) -> str:
        return self.stdout

    def read_stderr(self, timeout: float | None = None) -> str:
        return self.stderr

    def read_channel(self, channel: int, timeout: float = 0) -> str:
        assert channel == kube_module.ERROR_CHANNEL
        return self.status


def test_a_finished_exec_returns_its_stdout() -> None:
    stream = FakeStream(ends=True, status=SUCCESS, stdout="KCONFORM-RESPONSE 0\n{}")
    assert exec_outcome(stream, "request", 5, "`python` in ns/p/c") == "KCONFORM-RESPONSE 0\n{}"
    assert stream.stdin == ["request"]


def test_a_non_zero_exit_names_the_code_and_stderr() -> None:
    stream = FakeStream(ends=True, status=EXIT_3, stderr="Traceback: boom")
    with pytest.raises(PlatformError, match=r"`python` in ns/p/c exited 3: Traceback: boom"):
        exec_outcome(stream, "", 5, "`python` in ns/p/c")


def test_an_exec_that_does_not_end_in_time_says_it_timed_out() -> None:
    """Before: run_forever returned at its timeout, the return code was None and the partial stdout came back
    as if the command had succeeded."""
    stream = FakeStream(ends=False, stdout="half a resp", stderr="still working")
    with pytest.raises(PlatformError, match=r"timed out: no exit within 7s; stderr so far: 'still working'"):
        exec_outcome(stream, "", 7, "`python` in ns/p/c")


def test_a_connection_that_ends_without_a_status_is_a_dropped_exec() -> None:
    """Before: the client's `returncode` read an empty error channel and raised a bare TypeError."""
    stream = FakeStream(ends=True, status="", stdout="partial")
    with pytest.raises(PlatformError, match="ended without an exit status"):
        exec_outcome(stream, "", 5, "`python` in ns/p/c")


def test_a_connection_that_drops_while_running_says_so() -> None:
    with pytest.raises(PlatformError, match="the connection dropped: ConnectionResetError"):
        exec_outcome(FakeStream(ends=False, drop=True), "", 5, "`python` in ns/p/c")


def test_a_failure_without_an_exit_code_carries_the_status_message() -> None:
    status = json.dumps({"status": "Failure", "message": 'container "nope" not found'})
    with pytest.raises(PlatformError, match='failed: container "nope" not found'):
        exec_outcome(FakeStream(ends=True, status=status), "", 5, "`python` in ns/p/nope")


def _kube(tmp_path: Path) -> Kube:
    """A real Kube (real kubernetes ApiClient and CoreV1Api) from a kubeconfig; nothing is contacted."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return Kube(kubeconfig=str(path), context="x")


@pytest.mark.parametrize("call", ["exec", "port_forward"])
def test_a_stream_never_swaps_the_shared_api_clients_call_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """The kubernetes client's `stream()`/`portforward()` replace `call_api` on the ApiClient of the API
    method they are given while the websocket connects (kubernetes/stream/stream.py _websocket_request).
    During that handshake (here: the websocket connection, replaced) the ApiClient every other thread uses
    must keep its own `call_api`, and the stream's must carry the same credentials."""
    from kubernetes.stream import ws_client

    kube = _kube(tmp_path)
    seen: dict[str, Any] = {}

    def handshake(configuration: Any, url: str, headers: Any = None) -> Any:
        seen["shared swapped"] = "call_api" in vars(kube.api_client)
        seen["token"] = configuration.api_key.get("authorization") or configuration.api_key.get("BearerToken")
        seen["thread"] = threading.current_thread()
        raise ConnectionRefusedError("no API server in a unit test")

    monkeypatch.setattr(ws_client, "create_websocket", handshake)
    with pytest.raises(PlatformError, match=r"ConnectionRefusedError|no API server"):
        if call == "exec":
            kube.exec("ns", "pod", "c", ["python", "-c", "1"], "", 5)
        else:
            kube.port_forward("ns", "pod", 8080)
    assert seen["shared swapped"] is False
    assert "t" in str(seen["token"])
    assert "call_api" not in vars(kube.api_client)  # and nothing left behind


@pytest.mark.parametrize("call", ["exec", "port_forward"])
def test_an_interrupt_while_a_stream_connects_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """The kubernetes client wraps even a KeyboardInterrupt (Ctrl-C, or the plugin's SIGTERM) raised during the
    handshake into an ApiException; kconform raises the interrupt again instead of an exec error, or the run
    would go on after its one SIGTERM."""
    from kubernetes.stream import ws_client

    kube = _kube(tmp_path)

    def interrupted(configuration: Any, url: str, headers: Any = None) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(ws_client, "create_websocket", interrupted)
    with pytest.raises(KeyboardInterrupt):
        if call == "exec":
            kube.exec("ns", "pod", "c", ["true"], "", 5)
        else:
            kube.port_forward("ns", "pod", 8080)
