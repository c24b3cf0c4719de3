"""Kafka clients (kafka-python 3.x) with bounded timeouts, private PEM files and errors mapped to kconform's.

`execute(req)` performs one operation of the request protocol in `operations` and always returns a response
dict. The builders `producer`, `consumer` and `admin` are context managers for callers that want a client
object: they write TLS material to a private directory, bound every timeout, translate kafka-python
failures into `kconform.errors` and always close the client and remove the files.

Connection failures are diagnosed after the fact by probing the addresses involved (bootstrap first, then
the brokers' advertised addresses learnt from metadata), because kafka-python only reports "Unable to
bootstrap" or a timeout; the probe names the address that could not be reached or refused the handshake.
SASL gets two more probes: a SaslHandshake tells a client that did not speak SASL that the listener expects
it (ProtocolMismatch), and one SCRAM exchange tells a SASL client that its password was refused
(AuthenticationFailed).

Its parts, each with one job: `kafka_probes` (reachability and SASL probes), `kafka_failures` (diagnosis and
error translation), `kafka_builders` (configured clients); this module performs the operations and keeps
their public names importable from here. All of them are shipped into a client pod with `remote`: they import
only the stdlib, kafka-python, `kconform.errors` and `kconform.clients.*`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import kafka.errors as kafka_errors
from kafka import TopicPartition

from kconform import errors
from kconform.clients import operations
from kconform.clients.kafka_builders import (
    DEFAULT_TIMEOUT_S,
    admin,
    consumer,
    consumer_args,
    open_session,
    producer,
    producer_args,
    tls_files,
)
from kconform.clients.kafka_failures import (
    check_advertised,
    cluster_of,
    diagnose_connectivity,
    known_brokers,
    translate,
)
from kconform.clients.kafka_probes import (
    PROBE_TIMEOUT_S,
    Address,
    parse_bootstrap,
    probe,
    sasl_mechanisms,
    scram_refusal,
)
from kconform.clients.kafka_refusals import refusal, run_until_refused
from kconform.clients.operations import Credentials, Endpoint

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "PROBE_TIMEOUT_S",
    "Address",
    "admin",
    "check_advertised",
    "consumer",
    "diagnose_connectivity",
    "execute",
    "parse_bootstrap",
    "parse_request",
    "probe",
    "producer",
    "sasl_mechanisms",
    "scram_refusal",
    "tls_files",
    "translate",
]


# --------------------------------------------------------------------------------------------------------
# Operations of the request protocol
# --------------------------------------------------------------------------------------------------------


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


def _required(args: dict[str, Any], name: str, op: str) -> Any:
    if args.get(name) in (None, ""):
        raise errors.UsageError(f"client operation {op!r} needs args.{name}")
    return args[name]


def _produce(endpoint: Endpoint, credentials: Credentials | None, args: dict[str, Any]) -> dict[str, Any]:
    topic = _required(args, "topic", "produce")
    values = [str(v) for v in args.get("values") or []]
    key = args.get("key")
    timeout_s = float(args.get("timeout_s") or DEFAULT_TIMEOUT_S)
    deadline = _Deadline(timeout_s)
    # enable_idempotence=False makes a missing topic Write fail as TopicAuthorizationFailed instead of
    # the InitProducerId ClusterAuthorizationFailed an idempotent producer gets (STRIMZI_FACTS §6).
    idempotent = bool(args.get("idempotent", True))
    overrides = {"enable_idempotence": idempotent}
    with open_session(*producer_args(endpoint, credentials, timeout_s, overrides)) as session:
        client = session.client
        check_advertised(endpoint, client)
        futures = [
            client.send(topic, value=value.encode(), key=key.encode() if key is not None else None)
            for value in values
        ]
        client.flush(timeout=deadline.remaining())
        offsets = []
        for future in futures:
            metadata = future.get(timeout=max(deadline.remaining(), 0.001))
            offsets.append({"partition": metadata.partition, "offset": metadata.offset})
    return {"offsets": offsets}


def _raise_if_unauthorized(client: Any, topic: str) -> None:
    """kafka-python records a topic the broker refused in metadata (and logs it) instead of raising from
    poll(); surface it as the TopicAuthorizationFailedError the broker answered, as the Java consumer does."""
    cluster = cluster_of(client)
    if topic in getattr(cluster, "unauthorized_topics", ()):
        raise kafka_errors.TopicAuthorizationFailedError(f"Not authorized to access topics: [{topic}]")


def _decode(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="replace")


def _consume(endpoint: Endpoint, credentials: Credentials | None, args: dict[str, Any]) -> dict[str, Any]:
    topic = _required(args, "topic", "consume")
    group = args.get("group")
    count = int(args.get("count") or 1)
    timeout_s = float(args.get("timeout_s") or DEFAULT_TIMEOUT_S)
    reset = "earliest" if args.get("from_beginning", True) else "latest"
    deadline = _Deadline(timeout_s)
    records: list[dict[str, Any]] = []
    action = f"consume from topic {topic!r}" + (f" as group {group!r}" if group else "")
    overrides = {"group_id": group, "auto_offset_reset": reset}
    with open_session(*consumer_args(endpoint, credentials, timeout_s, overrides)) as session:
        client = session.client
        check_advertised(endpoint, client)
        if group:
            client.subscribe([topic])
        else:
            partitions = client.partitions_for_topic(topic)
            if not partitions:
                raise errors.ClientError(
                    f"{action}: topic has no visible partitions (missing or no Describe)"
                )
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            client.assign(assigned)
            if reset == "earliest":
                client.seek_to_beginning(*assigned)
        while len(records) < count and deadline.remaining() > 0:
            _raise_if_unauthorized(client, topic)
            batch = client.poll(
                timeout_ms=int(min(deadline.remaining(), 1.0) * 1000), max_records=count - len(records)
            )
            for partition_records in batch.values():
                records.extend(
                    {
                        "key": _decode(record.key),
                        "value": _decode(record.value),
                        "partition": record.partition,
                        "offset": record.offset,
                    }
                    for record in partition_records
                )
        if len(records) < count:
            # Fewer records than asked is a normal answer only when every broker is reachable.
            cause = session.diagnose()
            if cause is not None:
                raise type(cause)(f"{action}: {cause}")
        commit_error = None
        if group and records and args.get("commit", True):
            try:
                client.commit()
            except Exception as err:
                # The broker may have stored offsets whose answer never came (a commit that timed out in a
                # broker roll): the records read go back with the failure, so no caller loses them.
                failure = translate(
                    err, f"{action}: commit offsets", endpoint, session.ssl_settings, client, session.spoken
                )
                commit_error = operations.error_response(failure)["error"]
    return (
        {"records": records} if commit_error is None else {"records": records, "commit_error": commit_error}
    )


def _create_topic(
    endpoint: Endpoint, credentials: Credentials | None, args: dict[str, Any]
) -> dict[str, Any]:
    topic = _required(args, "topic", "create_topic")
    timeout_s = float(args.get("timeout_s") or DEFAULT_TIMEOUT_S)
    spec = {
        "num_partitions": int(args.get("partitions") or 1),
        "replication_factor": int(args.get("replicas") or 1),
    }
    with admin(endpoint, credentials, timeout_s=timeout_s) as client:
        check_advertised(endpoint, client)  # the controller is reached at its advertised address
        client.create_topics({topic: spec}, timeout_ms=int(timeout_s * 1000))
    return {}


def _delete_topic(
    endpoint: Endpoint, credentials: Credentials | None, args: dict[str, Any]
) -> dict[str, Any]:
    topic = _required(args, "topic", "delete_topic")
    timeout_s = float(args.get("timeout_s") or DEFAULT_TIMEOUT_S)
    with admin(endpoint, credentials, timeout_s=timeout_s) as client:
        check_advertised(endpoint, client)
        client.delete_topics([topic], timeout_ms=int(timeout_s * 1000))
    return {}


def _list_topics(endpoint: Endpoint, credentials: Credentials | None, args: dict[str, Any]) -> dict[str, Any]:
    with admin(endpoint, credentials, timeout_s=float(args.get("timeout_s") or DEFAULT_TIMEOUT_S)) as client:
        return {"topics": sorted(client.list_topics())}


def _cluster_metadata(
    endpoint: Endpoint, credentials: Credentials | None, args: dict[str, Any]
) -> dict[str, Any]:
    """The brokers as the bootstrap's metadata advertises them (no connection to those addresses needed)."""
    with admin(endpoint, credentials, timeout_s=float(args.get("timeout_s") or DEFAULT_TIMEOUT_S)) as client:
        brokers = [
            {"node_id": node_id, "host": address.host, "port": address.port}
            for node_id, address in known_brokers(client)
        ]
        controller = getattr(cluster_of(client), "controller", None)
    return {
        "brokers": sorted(brokers, key=lambda b: b["node_id"]),
        "controller_id": getattr(controller, "node_id", None),
    }


_HANDLERS: dict[str, Callable[[Endpoint, Credentials | None, dict[str, Any]], dict[str, Any]]] = {
    "produce": _produce,
    "consume": _consume,
    "create_topic": _create_topic,
    "delete_topic": _delete_topic,
    "list_topics": _list_topics,
    "cluster_metadata": _cluster_metadata,
}


def parse_request(req: Any) -> tuple[str, Endpoint, Credentials | None, dict[str, Any]]:
    """Validate a protocol request; a malformed one is a UsageError naming what is wrong."""
    if not isinstance(req, dict):
        raise errors.UsageError("a client request must be a JSON object with op, endpoint, credentials, args")
    op = req.get("op")
    if op not in _HANDLERS:
        raise errors.UsageError(
            f"unknown client operation {op!r}; expected one of {', '.join(operations.OPERATIONS)}"
        )
    endpoint_data = req.get("endpoint")
    if not isinstance(endpoint_data, dict) or not endpoint_data.get("bootstrap"):
        raise errors.UsageError("request.endpoint must be an object with 'bootstrap' (host:port) and 'tls'")
    endpoint = Endpoint(bootstrap=str(endpoint_data["bootstrap"]), tls=bool(endpoint_data.get("tls", False)))
    parse_bootstrap(endpoint.bootstrap)
    credentials_data = req.get("credentials")
    credentials = None
    if credentials_data is not None:
        if not isinstance(credentials_data, dict):
            raise errors.UsageError(
                "request.credentials must be an object (ca_crt, user_crt, user_key, sasl_*) or null"
            )
        known = {
            "ca_crt",
            "user_crt",
            "user_key",
            "check_hostname",
            "sasl_mechanism",
            "sasl_username",
            "sasl_password",
        }
        unknown = sorted(set(credentials_data) - known)
        if unknown:
            raise errors.UsageError(
                f"request.credentials has unknown keys {unknown}; allowed: {sorted(known)}"
            )
        credentials = Credentials(**credentials_data)
    args = req.get("args") or {}
    if not isinstance(args, dict):
        raise errors.UsageError("request.args must be an object")
    return op, endpoint, credentials, args


def _perform(op: str, endpoint: Endpoint, credentials: Credentials | None, args: dict[str, Any]) -> Any:
    handler = _HANDLERS[op]
    if not args.get("stop_at_refusal"):
        return handler(endpoint, credentials, args)
    return run_until_refused(
        lambda: handler(endpoint, credentials, args),
        lambda: refusal(f"{op} at {endpoint.bootstrap}", endpoint, credentials),
        timeout_s=float(args.get("timeout_s") or DEFAULT_TIMEOUT_S),
    )


def execute(req: dict[str, Any]) -> dict[str, Any]:
    """Perform one protocol request; failures come back as an error response, never as an exception."""
    try:
        op, endpoint, credentials, args = parse_request(req)
        return {"ok": True, "result": _perform(op, endpoint, credentials, args)}
    except errors.KconformError as err:
        return operations.error_response(err)
    except Exception as err:  # a remote runner must always answer; keep the type for debugging
        return operations.error_response(errors.ClientError(f"{type(err).__name__}: {err}"))
