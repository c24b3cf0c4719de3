"""A client for the Strimzi HTTP bridge REST API (httpx), with the bridge's documented media types.

Every HTTP error status becomes `BridgeError(status, message, error_code)` with the bridge's own JSON error
message; a bridge that cannot be reached at all is `BridgeError(0, ...)`. Produce is special: per-record
failures (authorization included) come back as HTTP 200 with `error_code` entries in `offsets`; `produce`
returns them as they are and `raise_for_record_errors` turns them into a BridgeError.

Health endpoints moved in bridge 1.0.0: `/healthy` and `/ready` are served on the management port (8081)
and answer 200; up to 0.33.x they are on the main port and answer 204. Pass `management_url`, or a
`bridge_version` from which the client derives it (same host, port 8081).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from kconform.errors import BridgeError, WaitTimeout
from kconform.waits import wait_until

V2 = "application/vnd.kafka.v2+json"
FORMATS = ("json", "binary", "text")
DEFAULT_MANAGEMENT_PORT = 8081
# A request that makes the bridge use a Kafka client is answered only when that client is done. The first one on a
# connection also builds the client (HttpBridge.java processProducer creates a KafkaBridgeProducer per connection),
# which took 6-10 s for the first POST /topics of the real bridges 0.31.2 and 1.1.0 on a loaded 2-core machine; a
# send may then block for metadata up to the producer's max.block.ms (KafkaBridgeProducer.java; 60 s by default),
# and admin and consumer calls are bounded by Kafka's default.api.timeout.ms (60 s). Waiting a little longer than
# those bounds lets the bridge answer with its own error rather than the client cutting it off blind.
KAFKA_BOUND_TIMEOUT_S = 75.0


def embedded_media_type(fmt: str) -> str:
    """The media type of records in `fmt` (json | binary | text)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown bridge record format {fmt!r}; use one of {', '.join(FORMATS)}")
    return f"application/vnd.kafka.{fmt}.v2+json"


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def management_url_for(base_url: str, bridge_version: str | None) -> str | None:
    """Where /healthy and /ready live: the management port for bridge ≥1.0.0, else None (the main port)."""
    if bridge_version is None or _version_tuple(bridge_version) < (1, 0, 0):
        return None
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"[{host}]:{DEFAULT_MANAGEMENT_PORT}" if ":" in host else f"{host}:{DEFAULT_MANAGEMENT_PORT}"
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def failed_records(offsets: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries of a produce response that carry an error instead of an offset."""
    return [entry for entry in offsets if entry.get("error_code") is not None]


def raise_for_record_errors(offsets: Sequence[Mapping[str, Any]], topic: str = "") -> None:
    """Raise BridgeError (HTTP status 200, the record's error_code) if any record of a produce failed."""
    failed = failed_records(offsets)
    if failed:
        first = failed[0]
        where = f" to topic {topic!r}" if topic else ""
        raise BridgeError(
            200,
            f"{len(failed)} of {len(offsets)} records{where} failed: {first.get('message', '')}",
            error_code=first.get("error_code"),
        )


def _segment(value: str) -> str:
    return quote(value, safe="")


class BridgeClient:
    """REST calls to one bridge; a context manager that closes its HTTP connection pool."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        kafka_timeout: float = KAFKA_BOUND_TIMEOUT_S,
        management_url: str | None = None,
        bridge_version: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.kafka_timeout = kafka_timeout  # for requests the bridge answers after a Kafka client call
        self.management_url = (
            management_url or management_url_for(self.base_url, bridge_version) or ""
        ).rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing ------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        expect: tuple[int, ...],
        body: Any = None,
        content_type: str | None = None,
        accept: str = V2,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        kafka: bool = True,
    ) -> httpx.Response:
        """One request; `kafka=False` for the few the bridge answers without a Kafka client (the client's
        `timeout`), else `timeout` or `kafka_timeout`."""
        headers = {"Accept": accept}
        if content_type is not None:
            headers["Content-Type"] = content_type
        kwargs: dict[str, Any] = {"headers": headers, "params": params}
        if body is not None:
            kwargs["content"] = json.dumps(body).encode()
        if timeout is not None:
            kwargs["timeout"] = timeout
        elif kafka:
            kwargs["timeout"] = self.kafka_timeout
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TransportError as err:
            raise BridgeError(
                0, f"cannot reach the bridge at {self.base_url} ({method} {url}): {err}"
            ) from err
        if response.status_code not in expect:
            raise _error_from(response, method, url)
        return response

    # -- producing -----------------------------------------------------------------------------------

    def produce(
        self,
        topic: str,
        records: Sequence[Mapping[str, Any]],
        fmt: str = "json",
        partition: int | None = None,
    ) -> list[dict[str, Any]]:
        """POST records shaped {"value", "key"?, "partition"?, "headers"?}; per-record offsets or errors."""
        url = f"/topics/{_segment(topic)}" + (f"/partitions/{partition}" if partition is not None else "")
        response = self._request(
            "POST", url, expect=(200,), body={"records": list(records)}, content_type=embedded_media_type(fmt)
        )
        return list(response.json().get("offsets", []))

    def produce_all(
        self, topic: str, records: Sequence[Mapping[str, Any]], fmt: str = "json"
    ) -> list[dict[str, Any]]:
        """`produce`, raising BridgeError if any record failed."""
        offsets = self.produce(topic, records, fmt)
        raise_for_record_errors(offsets, topic)
        return offsets

    # -- consuming -----------------------------------------------------------------------------------

    def _instance(self, group: str, name: str) -> str:
        return f"/consumers/{_segment(group)}/instances/{_segment(name)}"

    def create_consumer(
        self,
        group: str,
        name: str,
        fmt: str = "json",
        auto_offset_reset: str = "earliest",
        enable_auto_commit: bool = False,
        **config: Any,
    ) -> str:
        """Create consumer `name` in `group`; returns its base_uri. Extra config uses the bridge's keys."""
        embedded_media_type(fmt)  # validates fmt
        body = {
            "name": name,
            "format": fmt,
            "auto.offset.reset": auto_offset_reset,
            "enable.auto.commit": enable_auto_commit,
            **config,
        }
        response = self._request(
            "POST", f"/consumers/{_segment(group)}", expect=(200,), body=body, content_type=V2
        )
        return str(response.json()["base_uri"])

    def subscribe(self, group: str, name: str, topics: Sequence[str]) -> None:
        self._request(
            "POST",
            f"{self._instance(group, name)}/subscription",
            expect=(204,),
            body={"topics": list(topics)},
            content_type=V2,
        )

    def poll(
        self, group: str, name: str, fmt: str = "json", timeout_ms: int = 1000, max_bytes: int | None = None
    ) -> list[dict[str, Any]]:
        """One GET of records; often [] while the group is still joining."""
        params: dict[str, Any] = {"timeout": timeout_ms}
        if max_bytes is not None:
            params["max_bytes"] = max_bytes
        response = self._request(
            "GET",
            f"{self._instance(group, name)}/records",
            expect=(200,),
            accept=embedded_media_type(fmt),
            params=params,
            # The bridge holds the request up to timeout_ms; give the HTTP read that much more.
            timeout=self.kafka_timeout + timeout_ms / 1000,
        )
        return list(response.json())

    def poll_until(
        self,
        group: str,
        name: str,
        count: int,
        timeout_s: float,
        fmt: str = "json",
        *,
        poll_timeout_ms: int = 1000,
        allow_fewer: bool = False,
    ) -> list[dict[str, Any]]:
        """Poll until `count` records arrived or `timeout_s` passed (each poll is a bounded long-poll).

        A bridge error (e.g. 500 for a refused group/topic ACL) propagates at once. At the deadline the
        records seen so far are returned if `allow_fewer`, else WaitTimeout says how many arrived.
        """
        records: list[dict[str, Any]] = []

        def enough() -> bool:
            records.extend(self.poll(group, name, fmt, timeout_ms=poll_timeout_ms))
            return len(records) >= count

        try:
            wait_until(
                enough,
                describe=f"{count} records from bridge consumer {group}/{name}",
                timeout=timeout_s,
                interval=0.0,
                diagnose=lambda: f"{len(records)} of {count} records arrived",
            )
        except WaitTimeout:
            if allow_fewer:
                return records
            raise
        return records

    def commit(self, group: str, name: str, offsets: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Commit the given offsets ({topic, partition, offset}), or everything consumed when None."""
        body = {"offsets": list(offsets)} if offsets is not None else None
        self._request(
            "POST", f"{self._instance(group, name)}/offsets", expect=(204,), body=body, content_type=V2
        )

    def delete_consumer(self, group: str, name: str) -> None:
        self._request("DELETE", self._instance(group, name), expect=(204,), content_type=V2)

    # -- topics and admin ----------------------------------------------------------------------------

    def list_topics(self) -> list[str]:
        return list(self._request("GET", "/topics", expect=(200,)).json())

    def get_topic(self, topic: str) -> dict[str, Any]:
        """Topic metadata; the bridge needs Describe AND DescribeConfigs on the topic for this."""
        return dict(self._request("GET", f"/topics/{_segment(topic)}", expect=(200,)).json())

    def create_topic(
        self, topic: str, partitions: int | None = None, replication_factor: int | None = None
    ) -> None:
        """POST /admin/topics (bridge 0.31+)."""
        body = {"topic_name": topic, "partitions_count": partitions, "replication_factor": replication_factor}
        self._request(
            "POST", "/admin/topics", expect=(201,), body=body, content_type=embedded_media_type("json")
        )

    # -- bridge itself -------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """GET / → {"bridge_version": ...}."""
        return dict(self._request("GET", "/", expect=(200,), accept="application/json", kafka=False).json())

    def _probe_health(self, path: str) -> bool:
        # bridge >=1.0.0 answers 200 on the management port; older bridges 204 on the main port.
        url, ok = (f"{self.management_url}{path}", (200,)) if self.management_url else (path, (200, 204))
        try:
            response = self._http.get(url)
        except httpx.TransportError:
            return False
        return response.status_code in ok

    def healthy(self) -> bool:
        """True when the bridge's liveness endpoint answers success; False on any error or no answer."""
        return self._probe_health("/healthy")

    def ready(self) -> bool:
        """True when the bridge's readiness endpoint answers success; False on any error or no answer."""
        return self._probe_health("/ready")


def _error_from(response: httpx.Response, method: str, url: str) -> BridgeError:
    message = response.text[:500] or response.reason_phrase
    error_code: int | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or message)
        code = body.get("error_code")
        error_code = int(code) if isinstance(code, int) else None
    return BridgeError(response.status_code, f"{method} {url}: {message}", error_code)
