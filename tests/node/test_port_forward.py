"""kconform's port-forward (Kube.port_forward, and the pooled Forwarder the bridge sidecar is reached through)
against a real kubelet: single streams, many connections through one forwarder, concurrent connections, and
REST calls made while port-forward handshakes are under way."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from kconform.errors import KconformError
from kconform.forwarding import Forwarder
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from tests.node import workloads

pytestmark = pytest.mark.node
GREETING = "forwarded"


@pytest.fixture(scope="module")
def web(platform: KubernetesPlatform, namespace: str) -> str:
    """A pod whose HTTP server listens on its loopback only: reachable through a port-forward, not its IP."""
    name = workloads.unique("fwd")
    workloads.start_pods(
        platform, [workloads.http_server_pod(name, namespace, greeting=GREETING, bind="127.0.0.1")]
    )
    return name


@pytest.fixture
def forwarder(platform: KubernetesPlatform, namespace: str, web: str):
    made = Forwarder(0, connect=lambda: platform.kube.port_forward(namespace, web, workloads.HTTP_PORT))
    yield made
    made.close()


def _raw_get(sock: socket.socket, path: str) -> str:
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: pod\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data.decode()


def test_a_single_port_forward_stream_reaches_the_pods_loopback(
    platform: KubernetesPlatform, namespace: str, web: str
) -> None:
    sock = platform.kube.port_forward(namespace, web, workloads.HTTP_PORT)
    try:
        answer = _raw_get(sock, "/single")
    finally:
        sock.close()
    assert answer.startswith("HTTP/1.0 200") and answer.endswith(f"{GREETING} /single"), answer


def test_one_forwarder_carries_many_connections_one_after_another(forwarder: Forwarder) -> None:
    for i in range(15):
        response = httpx.get(f"http://127.0.0.1:{forwarder.port}/seq/{i}", timeout=30)
        assert response.text == f"{GREETING} /seq/{i}"


def test_one_forwarder_carries_concurrent_connections(forwarder: Forwarder) -> None:
    def fetch(i: int) -> str:
        with httpx.Client(timeout=30) as client:  # a connection each: each is its own port-forward stream
            return client.get(f"http://127.0.0.1:{forwarder.port}/par/{i}").text

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(fetch, range(16)))
    assert answers == [f"{GREETING} /par/{i}" for i in range(16)]


def test_rest_calls_concurrent_with_port_forward_handshakes_get_rest_answers(
    platform: KubernetesPlatform, namespace: str, web: str, forwarder: Forwarder
) -> None:
    """The kubernetes client's stream() swaps the shared ApiClient's request function while a websocket is
    opened; a REST call on the same client at that moment must still be a REST call with a REST answer."""
    errors: list[str] = []
    stop = threading.Event()

    def rest_calls() -> None:
        while not stop.is_set():
            try:
                got = platform.kube.get("v1", "Pod", namespace, web)
                if not got or got.get("metadata", {}).get("name") != web:
                    errors.append(f"REST get answered {str(got)[:200]}")
            except Exception as err:  # what went wrong is the evidence
                errors.append(f"REST get raised {type(err).__name__}: {str(err)[:200]}")

    def forwarded(i: int) -> str:
        with httpx.Client(timeout=30) as client:
            return client.get(f"http://127.0.0.1:{forwarder.port}/mix/{i}").text

    callers = [threading.Thread(target=rest_calls, daemon=True) for _ in range(3)]
    for caller in callers:
        caller.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(forwarded, range(12)))
    finally:
        stop.set()
        for caller in callers:
            caller.join(30)
    assert answers == [f"{GREETING} /mix/{i}" for i in range(12)]
    assert not errors, errors[:5]


def test_a_port_forward_to_a_missing_pod_is_a_kconform_error(
    platform: KubernetesPlatform, namespace: str
) -> None:
    with pytest.raises(KconformError):
        platform.kube.port_forward(namespace, "no-such-pod", workloads.HTTP_PORT)
