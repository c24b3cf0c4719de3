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

This module may be shipped into a client pod with `remote`: it imports only the stdlib, kafka-python,
`kconform.errors` and `kconform.clients.operations`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kafka.errors as kafka_errors
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from kconform import errors
from kconform.clients import operations
from kconform.clients.operations import Credentials, Endpoint

DEFAULT_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S = 3.0
# kafka-python's consumer requires fetch_max_wait_ms (500 by default) < request_timeout_ms.
_MIN_REQUEST_TIMEOUT_MS = 1000
_CLIENT_ID = "kconform"

_AUTHORIZATION_SCOPES: tuple[tuple[type[Exception], str], ...] = (
    (kafka_errors.TopicAuthorizationFailedError, "topic"),
    (kafka_errors.GroupAuthorizationFailedError, "group"),
    (kafka_errors.ClusterAuthorizationFailedError, "cluster"),
    (kafka_errors.TransactionalIdAuthorizationFailedError, "transactional_id"),
)
# Failures that may hide an unreachable address or a refused handshake: diagnose them with a probe.
_CONNECTIVITY_ERRORS: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaTimeoutError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.MetadataEmptyBrokerList,
    OSError,
)


# --------------------------------------------------------------------------------------------------------
# Addresses and reachability probes
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_bootstrap(bootstrap: str) -> list[Address]:
    """`host:port[,host:port...]` (IPv6 as `[addr]:port`) → addresses; bad input is a UsageError."""
    addresses = []
    for item in (part.strip() for part in bootstrap.split(",")):
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit():
            raise errors.UsageError(
                f"bootstrap address {item!r} is not host:port; pass e.g. 'my-cluster-kafka-bootstrap:9092'"
            )
        addresses.append(Address(host, int(port)))
    return addresses


def _api_versions_request() -> bytes:
    # ApiVersions v0 (api key 18): every broker answers it before authentication, so a reply proves the
    # TLS session is really usable (TLS 1.3 servers reject a missing client certificate only after the
    # client's handshake has completed).
    client_id = _CLIENT_ID.encode()
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    return struct.pack(">i", len(body)) + body


def _tls_context(tls_files: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = bool(tls_files.get("ssl_check_hostname", True))
    if tls_files.get("ssl_cafile"):
        context.load_verify_locations(tls_files["ssl_cafile"])
    else:
        context.load_default_certs()
    if tls_files.get("ssl_certfile"):
        context.load_cert_chain(tls_files["ssl_certfile"], tls_files.get("ssl_keyfile"))
    return context


def probe(address: Address, tls_files: dict[str, Any] | None, *, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Connect to `address` (and with TLS, complete a handshake and one request); raise what went wrong.

    Raises BrokerUnreachable naming the address when it does not resolve or refuses/drops the TCP
    connection, AuthenticationFailed when the TLS handshake or the first TLS exchange is refused.
    """
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise errors.BrokerUnreachable(f"cannot resolve {address}: {err.strerror}") from err
    family, kind, proto, _, sockaddr = infos[0]
    try:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except OSError as err:
        sock.close()
        raise errors.BrokerUnreachable(f"cannot connect to {address}: {err}") from err
    if tls_files is None:
        sock.close()
        return
    try:
        with _tls_context(tls_files).wrap_socket(sock, server_hostname=address.host) as tls:
            tls.sendall(_api_versions_request())
            if len(tls.recv(4)) < 4:
                raise ConnectionResetError("connection closed by the broker")
    except ssl.SSLError as err:
        raise errors.AuthenticationFailed(f"TLS with {address} refused: {err}") from err
    except TimeoutError as err:
        raise errors.BrokerUnreachable(
            f"{address} accepted TCP but did not answer over TLS in {timeout:.0f}s"
        ) from err
    except ConnectionError as err:
        detail = str(err) or type(err).__name__
        hint = "" if tls_files.get("ssl_certfile") else " (no client certificate was presented)"
        raise errors.AuthenticationFailed(
            f"TLS with {address} failed: the broker closed the connection ({detail}){hint}"
        ) from err
    except OSError as err:
        raise errors.BrokerUnreachable(f"connection to {address} failed: {err}") from err
    finally:
        sock.close()


def _frame(api_key: int, version: int, correlation_id: int, body: bytes) -> bytes:
    """A request with header v1 (api key, version, correlation id, client id) and a size prefix."""
    client_id = _CLIENT_ID.encode()
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    return struct.pack(">i", len(header) + len(body)) + header + body


def _sasl_handshake_request(mechanism: str) -> bytes:
    # SaslHandshake v1 (api key 17). A SASL listener answers it before authentication with its enabled
    # mechanisms; a listener without SASL answers ILLEGAL_SASL_STATE (34).
    wanted = mechanism.encode()
    return _frame(17, 1, 2, struct.pack(">h", len(wanted)) + wanted)


def _read_exactly(sock: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("connection closed by the broker")
        data += chunk
    return data


@contextlib.contextmanager
def _probe_connection(address: Address, tls_files: dict[str, Any] | None, timeout: float) -> Iterator[Any]:
    """A socket to the listener at `address` (TLS when `tls_files` is given), closed afterwards; OSError
    when it cannot be opened."""
    raw = socket.create_connection((address.host, address.port), timeout=timeout)
    try:
        sock: Any = raw
        if tls_files is not None:
            sock = _tls_context(tls_files).wrap_socket(raw, server_hostname=address.host)
        yield sock
    finally:
        raw.close()


def sasl_mechanisms(
    address: Address, tls_files: dict[str, Any] | None, *, timeout: float = PROBE_TIMEOUT_S
) -> list[str] | None:
    """The SASL mechanisms the listener at `address` enables, or None when it does not speak SASL.

    Asks with a SaslHandshake request, which a SASL listener answers before any authentication."""
    try:
        with _probe_connection(address, tls_files, timeout) as sock:
            sock.sendall(_sasl_handshake_request(operations.SCRAM_SHA_512))
            (size,) = struct.unpack(">i", _read_exactly(sock, 4))
            payload = _read_exactly(sock, size)
    except (OSError, struct.error):
        return None
    # correlation id (int32), error code (int16), mechanisms: array of int16-length strings
    (error_code,) = struct.unpack_from(">h", payload, 4)
    (count,) = struct.unpack_from(">i", payload, 6)
    if error_code == 34 or count < 0:  # ILLEGAL_SASL_STATE: this listener does no SASL
        return None
    mechanisms, offset = [], 10
    for _ in range(count):
        (length,) = struct.unpack_from(">h", payload, offset)
        mechanisms.append(payload[offset + 2 : offset + 2 + length].decode("utf-8", "replace"))
        offset += 2 + length
    return mechanisms


def _response(sock: Any) -> bytes:
    (size,) = struct.unpack(">i", _read_exactly(sock, 4))
    return _read_exactly(sock, size)


def _sasl_authenticate(sock: Any, correlation_id: int, token: bytes) -> tuple[int, str, bytes]:
    """One SaslAuthenticate v0 round trip (api key 36): (error code, error message, server bytes)."""
    sock.sendall(_frame(36, 0, correlation_id, struct.pack(">i", len(token)) + token))
    payload = _response(sock)
    (error_code, message_length) = struct.unpack_from(">hh", payload, 4)
    offset = 8 + max(message_length, 0)
    message = payload[8:offset].decode("utf-8", "replace") if message_length > 0 else ""
    (length,) = struct.unpack_from(">i", payload, offset)
    return error_code, message, payload[offset + 4 : offset + 4 + max(length, 0)]


def scram_refusal(
    address: Address,
    tls_files: dict[str, Any] | None,
    credentials: Credentials,
    *,
    timeout: float = PROBE_TIMEOUT_S,
) -> str | None:
    """Authenticate once with SCRAM and return why the broker refused, or None if it accepted (or the
    exchange could not be completed for another reason, which the other probes report)."""
    from kafka.net.sasl.scram import ScramClient  # kafka-python's SCRAM arithmetic

    mechanism = credentials.sasl_mechanism or operations.SCRAM_SHA_512
    scram = ScramClient(credentials.sasl_username or "", credentials.sasl_password or "", mechanism)
    try:
        with _probe_connection(address, tls_files, timeout) as sock:
            sock.sendall(_sasl_handshake_request(mechanism))
            if struct.unpack_from(">h", _response(sock), 4)[0] != 0:
                return None
            code, message, server_first = _sasl_authenticate(sock, 3, scram.first_message())
            if code:
                return message or f"error code {code}"
            scram.process_server_first_message(server_first)
            try:
                code, message, _ = _sasl_authenticate(sock, 4, scram.final_message())
            except ConnectionError:
                return "the broker closed the connection after the client's SCRAM proof (invalid credentials)"
            return (message or f"error code {code}") if code else None
    except (OSError, ValueError, struct.error):
        return None


def _cluster_of(client: Any) -> Any:
    # kafka-python 3.x keeps its metadata cache (ClusterMetadata) under a different private name per client:
    # producer._metadata, consumer._cluster, admin._manager.cluster.
    cluster = getattr(client, "_metadata", None) or getattr(client, "_cluster", None)
    return cluster if cluster is not None else getattr(getattr(client, "_manager", None), "cluster", None)


def _known_brokers(client: Any) -> list[tuple[Any, Address]]:
    """(node_id, advertised address) pairs from the client's metadata cache, [] if it never bootstrapped."""
    cluster = _cluster_of(client)
    brokers = cluster.brokers() if cluster is not None else []
    return [(broker.node_id, Address(broker.host, int(broker.port))) for broker in brokers]


def diagnose_connectivity(
    endpoint: Endpoint, tls_files: dict[str, Any] | None, client: Any = None, spoken: str | None = None
) -> errors.ClientError | None:
    """The connectivity problem behind a failure, or None if every address involved answers.

    `spoken` is the client's security protocol: a client that did not speak SASL to a listener that
    expects it gets a ProtocolMismatch saying both (the broker drops such connections, kafka-python only
    times out)."""
    reached = []
    for address in parse_bootstrap(endpoint.bootstrap):
        try:
            probe(address, tls_files)
        except errors.ClientError as err:
            if isinstance(err, errors.AuthenticationFailed):
                return err
            last_bootstrap_error: errors.ClientError = err
        else:
            reached.append(address)
    if not reached:
        return errors.BrokerUnreachable(f"bootstrap {endpoint.bootstrap} unreachable: {last_bootstrap_error}")
    if spoken is not None and not spoken.startswith("SASL_"):
        mechanisms = sasl_mechanisms(reached[0], tls_files)
        if mechanisms is not None:
            return errors.ProtocolMismatch(
                f"the client spoke {spoken}, but the listener at {reached[0]} expects SASL_{spoken} "
                f"(enabled mechanisms: {', '.join(mechanisms) or 'none'}): the broker drops requests sent "
                f"before SASL authentication; set the client's security.protocol to SASL_{spoken} with "
                "SCRAM credentials from the KafkaUser Secret"
            )
    for node_id, address in _known_brokers(client) if client is not None else []:
        try:
            probe(address, tls_files)
        except errors.ClientError as err:
            return type(err)(
                f"bootstrap {reached[0]} answered, but broker {node_id} advertises {address}, "
                f"which this client cannot use: {err}"
            )
    return None


def check_advertised(endpoint: Endpoint, client: Any, *, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail fast when the bootstrap's metadata advertises brokers this client cannot reach.

    kafka-python would retry an unresolvable or unreachable advertised address until its request timeout
    runs out; a bounded resolve and TCP connect per advertised address finds it in seconds and names every
    such broker. Addresses that answer are left to the client (TLS problems are diagnosed after a failure).
    """
    unreachable = []
    for node_id, address in _known_brokers(client):
        try:
            probe(address, None, timeout=timeout)
        except errors.BrokerUnreachable as err:
            unreachable.append(f"broker {node_id} advertises {address} ({err})")
    if unreachable:
        raise errors.BrokerUnreachable(
            f"bootstrap {endpoint.bootstrap} answered, but this client cannot use the advertised "
            f"addresses: {'; '.join(unreachable)}"
        )


# --------------------------------------------------------------------------------------------------------
# Error translation
# --------------------------------------------------------------------------------------------------------


def translate(
    err: BaseException,
    action: str,
    endpoint: Endpoint,
    tls_files: dict[str, Any] | None = None,
    client: Any = None,
    spoken: str | None = None,
) -> errors.KconformError:
    """Map a kafka-python / socket / TLS failure during `action` to the kconform error a scenario asserts."""
    if isinstance(err, errors.KconformError):
        return err
    for kind, scope in _AUTHORIZATION_SCOPES:
        # The idempotent producer wraps InitProducerId's ClusterAuthorizationFailedError in a plain
        # KafkaError that only names it: recognise the class by name too.
        if isinstance(err, kind) or kind.__name__ in str(err):
            return errors.AuthorizationFailed(scope, f"{action}: not authorized ({scope}): {err}")
    if isinstance(err, kafka_errors.SaslAuthenticationFailedError | ssl.SSLError):
        return errors.AuthenticationFailed(f"{action}: authentication failed: {err}")
    if isinstance(err, _CONNECTIVITY_ERRORS):
        cause = diagnose_connectivity(endpoint, tls_files, client, spoken)
        if cause is not None:
            return type(cause)(f"{action}: {cause}")
        return errors.ClientError(
            f"{action}: {type(err).__name__}: {err} (all broker addresses answered a probe)"
        )
    # kafka-python's broker errors embed whole request/response reprs; keep the readable start.
    detail = str(err)
    return errors.ClientError(
        f"{action}: {type(err).__name__}: {detail[:300]}{'…' if len(detail) > 300 else ''}"
    )


# --------------------------------------------------------------------------------------------------------
# Client configuration and builders
# --------------------------------------------------------------------------------------------------------


def _write_private(path: Path, content: str) -> None:
    # O_EXCL + 0600 at creation: the key is never readable by anyone else, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(content)


@contextlib.contextmanager
def tls_files(credentials: Credentials | None) -> Iterator[dict[str, Any]]:
    """kafka-python ssl_* settings; PEM files in a private temp dir (0700, files 0600), removed after."""
    if credentials is None:
        yield {}
        return
    if bool(credentials.user_crt) != bool(credentials.user_key):
        raise errors.UsageError(
            "credentials need both user_crt and user_key (from the KafkaUser Secret) or neither"
        )
    directory = Path(tempfile.mkdtemp(prefix="kconform-tls-"))  # mkdtemp creates it 0700
    try:
        settings: dict[str, Any] = {"ssl_check_hostname": credentials.check_hostname}
        for setting, name, content in (
            ("ssl_cafile", "ca.crt", credentials.ca_crt),
            ("ssl_certfile", "user.crt", credentials.user_crt),
            ("ssl_keyfile", "user.key", credentials.user_key),
        ):
            if content:
                _write_private(directory / name, content)
                settings[setting] = str(directory / name)
        yield settings
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _timeouts(timeout_s: float) -> dict[str, int]:
    timeout_ms = max(_MIN_REQUEST_TIMEOUT_MS, int(timeout_s * 1000))
    return {"request_timeout_ms": timeout_ms, "bootstrap_timeout_ms": timeout_ms}


def _base_config(
    endpoint: Endpoint, ssl_settings: dict[str, Any], timeout_s: float, credentials: Credentials | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": [str(a) for a in parse_bootstrap(endpoint.bootstrap)],
        "client_id": _CLIENT_ID,
        "security_protocol": operations.security_protocol(endpoint, credentials),
        # Bounded reconnect backoff so a retry inside a short timeout still happens.
        "reconnect_backoff_max_ms": 1000,
        **_timeouts(timeout_s),
    }
    if endpoint.tls:
        config.update(ssl_settings)
    if credentials is not None and credentials.sasl:
        config["sasl_mechanism"] = credentials.sasl_mechanism
        config["sasl_plain_username"] = credentials.sasl_username
        config["sasl_plain_password"] = credentials.sasl_password
    return config


@dataclass
class _Session:
    """An open kafka-python client plus what is needed to diagnose its failures."""

    client: Any
    endpoint: Endpoint
    ssl_settings: dict[str, Any] | None
    spoken: str | None = None

    def diagnose(self) -> errors.ClientError | None:
        return diagnose_connectivity(self.endpoint, self.ssl_settings, self.client, self.spoken)


def _sasl_refusal(
    translated: errors.KconformError,
    err: Exception,
    action: str,
    endpoint: Endpoint,
    tls: dict[str, Any] | None,
    credentials: Credentials | None,
) -> errors.AuthenticationFailed | None:
    """A SASL client's connection failure that is really a refused password, as the broker says it.

    kafka-python retries a refused SASL login until it times out (the broker closes the connection after the
    failed proof), so the broker is asked once more, with a single SCRAM exchange."""
    if credentials is None or not credentials.sasl or not isinstance(err, _CONNECTIVITY_ERRORS):
        return None
    if type(translated) is not errors.ClientError:
        return None  # already explained: unreachable, TLS refused, wrong protocol
    for address in parse_bootstrap(endpoint.bootstrap):
        reason = scram_refusal(address, tls, credentials)
        if reason is not None:
            return errors.AuthenticationFailed(
                f"{action}: SASL {credentials.sasl_mechanism} authentication as {credentials.sasl_username!r} "
                f"refused by the broker: {reason}"
            )
    return None


@contextlib.contextmanager
def _open(
    factory: Callable[..., Any],
    close: Callable[[Any], None],
    kind: str,
    endpoint: Endpoint,
    credentials: Credentials | None,
    timeout_s: float,
    defaults: dict[str, Any],
    overrides: dict[str, Any],
) -> Iterator[_Session]:
    action = f"{kind} at {endpoint.bootstrap}"
    spoken = operations.security_protocol(endpoint, credentials)
    with tls_files(credentials if endpoint.tls else None) as ssl_settings:
        config = {**_base_config(endpoint, ssl_settings, timeout_s, credentials), **defaults, **overrides}
        tls = ssl_settings if endpoint.tls else None

        def refused(err: Exception, what: str, client: Any = None) -> errors.KconformError:
            translated = translate(err, what, endpoint, tls, client, spoken)
            return _sasl_refusal(translated, err, what, endpoint, tls, credentials) or translated

        try:
            client = factory(**config)
        except Exception as err:
            raise refused(err, f"{action}: connect") from err
        try:
            yield _Session(client, endpoint, tls, spoken)
        except errors.KconformError:
            raise
        except Exception as err:
            raise refused(err, action, client) from err
        finally:
            with contextlib.suppress(Exception):  # closing must never mask the operation's outcome
                close(client)


@contextlib.contextmanager
def _client(*open_args: Any) -> Iterator[Any]:
    with _open(*open_args) as session:
        yield session.client


def _close_producer(client: Any) -> None:
    client.close(timeout=2)


def _close_consumer(client: Any) -> None:
    client.close(autocommit=False, timeout_ms=2000)


def _close_admin(client: Any) -> None:
    client.close()


def _producer_args(
    endpoint: Endpoint, credentials: Credentials | None, timeout_s: float, overrides: dict[str, Any]
) -> tuple[Any, ...]:
    timeout_ms = _timeouts(timeout_s)["request_timeout_ms"]
    defaults = {"max_block_ms": timeout_ms, "delivery_timeout_ms": timeout_ms, "linger_ms": 0}
    return (KafkaProducer, _close_producer, "producer", endpoint, credentials, timeout_s, defaults, overrides)


def _consumer_args(
    endpoint: Endpoint, credentials: Credentials | None, timeout_s: float, overrides: dict[str, Any]
) -> tuple[Any, ...]:
    defaults = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
    return (KafkaConsumer, _close_consumer, "consumer", endpoint, credentials, timeout_s, defaults, overrides)


def producer(
    endpoint: Endpoint,
    credentials: Credentials | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **overrides: Any,
) -> contextlib.AbstractContextManager[KafkaProducer]:
    """A KafkaProducer with send/flush/delivery bounded by `timeout_s`; overrides are kafka-python configs."""
    return _client(*_producer_args(endpoint, credentials, timeout_s, overrides))


def consumer(
    endpoint: Endpoint,
    credentials: Credentials | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **overrides: Any,
) -> contextlib.AbstractContextManager[KafkaConsumer]:
    """A KafkaConsumer (no auto commit, earliest offsets unless overridden); poll it with a deadline."""
    return _client(*_consumer_args(endpoint, credentials, timeout_s, overrides))


def admin(
    endpoint: Endpoint,
    credentials: Credentials | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **overrides: Any,
) -> contextlib.AbstractContextManager[KafkaAdminClient]:
    """A KafkaAdminClient with bounded request and bootstrap timeouts."""
    return _client(KafkaAdminClient, _close_admin, "admin", endpoint, credentials, timeout_s, {}, overrides)


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
    with _open(*_producer_args(endpoint, credentials, timeout_s, overrides)) as session:
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
    cluster = _cluster_of(client)
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
    with _open(*_consumer_args(endpoint, credentials, timeout_s, overrides)) as session:
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
        if group and records and args.get("commit", True):
            client.commit()
    return {"records": records}


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
            for node_id, address in _known_brokers(client)
        ]
        controller = getattr(_cluster_of(client), "controller", None)
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


def execute(req: dict[str, Any]) -> dict[str, Any]:
    """Perform one protocol request; failures come back as an error response, never as an exception."""
    try:
        op, endpoint, credentials, args = parse_request(req)
        return {"ok": True, "result": _HANDLERS[op](endpoint, credentials, args)}
    except errors.KconformError as err:
        return operations.error_response(err)
    except Exception as err:  # a remote runner must always answer; keep the type for debugging
        return operations.error_response(errors.ClientError(f"{type(err).__name__}: {err}"))
