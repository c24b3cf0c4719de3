"""Strimzi-like CAs: chains verify, SANs, subjects, key formats, no key in repr, 0600 files, real TLS."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store

from kconform.errors import UsageError
from kconform.platforms.local.pki import CertificateAuthority, IssuedCertificate, write_pem


@pytest.fixture(scope="module")
def cluster_ca() -> CertificateAuthority:
    return CertificateAuthority.cluster_ca()


@pytest.fixture(scope="module")
def clients_ca() -> CertificateAuthority:
    return CertificateAuthority.clients_ca()


@pytest.fixture(scope="module")
def broker(cluster_ca: CertificateAuthority) -> IssuedCertificate:
    return cluster_ca.issue(
        "my-cluster-kafka",
        organization="io.strimzi",
        sans=["localhost", "127.0.0.1", "my-cluster-kafka-bootstrap.ns.svc", "::1"],
    )


def test_ca_subjects_match_strimzi(
    cluster_ca: CertificateAuthority, clients_ca: CertificateAuthority
) -> None:
    # RFC 4514/2253 strings (and Kafka principals) list the last RDN first: O is encoded before CN.
    assert cluster_ca.subject == "CN=cluster-ca v0,O=io.strimzi"
    assert clients_ca.subject == "CN=clients-ca v0,O=io.strimzi"
    broker = cluster_ca.issue("my-cluster-kafka", organization="io.strimzi")
    assert broker.certificate.subject.rfc4514_string() == "CN=my-cluster-kafka,O=io.strimzi"
    constraints = cluster_ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True


def test_user_certificate_subject_is_just_the_cn(clients_ca: CertificateAuthority) -> None:
    user = clients_ca.issue("alice")
    assert user.certificate.subject.rfc4514_string() == "CN=alice"
    assert user.certificate.issuer == clients_ca.certificate.subject


def test_chain_verifies_and_server_name_matches(
    cluster_ca: CertificateAuthority, broker: IssuedCertificate
) -> None:
    broker.certificate.verify_directly_issued_by(cluster_ca.certificate)
    verifier = (
        PolicyBuilder()
        .store(Store([cluster_ca.certificate]))
        .build_server_verifier(x509.DNSName("localhost"))
    )
    chain = verifier.verify(broker.certificate, [])
    assert chain[-1] == cluster_ca.certificate
    assert broker.chain_pem == broker.cert_pem + cluster_ca.cert_pem


def test_certificate_from_another_ca_does_not_verify(
    cluster_ca: CertificateAuthority, clients_ca: CertificateAuthority
) -> None:
    stranger = clients_ca.issue("alice")
    with pytest.raises(ValueError):
        stranger.certificate.verify_directly_issued_by(cluster_ca.certificate)


def test_sans_split_into_ip_and_dns(broker: IssuedCertificate) -> None:
    sans = broker.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "my-cluster-kafka-bootstrap.ns.svc"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]


def test_issued_certificates_serve_both_ends(broker: IssuedCertificate) -> None:
    usages = broker.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usages
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usages


def test_keys_are_unencrypted_pkcs8_and_never_in_repr(
    cluster_ca: CertificateAuthority, broker: IssuedCertificate
) -> None:
    for key_pem in (cluster_ca.key_pem, broker.key_pem):
        assert key_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
        assert "ENCRYPTED" not in key_pem
    for text in (repr(cluster_ca), repr(broker), str(broker)):
        assert "PRIVATE KEY" not in text
        assert broker.key_pem.splitlines()[1] not in text
        assert cluster_ca.key_pem.splitlines()[1] not in text
    assert broker.keystore_pem.startswith(broker.key_pem)
    assert broker.keystore_pem.endswith(cluster_ca.cert_pem)


def test_ca_round_trips_through_pem(cluster_ca: CertificateAuthority) -> None:
    again = CertificateAuthority(cluster_ca.cert_pem, cluster_ca.key_pem)
    issued = again.issue("reloaded")
    issued.certificate.verify_directly_issued_by(cluster_ca.certificate)


def test_bad_input_is_a_usage_error(cluster_ca: CertificateAuthority) -> None:
    with pytest.raises(UsageError, match="common name"):
        cluster_ca.issue("")
    with pytest.raises(UsageError, match="validity_days"):
        CertificateAuthority.create("x", validity_days=0)


def test_write_pem_is_owner_only_even_over_an_open_file(tmp_path: Path, broker: IssuedCertificate) -> None:
    existing = tmp_path / "keys" / "user.key"
    existing.parent.mkdir()
    existing.write_text("old")
    existing.chmod(0o644)
    for path in (existing, tmp_path / "keys" / "new.key"):
        write_pem(path, broker.key_pem)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text() == broker.key_pem


def test_python_ssl_accepts_the_output_for_mutual_tls(
    tmp_path: Path,
    cluster_ca: CertificateAuthority,
    clients_ca: CertificateAuthority,
    broker: IssuedCertificate,
) -> None:
    """A real TLS handshake on loopback: server trusts the clients CA, client trusts the cluster CA."""
    user = clients_ca.issue("alice")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(write_pem(tmp_path / "broker.pem", broker.keystore_pem))
    server_ctx.load_verify_locations(cadata=clients_ca.cert_pem)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cadata=cluster_ca.cert_pem)
    client_ctx.load_cert_chain(
        write_pem(tmp_path / "user.crt", user.cert_pem), write_pem(tmp_path / "user.key", user.key_pem)
    )

    peer_subjects: list[object] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def serve() -> None:
            connection, _ = listener.accept()
            with server_ctx.wrap_socket(connection, server_side=True) as tls:
                peer = tls.getpeercert()
                peer_subjects.append(peer["subject"] if peer else None)
                tls.sendall(b"ok")

        server = threading.Thread(target=serve)
        server.start()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_ctx.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.recv(2) == b"ok"
        server.join(timeout=10)
    assert peer_subjects == [((("commonName", "alice"),),)]
