"""kconform.clients.kafka without a broker: error mapping, PEM file hygiene, probes against real sockets."""

from __future__ import annotations

import datetime
import logging
import socket
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kafka.errors as kafka_errors
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kconform import errors
from kconform.clients import kafka as kc
from kconform.clients import operations
from kconform.clients.local_runner import InProcessRunner
from kconform.clients.operations import Credentials, Endpoint

# --------------------------------------------------------------------------------------------------------
# PEM material and a real TLS server
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_crt: str
    server_crt: str
    server_key: str
    user_crt: str
    user_key: str


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None,
    signer: Any,
    *,
    ca: bool,
    san: bool,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def make_pki() -> Pki:
    ca_key, server_key, user_key = _key(), _key(), _key()
    ca = _cert("test-ca", ca_key, None, ca_key, ca=True, san=False)
    server = _cert("broker", server_key, ca.subject, ca_key, ca=False, san=True)
    user = _cert("CN=alice", user_key, ca.subject, ca_key, ca=False, san=False)

    def pem(cert: x509.Certificate) -> str:
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    return Pki(pem(ca), pem(server), _pem_key(server_key), pem(user), _pem_key(user_key))


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="module")
def other_pki() -> Pki:
    return make_pki()


class TlsServer:
    """A TLS listener on 127.0.0.1 that answers 4 bytes to whatever a client sends after the handshake."""

    def __init__(self, pki: Pki, tmp: Path, *, require_client_cert: bool) -> None:
        (tmp / "server.crt").write_text(pki.server_crt)
        (tmp / "server.key").write_text(pki.server_key)
        (tmp / "ca.crt").write_text(pki.ca_crt)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(tmp / "server.crt", tmp / "server.key")
        if require_client_cert:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(tmp / "ca.crt")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                if tls.recv(4096):
                    tls.sendall(b"\x00\x00\x00\x00")
        except (ssl.SSLError, OSError):
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def mtls_server(pki: Pki, tmp_path: Path) -> Iterator[TlsServer]:
    server = TlsServer(pki, tmp_path, require_client_cert=True)
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------------------
# Error mapping from real kafka-python exception classes
# --------------------------------------------------------------------------------------------------------

ENDPOINT = Endpoint(bootstrap="127.0.0.1:1", tls=False)


@pytest.mark.parametrize(
    ("kafka_error", "scope"),
    [
        (kafka_errors.TopicAuthorizationFailedError, "topic"),
        (kafka_errors.GroupAuthorizationFailedError, "group"),
        (kafka_errors.ClusterAuthorizationFailedError, "cluster"),
        (kafka_errors.TransactionalIdAuthorizationFailedError, "transactional_id"),
    ],
)
def test_authorization_errors_map_to_their_scope(kafka_error: type[Exception], scope: str) -> None:
    mapped = kc.translate(kafka_error("denied"), "produce to 't'", ENDPOINT)
    assert isinstance(mapped, errors.AuthorizationFailed)
    assert mapped.scope == scope
    assert "produce to 't'" in str(mapped)
    # The scope survives the JSON protocol too.
    with pytest.raises(errors.AuthorizationFailed) as raised:
        operations.raise_for_response(operations.error_response(mapped))
    assert raised.value.scope == scope


@pytest.mark.parametrize(
    "failure",
    [kafka_errors.SaslAuthenticationFailedError("bad password"), ssl.SSLCertVerificationError("unknown ca")],
)
def test_handshake_and_sasl_failures_are_authentication_failures(failure: Exception) -> None:
    assert isinstance(kc.translate(failure, "connect", ENDPOINT), errors.AuthenticationFailed)


def test_other_kafka_errors_stay_client_errors() -> None:
    mapped = kc.translate(kafka_errors.TopicAlreadyExistsError("exists"), "create topic 't'", ENDPOINT)
    assert type(mapped) is errors.ClientError
    assert "TopicAlreadyExistsError" in str(mapped)


# --------------------------------------------------------------------------------------------------------
# PEM material on disk
# --------------------------------------------------------------------------------------------------------


def test_tls_files_are_private_and_removed_after_use(pki: Pki) -> None:
    credentials = Credentials(
        ca_crt=pki.ca_crt, user_crt=pki.user_crt, user_key=pki.user_key, check_hostname=False
    )
    with kc.tls_files(credentials) as settings:
        directory = Path(settings["ssl_keyfile"]).parent
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        for setting, content in (
            ("ssl_cafile", pki.ca_crt),
            ("ssl_certfile", pki.user_crt),
            ("ssl_keyfile", pki.user_key),
        ):
            path = Path(settings[setting])
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert path.read_text() == content
        assert settings["ssl_check_hostname"] is False
    assert not directory.exists()


def test_tls_files_are_removed_when_the_operation_fails(pki: Pki) -> None:
    credentials = Credentials(ca_crt=pki.ca_crt, user_crt=pki.user_crt, user_key=pki.user_key)
    with pytest.raises(RuntimeError), kc.tls_files(credentials) as settings:
        directory = Path(settings["ssl_cafile"]).parent
        raise RuntimeError("operation failed")
    assert not directory.exists()


def test_a_certificate_without_its_key_is_a_usage_error(pki: Pki) -> None:
    with pytest.raises(errors.UsageError, match="user_key"), kc.tls_files(Credentials(user_crt=pki.user_crt)):
        pass


def test_credentials_repr_hides_the_key(pki: Pki) -> None:
    shown = repr(Credentials(ca_crt=pki.ca_crt, user_crt=pki.user_crt, user_key=pki.user_key))
    assert "PRIVATE KEY" not in shown
    assert pki.user_key.splitlines()[1] not in shown
    assert "user_key=<redacted>" in shown


# --------------------------------------------------------------------------------------------------------
# Reachability: real sockets, real kafka-python, short timeouts
# --------------------------------------------------------------------------------------------------------


def test_closed_bootstrap_port_is_broker_unreachable_naming_the_address() -> None:
    address = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    response = kc.execute(operations.request("list_topics", Endpoint(address, tls=False), None, timeout_s=2))
    assert time.monotonic() - started < 15
    assert response["ok"] is False
    assert response["error"]["type"] == "BrokerUnreachable"
    assert address in response["error"]["message"]


def test_unresolvable_bootstrap_is_broker_unreachable_naming_the_address() -> None:
    address = "no-such-broker.invalid:9092"
    req = operations.request(
        "produce", Endpoint(address, tls=False), None, topic="t", values=["v"], timeout_s=2
    )
    with pytest.raises(errors.BrokerUnreachable, match=r"no-such-broker\.invalid:9092"):
        InProcessRunner().run(req)


def test_unreachable_advertised_broker_is_named_even_when_bootstrap_answers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as bootstrap:
        endpoint = Endpoint(f"127.0.0.1:{bootstrap.getsockname()[1]}", tls=False)
        advertised = SimpleNamespace(node_id=0, host="foo.bar.svc.invalid", port=9094)
        client = SimpleNamespace(_metadata=SimpleNamespace(brokers=lambda: [advertised]))
        cause = kc.diagnose_connectivity(endpoint, None, client)
        mapped = kc.translate(
            kafka_errors.KafkaTimeoutError("timed out"), "produce to 't'", endpoint, None, client
        )
    assert isinstance(cause, errors.BrokerUnreachable)
    assert "foo.bar.svc.invalid:9094" in str(cause)
    assert "broker 0" in str(cause)
    assert isinstance(mapped, errors.BrokerUnreachable)
    assert "foo.bar.svc.invalid:9094" in str(mapped)


def test_probe_accepts_a_trusted_mtls_broker(pki: Pki, mtls_server: TlsServer) -> None:
    credentials = Credentials(ca_crt=pki.ca_crt, user_crt=pki.user_crt, user_key=pki.user_key)
    with kc.tls_files(credentials) as settings:
        kc.probe(kc.Address("127.0.0.1", mtls_server.port), settings)  # no exception: handshake and reply


def test_probe_reports_an_untrusted_broker_certificate(other_pki: Pki, mtls_server: TlsServer) -> None:
    with (
        kc.tls_files(Credentials(ca_crt=other_pki.ca_crt)) as settings,
        pytest.raises(errors.AuthenticationFailed),
    ):
        kc.probe(kc.Address("127.0.0.1", mtls_server.port), settings)


def test_missing_client_certificate_is_authentication_failed_through_kafka_python(
    pki: Pki, mtls_server: TlsServer
) -> None:
    """kafka-python only says 'Unable to bootstrap'; the diagnosis must find the refused handshake."""
    endpoint = Endpoint(f"127.0.0.1:{mtls_server.port}", tls=True)
    credentials = Credentials(ca_crt=pki.ca_crt)  # trusts the broker but presents no certificate
    response = kc.execute(operations.request("list_topics", endpoint, credentials, timeout_s=2))
    assert response["error"]["type"] == "AuthenticationFailed", response
    assert f"127.0.0.1:{mtls_server.port}" in response["error"]["message"]


def test_error_messages_never_carry_key_material(pki: Pki) -> None:
    endpoint = Endpoint(f"127.0.0.1:{closed_port()}", tls=True)
    credentials = Credentials(ca_crt=pki.ca_crt, user_crt=pki.user_crt, user_key=pki.user_key)
    response = kc.execute(operations.request("list_topics", endpoint, credentials, timeout_s=1))
    assert response["ok"] is False
    text = str(response)
    assert "PRIVATE KEY" not in text
    assert pki.user_key.splitlines()[1] not in text


# --------------------------------------------------------------------------------------------------------
# Request validation
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("req", "fragment"),
    [
        ([], "JSON object"),
        ({"op": "explode", "endpoint": {"bootstrap": "h:1"}}, "unknown client operation"),
        ({"op": "produce"}, "endpoint"),
        ({"op": "produce", "endpoint": {"bootstrap": "no-port"}}, "host:port"),
        (
            {"op": "produce", "endpoint": {"bootstrap": "h:1"}, "credentials": {"password": "x"}},
            "unknown keys",
        ),
        ({"op": "produce", "endpoint": {"bootstrap": "h:1"}, "args": {}}, "args.topic"),
    ],
)
def test_malformed_requests_are_usage_errors(req: Any, fragment: str) -> None:
    response = kc.execute(req)
    assert response["ok"] is False
    assert response["error"]["type"] == "UsageError"
    assert fragment in response["error"]["message"]


def test_parse_bootstrap_handles_lists_and_ipv6() -> None:
    assert kc.parse_bootstrap("a:1, [::1]:9093") == [kc.Address("a", 1), kc.Address("::1", 9093)]
    assert str(kc.Address("::1", 9093)) == "[::1]:9093"


# ---- stop_at_refusal (kconform.clients.kafka_refusals)
@pytest.mark.parametrize("presents", ["no certificate", "trust in another CA"])
def test_a_refusal_client_stops_at_the_refused_handshake(
    presents: str, pki: Pki, other_pki: Pki, mtls_server: TlsServer
) -> None:
    """kafka-python retries a refused TLS handshake until its timeout; a refusal client ends at the first
    refusal the probe confirms, long before that timeout."""
    endpoint = Endpoint(f"127.0.0.1:{mtls_server.port}", tls=True)
    credentials = Credentials(ca_crt=(pki if presents == "no certificate" else other_pki).ca_crt)
    timeout_s = 60.0
    req = operations.request("list_topics", endpoint, credentials, timeout_s=timeout_s, stop_at_refusal=True)
    began = time.monotonic()
    response = kc.execute(req)
    took = time.monotonic() - began
    assert response["error"]["type"] == "AuthenticationFailed", response
    assert f"127.0.0.1:{mtls_server.port}" in response["error"]["message"]
    assert took < timeout_s / 2, f"ended after {took:.1f}s: it waited for its timeout, not the refusal"


def test_an_unreachable_broker_is_no_refusal_and_the_operation_keeps_its_own_timeout() -> None:
    endpoint = Endpoint(f"127.0.0.1:{closed_port()}", tls=False)
    req = operations.request("list_topics", endpoint, None, timeout_s=2, stop_at_refusal=True)
    response = kc.execute(req)
    assert response["error"]["type"] == "BrokerUnreachable", response


def _log_from_another_thread(logger: str, level: int) -> None:
    thread = threading.Thread(target=lambda: logging.getLogger(logger).log(level, "Connection lost: test"))
    thread.start()
    thread.join(timeout=5)


def test_only_a_connection_failure_kafka_python_logs_counts() -> None:
    from kconform.clients.kafka_refusals import KAFKA_NET_LOGGER, ConnectionFailures

    failures = ConnectionFailures()
    logging.getLogger(KAFKA_NET_LOGGER).addHandler(failures)
    try:
        _log_from_another_thread("kafka.net.manager", logging.WARNING)  # a retry's backoff notice
        _log_from_another_thread("kafka.coordinator", logging.ERROR)  # not a connection
        assert not failures.seen.is_set()
        _log_from_another_thread("kafka.net.connection", logging.ERROR)
        assert failures.seen.is_set()
    finally:
        logging.getLogger(KAFKA_NET_LOGGER).removeHandler(failures)


def test_a_confirmed_refusal_ends_the_wait_while_the_operation_still_runs() -> None:
    from kconform.clients.kafka_refusals import run_until_refused

    release = threading.Event()

    def work() -> str:
        _log_from_another_thread("kafka.net.connection", logging.ERROR)
        release.wait(timeout=30)  # kafka-python retrying until its timeout
        return "finished"

    def refused() -> errors.KconformError | None:
        return errors.AuthenticationFailed("refused: confirmed by the probe")

    try:
        with pytest.raises(errors.AuthenticationFailed, match="confirmed by the probe"):
            run_until_refused(work, refused, timeout_s=30)
    finally:
        release.set()


def test_an_unconfirmed_failure_leaves_the_operation_its_outcome() -> None:
    from kconform.clients.kafka_refusals import run_until_refused

    checked = threading.Event()

    def work() -> str:
        _log_from_another_thread("kafka.net.connection", logging.ERROR)
        assert checked.wait(timeout=30)  # the probe found no refusal: the operation goes on
        return "produced"

    def not_refused() -> errors.KconformError | None:
        checked.set()
        return None

    assert run_until_refused(work, not_refused, timeout_s=30) == "produced"

    def times_out() -> str:
        raise kafka_errors.KafkaTimeoutError("timed out")

    with pytest.raises(kafka_errors.KafkaTimeoutError):
        run_until_refused(times_out, not_refused, timeout_s=30)
