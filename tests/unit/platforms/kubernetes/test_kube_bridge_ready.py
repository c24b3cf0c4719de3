"""The sidecar bridge's readiness on kubernetes: polled through the port-forward, with evidence on timeout.

A real HTTP server on this machine stands in for the forwarded bridge port (it answers as the bridge's
HttpBridge.java does at each version: 500 until ready, then 200 on the management port for 1.x, 204 on the HTTP
port for 0.x). `FakeKube` plays the API server's part for events and logs only; it proves the harness's polling
and evidence, not the bridge.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kconform.errors import WaitTimeout
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import profile


class FakeKube:
    """Stands in for the API server: the pod's events and the bridge container's log."""

    def events(self, namespace: str) -> list[dict[str, Any]]:
        return [
            {
                "type": "Warning",
                "reason": "BackOff",
                "message": "Back-off restarting failed container bridge",
                "involvedObject": {"kind": "Pod", "name": "app"},
            },
            {
                "type": "Normal",
                "reason": "Pulled",
                "message": "other pod",
                "involvedObject": {"name": "other"},
            },
        ]

    def pod_log(self, namespace: str, pod: str, container: str | None = None, **_: Any) -> str:
        return f"{pod}/{container}: Failed to bind 127.0.0.1:8081\nkafka.ssl.keystore.key=-----BEGIN PRIVATE KEY-----abc"


class Bridge(http.server.BaseHTTPRequestHandler):
    not_ready_for = 2  # requests answered 500 before the bridge is ready
    ready_status = 200
    seen: list[str] = []

    def do_GET(self) -> None:
        Bridge.seen.append(self.path)
        ready = len(Bridge.seen) > Bridge.not_ready_for and self.path == "/ready"
        self.send_response(Bridge.ready_status if ready else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def bridge_port() -> Iterator[int]:
    Bridge.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bridge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def platform(strimzi: str) -> KubernetesPlatform:
    settings = KubeSettings(profile=profile(strimzi), run_id="r1")
    return KubernetesPlatform(
        settings,
        FakeKube(),
        ClusterInfo(None, None, "127.0.0.1", created=False),
        SchemaSet([], "none"),  # type: ignore[arg-type]
    )


def test_bridge_1x_is_ready_once_its_management_port_answers_200(bridge_port: int) -> None:
    platform("1.2.0").wait_bridge_ready(
        "ns", "app", http_port=1, management_port=bridge_port, timeout=30, interval=0.1
    )
    assert Bridge.seen[-1] == "/ready" and len(Bridge.seen) == 3


def test_bridge_0x_is_ready_once_its_http_port_answers_204(bridge_port: int) -> None:
    Bridge.ready_status = 204
    try:
        platform("0.45.2").wait_bridge_ready(
            "ns", "app", http_port=bridge_port, management_port=1, timeout=30
        )
    finally:
        Bridge.ready_status = 200
    assert len(Bridge.seen) == 3


def test_a_bridge_that_never_gets_ready_times_out_with_events_and_its_log(bridge_port: int) -> None:
    Bridge.not_ready_for = 10**6
    try:
        with pytest.raises(WaitTimeout) as caught:
            platform("1.2.0").wait_bridge_ready(
                "ns", "app", http_port=1, management_port=bridge_port, timeout=2
            )
    finally:
        Bridge.not_ready_for = 2
    message = str(caught.value)
    assert "answer 200 on /ready" in message
    assert "Back-off restarting failed container bridge" in message and "other pod" not in message
    assert "app/bridge: Failed to bind" in message
    assert "BEGIN PRIVATE KEY-----abc" not in message  # evidence is redacted
