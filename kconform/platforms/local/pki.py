"""Strimzi-like certificate authorities for the local platform: a cluster CA and a clients CA.

What Strimzi produces and Kafka's PEM stores accept: RSA 2048 keys, private keys as unencrypted PKCS#8
PEM ("BEGIN PRIVATE KEY", the format of a KafkaUser Secret's user.key), CA subjects such as
"CN=cluster-ca v0,O=io.strimzi", user certificates with the subject "CN=<user>". A broker reads
`ssl.keystore.type=PEM` from one file holding the key followed by the certificate chain
(`IssuedCertificate.keystore_pem`) and `ssl.truststore.type=PEM` from a file of CA certificates.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kconform.errors import UsageError

CLUSTER_CA_NAME = "cluster-ca v0"
CLIENTS_CA_NAME = "clients-ca v0"
STRIMZI_ORGANIZATION = "io.strimzi"
_KEY_SIZE = 2048
_CLOCK_SKEW = datetime.timedelta(minutes=5)  # backdate so a slightly slow peer clock still accepts


@dataclass(frozen=True)
class IssuedCertificate:
    cert_pem: str
    key_pem: str = field(repr=False)
    chain_pem: str  # this certificate followed by its CA's

    @property
    def keystore_pem(self) -> str:
        """Key then chain: the content of a Kafka `ssl.keystore.type=PEM` keystore file."""
        return self.key_pem + self.chain_pem

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem.encode())


class CertificateAuthority:
    """A self-signed CA that issues server and client certificates."""

    def __init__(self, cert_pem: str, key_pem: str) -> None:
        self.cert_pem = cert_pem
        self.key_pem = key_pem
        self._cert = x509.load_pem_x509_certificate(cert_pem.encode())
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise UsageError("CertificateAuthority supports RSA keys only")
        self._key = key

    def __repr__(self) -> str:  # the key never appears here
        return f"CertificateAuthority({self.subject!r})"

    @property
    def subject(self) -> str:
        return self._cert.subject.rfc4514_string()

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    @classmethod
    def create(
        cls, common_name: str, organization: str = STRIMZI_ORGANIZATION, validity_days: int = 365
    ) -> CertificateAuthority:
        _check_days(validity_days)
        key = _new_key()
        name = _name(common_name, organization)
        public = key.public_key()
        cert = (
            _builder(name, name, public, validity_days, ca=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(_cert_pem(cert), _key_pem(key))

    @classmethod
    def cluster_ca(cls, validity_days: int = 365) -> CertificateAuthority:
        return cls.create(CLUSTER_CA_NAME, validity_days=validity_days)

    @classmethod
    def clients_ca(cls, validity_days: int = 365) -> CertificateAuthority:
        return cls.create(CLIENTS_CA_NAME, validity_days=validity_days)

    def issue(
        self,
        common_name: str,
        *,
        organization: str | None = None,
        sans: Sequence[str] = (),
        validity_days: int = 365,
    ) -> IssuedCertificate:
        """A certificate for servers and clients alike (serverAuth and clientAuth), signed by this CA.

        SANs that parse as IP addresses become IP SANs, the rest DNS names. With organization None the
        subject is just CN=<common_name>, as in a KafkaUser certificate.
        """
        _check_days(validity_days)
        key = _new_key()
        builder = (
            _builder(
                _name(common_name, organization),
                self._cert.subject,
                key.public_key(),
                validity_days,
                ca=False,
            )
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(_general_names(sans)), critical=False)
        cert_pem = _cert_pem(builder.sign(self._key, hashes.SHA256()))
        return IssuedCertificate(cert_pem=cert_pem, key_pem=_key_pem(key), chain_pem=cert_pem + self.cert_pem)


def write_pem(path: Path, text: str) -> Path:
    """Write `text` readable by the owner only (0600), also when the file already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode does not apply to an existing file
        handle.write(text)
    return path


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: rsa.RSAPublicKey, validity_days: int, *, ca: bool
) -> x509.CertificateBuilder:
    """What every certificate here shares: names, key, a random serial, validity (back-dated for clock skew)."""
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + datetime.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)


def _name(common_name: str, organization: str | None) -> x509.Name:
    if not common_name:
        raise UsageError("a certificate needs a non-empty common name")
    # Kafka names a TLS principal by the RFC 2253 form of the subject, which lists the RDNs last-first; O
    # must come first in the certificate so the principal reads `CN=<name>,O=io.strimzi`, as Strimzi's
    # super users do.
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _general_names(sans: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for san in dict.fromkeys(sans):  # de-duplicated, order kept
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    return names


def _check_days(validity_days: int) -> None:
    if validity_days < 1:
        raise UsageError(f"validity_days must be at least 1, not {validity_days}")


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
