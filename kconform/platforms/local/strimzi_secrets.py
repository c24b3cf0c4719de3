"""The Secrets the local platform writes, with Strimzi's names, keys and value types (strimzi_contract).

Values are bytes as Strimzi stores them: PEM text for certificates and keys, a generated ASCII password, and
real PKCS#12 stores (made with `cryptography`) for `ca.p12` (a truststore holding the CA certificate) and
`user.p12` (the user's key and certificate, with the clients CA), each protected by its `*.password`.
"""

from __future__ import annotations

import secrets
import string

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from kconform import strimzi_contract as contract
from kconform.platforms.local.pki import CertificateAuthority, IssuedCertificate

_PASSWORD_ALPHABET = string.ascii_letters + string.digits
_PASSWORD_LENGTH = 12


def store_password() -> str:
    """A random alphanumeric password for a PKCS#12 store (ASCII, as Strimzi's generated ones)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))


def _encryption(password: str) -> serialization.KeySerializationEncryption:
    return serialization.BestAvailableEncryption(password.encode("ascii"))


def truststore_p12(cert_pem: str, password: str) -> bytes:
    """A PKCS#12 truststore holding one CA certificate (what `ca.p12` holds)."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    return pkcs12.serialize_key_and_certificates(b"ca.crt", None, None, [cert], _encryption(password))


def keystore_p12(name: str, issued: IssuedCertificate, ca_pem: str, password: str) -> bytes:
    """A PKCS#12 keystore with the user's key and certificate and the CA that issued it (`user.p12`)."""
    key = serialization.load_pem_private_key(issued.key_pem.encode("ascii"), password=None)
    ca = x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    return pkcs12.serialize_key_and_certificates(
        name.encode("utf-8"),
        key,  # type: ignore[arg-type]  # RSA: what pki issues
        issued.certificate,
        [ca],
        _encryption(password),
    )


def ca_cert_secret(ca: CertificateAuthority) -> dict[str, bytes]:
    password = store_password()
    data = {
        "ca.crt": ca.cert_pem.encode("ascii"),
        "ca.p12": truststore_p12(ca.cert_pem, password),
        "ca.password": password.encode("ascii"),
    }
    return data


def ca_key_secret(ca: CertificateAuthority) -> dict[str, bytes]:
    return {"ca.key": ca.key_pem.encode("ascii")}


def cluster_secrets(
    cluster: str, cluster_ca: CertificateAuthority, clients_ca: CertificateAuthority
) -> dict[str, dict[str, bytes]]:
    """The four CA Secrets the Cluster Operator creates for a Kafka cluster."""
    return {
        contract.cluster_ca_cert_secret(cluster): ca_cert_secret(cluster_ca),
        contract.cluster_ca_key_secret(cluster): ca_key_secret(cluster_ca),
        contract.clients_ca_cert_secret(cluster): ca_cert_secret(clients_ca),
        contract.clients_ca_key_secret(cluster): ca_key_secret(clients_ca),
    }


def tls_user_secret(
    user: str, clients_ca: CertificateAuthority, issued: IssuedCertificate
) -> dict[str, bytes]:
    """A tls KafkaUser's Secret (user-operator KafkaUserModel.generateSecret)."""
    password = store_password()
    data = {
        "ca.crt": clients_ca.cert_pem.encode("ascii"),
        "user.crt": issued.cert_pem.encode("ascii"),
        "user.key": issued.key_pem.encode("ascii"),
        "user.p12": keystore_p12(user, issued, clients_ca.cert_pem, password),
        "user.password": password.encode("ascii"),
    }
    return data
