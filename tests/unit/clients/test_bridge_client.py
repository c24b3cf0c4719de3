"""BridgeClient's HTTP handling against a small in-process server that answers like the bridge's REST API.

This checks the client's requests (paths, media types) and its handling of the bridge's documented status
codes; it is not a conformance test of the bridge (the real bridge is exercised by the scenarios).
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from kconform.clients.bridge_client import (
    BridgeClient,
    failed_records,
    management_url_for,
    raise_for_record_errors,
)
from kconform.errors import BridgeError, WaitTimeout

V2 = "application/vnd.kafka.v2+json"


@dataclass
class BridgeState:
    health_status: int  # 204 like bridge <=0.33 on the main port, 200 like the >=1.0 management port
    topics: dict[str, list[Any]] = field(default_factory=lambda: {"orders": []})
    consumers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def make_handler(state: BridgeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: Any = None, content_type: str = V2) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._send(status, {"error_code": status, "message": message})

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length)) if length else None

        def _parts(self) -> tuple[list[str], dict[str, list[str]]]:
            url = urlsplit(self.path)
            state.requests.append((self.command, url.path, dict(self.headers.items())))
            return [unquote(p) for p in url.path.strip("/").split("/") if p], parse_qs(url.query)

        def do_GET(self) -> None:
            parts, query = self._parts()
            if parts in (["healthy"], ["ready"]):
                self._send(state.health_status)
            elif parts == []:
                self._send(200, {"bridge_version": "0.33.1"}, "application/json")
            elif parts == ["topics"]:
                self._send(200, sorted(state.topics))
            elif len(parts) == 2 and parts[0] == "topics":
                if parts[1] not in state.topics:
                    self._error(404, "This server does not host this topic-partition.")
                else:
                    self._send(200, {"name": parts[1], "configs": {}, "partitions": []})
            elif len(parts) == 5 and parts[0] == "consumers" and parts[4] == "records":
                self._poll(parts[1], parts[3], query)
            else:
                self._error(404, "not found")

        def _poll(self, group: str, name: str, query: dict[str, list[str]]) -> None:
            consumer = state.consumers.get((group, name))
            if consumer is None:
                self._error(404, "The specified consumer instance was not found.")
                return
            if self.headers.get("Accept") != f"application/vnd.kafka.{consumer['format']}.v2+json":
                self._error(
                    406, "Consumer format does not match the embedded format requested by the Accept header."
                )
                return
            if group == "denied":
                self._error(500, "Not authorized to access group: denied")
                return
            consumer["polls"] += 1
            consumer["timeouts"].append(query.get("timeout"))
            if consumer["polls"] <= 2:  # the group is still joining
                self._send(200, [], self.headers["Accept"])
                return
            records = [
                {"topic": t, "key": None, "value": v, "partition": 0, "offset": i}
                for t in consumer["topics"]
                for i, v in enumerate(state.topics.get(t, []))
            ][consumer["position"] :]
            records = records[:1]  # one per poll, so poll_until must loop
            consumer["position"] += len(records)
            self._send(200, records, self.headers["Accept"])

        def do_POST(self) -> None:
            parts, _ = self._parts()
            body = self._body()
            if len(parts) == 2 and parts[0] == "topics":
                if not self.headers.get("Content-Type", "").startswith("application/vnd.kafka."):
                    self._error(415, "unsupported media type")
                    return
                offsets: list[dict[str, Any]] = []
                for record in body["records"]:
                    if parts[1] == "forbidden":
                        offsets.append(
                            {"error_code": 500, "message": "Not authorized to access topics: [forbidden]"}
                        )
                    else:
                        log = state.topics.setdefault(parts[1], [])
                        log.append(record["value"])
                        offsets.append({"partition": 0, "offset": len(log) - 1})
                self._send(200, {"offsets": offsets})
            elif parts == ["admin", "topics"]:
                state.topics.setdefault(body["topic_name"], [])
                self._send(201)
            elif len(parts) == 2 and parts[0] == "consumers":
                key = (parts[1], body["name"])
                if key in state.consumers:
                    self._error(
                        409, "A consumer instance with the specified name already exists in the Kafka Bridge."
                    )
                    return
                state.consumers[key] = {
                    "format": body.get("format", "binary"),
                    "config": body,
                    "topics": [],
                    "polls": 0,
                    "position": 0,
                    "timeouts": [],
                }
                base = f"http://{self.headers['Host']}/consumers/{parts[1]}/instances/{body['name']}"
                self._send(200, {"instance_id": body["name"], "base_uri": base})
            elif len(parts) == 5 and parts[0] == "consumers":
                consumer = state.consumers.get((parts[1], parts[3]))
                if consumer is None:
                    self._error(404, "The specified consumer instance was not found.")
                elif parts[4] == "subscription":
                    consumer["topics"] = body["topics"]
                    self._send(204)
                elif parts[4] == "offsets":
                    consumer["committed"] = body
                    self._send(204)
            else:
                self._error(404, "not found")

        def do_DELETE(self) -> None:
            parts, _ = self._parts()
            if state.consumers.pop((parts[1], parts[3]), None) is None:
                self._error(404, "The specified consumer instance was not found.")
            else:
                self._send(204)

    return Handler


@dataclass
class FakeBridge:
    url: str
    state: BridgeState


def _serve(state: BridgeState) -> Iterator[FakeBridge]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FakeBridge(f"http://127.0.0.1:{server.server_address[1]}", state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def bridge() -> Iterator[FakeBridge]:
    yield from _serve(BridgeState(health_status=204))


@pytest.fixture
def management() -> Iterator[FakeBridge]:
    yield from _serve(BridgeState(health_status=200))


@pytest.fixture
def client(bridge: FakeBridge) -> Iterator[BridgeClient]:
    with BridgeClient(bridge.url, timeout=5) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def last_request(bridge: FakeBridge, method: str) -> dict[str, str]:
    return next(headers for m, _, headers in reversed(bridge.state.requests) if m == method)


def test_produce_returns_offsets_and_sends_the_embedded_media_type(
    client: BridgeClient, bridge: FakeBridge
) -> None:
    offsets = client.produce_all("orders", [{"value": {"id": 1}}, {"value": {"id": 2}}])
    assert offsets == [{"partition": 0, "offset": 0}, {"partition": 0, "offset": 1}]
    headers = last_request(bridge, "POST")
    assert headers["Content-Type"] == "application/vnd.kafka.json.v2+json"
    assert headers["Accept"] == V2


def test_per_record_failures_with_http_200_are_exposed_and_raisable(client: BridgeClient) -> None:
    offsets = client.produce("forbidden", [{"value": "a"}, {"value": "b"}])
    assert len(failed_records(offsets)) == 2
    with pytest.raises(BridgeError) as raised:
        raise_for_record_errors(offsets, "forbidden")
    assert raised.value.status == 200
    assert raised.value.error_code == 500
    assert "Not authorized to access topics" in str(raised.value)
    with pytest.raises(BridgeError, match="2 of 2 records"):
        client.produce_all("forbidden", [{"value": "a"}, {"value": "b"}])


def test_consumer_lifecycle_polls_through_the_join_and_commits(
    client: BridgeClient, bridge: FakeBridge
) -> None:
    client.produce_all("orders", [{"value": "one"}, {"value": "two"}])
    group, name = unique("group"), unique("consumer")
    base_uri = client.create_consumer(group, name)
    assert base_uri.endswith(f"/consumers/{group}/instances/{name}")
    config = bridge.state.consumers[(group, name)]["config"]
    assert config["format"] == "json"
    assert config["auto.offset.reset"] == "earliest"
    assert config["enable.auto.commit"] is False
    client.subscribe(group, name, ["orders"])
    records = client.poll_until(group, name, count=2, timeout_s=10, poll_timeout_ms=100)
    assert [r["value"] for r in records] == ["one", "two"]
    assert last_request(bridge, "GET")["Accept"] == "application/vnd.kafka.json.v2+json"
    assert bridge.state.consumers[(group, name)]["timeouts"][0] == ["100"]
    client.commit(group, name)
    client.delete_consumer(group, name)
    assert (group, name) not in bridge.state.consumers


def test_poll_until_times_out_or_returns_what_arrived(client: BridgeClient) -> None:
    group, name = unique("group"), unique("consumer")
    client.create_consumer(group, name)
    client.subscribe(group, name, ["orders"])
    with pytest.raises(WaitTimeout, match="0 of 1 records arrived"):
        client.poll_until(group, name, count=1, timeout_s=0.5, poll_timeout_ms=50)
    assert client.poll_until(group, name, count=1, timeout_s=0.3, poll_timeout_ms=50, allow_fewer=True) == []


@pytest.mark.parametrize(
    ("action", "status", "fragment"),
    [
        (lambda c, g, n: c.create_consumer(g, n), 409, "already exists"),
        (lambda c, g, n: c.poll(g, n, fmt="binary"), 406, "format does not match"),
        (lambda c, g, n: c.delete_consumer(g, "nobody"), 404, "not found"),
        (lambda c, g, n: c.get_topic("missing"), 404, "does not host"),
    ],
)
def test_error_statuses_become_bridge_errors(
    client: BridgeClient, action: Any, status: int, fragment: str
) -> None:
    group, name = unique("group"), unique("consumer")
    client.create_consumer(group, name)
    with pytest.raises(BridgeError) as raised:
        action(client, group, name)
    assert raised.value.status == status
    assert raised.value.error_code == status
    assert fragment in raised.value.bridge_message


def test_kafka_side_failures_while_polling_propagate_at_once(client: BridgeClient) -> None:
    name = unique("consumer")
    client.create_consumer("denied", name)
    client.subscribe("denied", name, ["orders"])
    with pytest.raises(BridgeError, match="Not authorized to access group") as raised:
        client.poll_until("denied", name, count=1, timeout_s=30)
    assert raised.value.status == 500


def test_topics_info_and_admin(client: BridgeClient) -> None:
    topic = unique("topic")
    client.create_topic(topic, partitions=1, replication_factor=1)
    assert topic in client.list_topics()
    assert client.get_topic(topic)["name"] == topic
    assert client.info() == {"bridge_version": "0.33.1"}


def test_health_on_the_main_port_for_old_bridges(bridge: FakeBridge) -> None:
    with BridgeClient(bridge.url, bridge_version="0.33.1") as old:
        assert old.healthy() and old.ready()  # 204 on the main port
    with BridgeClient(bridge.url, management_url=bridge.url) as wrong:
        assert not wrong.healthy()  # a >=1.0 management port must answer 200, not 204


def test_health_on_the_management_port_for_new_bridges(bridge: FakeBridge, management: FakeBridge) -> None:
    with BridgeClient(bridge.url, management_url=management.url) as new:
        assert new.healthy() and new.ready()
    assert management_url_for("http://127.0.0.1:8080", "1.1.0") == "http://127.0.0.1:8081"
    assert management_url_for("http://127.0.0.1:8080", "0.33.1") is None


def test_an_unreachable_bridge_is_a_bridge_error_and_unhealthy() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with BridgeClient(f"http://127.0.0.1:{port}", timeout=2) as gone:
        assert not gone.healthy()
        with pytest.raises(BridgeError, match="cannot reach the bridge") as raised:
            gone.list_topics()
    assert raised.value.status == 0


def test_requests_that_wait_on_kafka_get_the_kafka_bound_timeout() -> None:
    """The real bridges 0.31.2 and 1.1.0 took 6-10 s to answer their first POST /topics here (bridge log SEND
    Request → Response) while building the connection's Kafka producer (HttpBridge.java processProducer): over
    the client's 10 s read timeout once, failing a produce the bridge then answered 200. Requests that make the
    bridge call Kafka wait `kafka_timeout`; only the bridge's own answers (GET /, health) keep the short one."""
    seen: dict[str, float] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen[f"{request.method} {request.url.path}"] = request.extensions["timeout"]["read"]
        if request.url.path == "/consumers/g":
            return httpx.Response(
                200, json={"instance_id": "c", "base_uri": "http://b/consumers/g/instances/c"}
            )
        if request.method == "GET" and request.url.path.startswith("/topics/"):
            return httpx.Response(200, json={"name": "t", "partitions": []})
        if request.method == "POST" and request.url.path == "/topics/t":
            return httpx.Response(200, json={"offsets": [{"partition": 0, "offset": 0}]})
        if request.url.path.endswith("/records"):
            return httpx.Response(200, json=[])
        if request.url.path == "/":
            return httpx.Response(200, json={"bridge_version": "0.31.2"})
        return httpx.Response(201 if request.url.path == "/admin/topics" else 204)

    with BridgeClient("http://b", timeout=3, kafka_timeout=40, transport=httpx.MockTransport(answer)) as c:
        c.info()
        c.produce("t", [{"value": 1}])
        c.get_topic("t")
        c.create_topic("t2", 1, 1)
        c.create_consumer("g", "c")
        c.subscribe("g", "c", ["t"])
        c.poll("g", "c", timeout_ms=2000)
        c.commit("g", "c", [{"topic": "t", "partition": 0, "offset": 1}])
        c.delete_consumer("g", "c")
    assert seen.pop("GET /") == 3
    assert seen.pop("GET /consumers/g/instances/c/records") == 42  # plus the bridge's own poll timeout
    assert set(seen.values()) == {40}, seen
    assert len(seen) == 7
