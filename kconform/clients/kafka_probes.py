"""Reachability probes of Kafka addresses, without a client: a TCP (and TLS) connection and an ApiVersions
request, a SaslHandshake that lists a listener's mechanisms, and one SCRAM exchange that tells whether the
broker refuses a password. They name what kafka-python only reports as "Unable to bootstrap" or a timeout.

Shipped into the client pod with the rest of the client code: imports only the stdlib, kafka-python and
`kconform.errors` / `kconform.clients.*`.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kconform import errors
from kconform.clients import operations
from kconform.clients.operations import Credentials

PROBE_TIMEOUT_S = 3.0
CLIENT_ID = "kconform"

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
    client_id = CLIENT_ID.encode()
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
    client_id = CLIENT_ID.encode()
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
