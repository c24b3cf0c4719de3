"""Exec streams and REST calls at once against a real kube-apiserver: a REST call made while another thread's
stream connects must reach the REST API, not the websocket handshake (the kubernetes client's `stream()`
swaps its ApiClient's `call_api` while it connects; kconform gives each stream an ApiClient of its own).

No kubelet runs here, so every exec and port-forward is refused by the API server ("does not have a host assigned") after its
websocket handshake: the handshake, and the swap it made on a shared client, still happen.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from kconform.errors import PlatformError
from kconform.platforms.kubernetes import ownership
from tests.apiserver.conftest import ServerPool

pytestmark = pytest.mark.apiserver
EXECS = 40
LISTS = 200


@pytest.mark.parametrize("stream", ["exec", "port-forward"])
def test_rest_calls_during_stream_handshakes_reach_the_rest_api(servers: ServerPool, stream: str) -> None:
    kube = servers.kube("streams")
    namespace = f"streams-{uuid.uuid4().hex[:6]}"
    ownership.ensure_namespace(kube, namespace, "streams", "test namespace")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "registry.invalid/never-pulled:1"}]},
    }
    kube.apply(pod)
    exec_errors: list[str] = []
    done = threading.Event()

    def execs() -> None:
        try:
            for _ in range(EXECS):
                try:
                    if stream == "exec":
                        kube.exec(namespace, "p", "c", ["true"], "", 5)
                    else:
                        kube.port_forward(namespace, "p", 8080)
                except PlatformError as err:
                    exec_errors.append(str(err))
        finally:
            done.set()

    worker = threading.Thread(target=execs, daemon=True)
    worker.start()
    wrong: list[str] = []
    lists = 0
    while not done.is_set() or lists < LISTS:
        try:
            names = [p["metadata"]["name"] for p in kube.pods(namespace)]
            if names != ["p"]:
                wrong.append(f"listed {names}")
        except Exception as err:  # what a REST call sent into a websocket handshake raises
            wrong.append(f"{type(err).__name__}: {err}")
        lists += 1
        if lists > 20 * LISTS:
            break
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert len(exec_errors) == EXECS  # every exec reached the API server and was refused, none hung
    said = "exec `true` in" if stream == "exec" else f"port-forward {namespace}/p:8080"
    assert all(said in e for e in exec_errors), exec_errors[:3]
    assert wrong == [], f"{len(wrong)} of {lists} REST calls went wrong, e.g. {[w[:200] for w in wrong[:3]]}"
    kube.delete("v1", "Namespace", None, namespace)
