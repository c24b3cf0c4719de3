"""Credentials from the Secrets Strimzi writes; only PEM keys are relied on.

Strimzi 1.1.0+ can omit `*.p12` / `*.password` keys (STRIMZI_PKCS12_KEYSTORE_GENERATION=false), so those are
never required. Values are never put into messages: a missing key is reported by name only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kconform.clients.operations import Credentials
from kconform.errors import PlatformError


def cluster_ca_secret_name(cluster: str) -> str:
    return f"{cluster}-cluster-ca-cert"


def _pem(secret_name: str, data: dict[str, str], key: str, marker: str) -> str:
    value = data.get(key)
    if not value:
        present = ", ".join(sorted(data)) or "none"
        raise PlatformError(f"Secret {secret_name} has no {key} (keys present: {present})")
    if f"-----BEGIN {marker}" not in value:
        raise PlatformError(f"Secret {secret_name} key {key} is not a PEM {marker.lower()}")
    return value


def cluster_ca(secret_name: str, data: dict[str, str]) -> str:
    """The cluster CA certificate clients trust (`ca.crt` of <cluster>-cluster-ca-cert)."""
    return _pem(secret_name, data, "ca.crt", "CERTIFICATE")


@dataclass(frozen=True)
class TlsUser:
    ca_crt: str  # the clients CA
    user_crt: str
    user_key: str = field(repr=False)


def tls_user(secret_name: str, data: dict[str, str]) -> TlsUser:
    return TlsUser(
        ca_crt=_pem(secret_name, data, "ca.crt", "CERTIFICATE"),
        user_crt=_pem(secret_name, data, "user.crt", "CERTIFICATE"),
        user_key=_pem(secret_name, data, "user.key", "PRIVATE KEY"),
    )


def scram_password(secret_name: str, data: dict[str, str]) -> str:
    value = data.get("password")
    if not value:
        raise PlatformError(f"Secret {secret_name} has no password key (is the KafkaUser scram-sha-512?)")
    return value


def credentials(
    ca_secret: str,
    ca_data: dict[str, str],
    user_secret: str | None = None,
    user_data: dict[str, str] | None = None,
    *,
    check_hostname: bool = True,
) -> Credentials:
    """Client credentials for a TLS listener, with a TLS user's certificate when one is given.

    Internal listeners' service names are in the broker certificates; node-port certificates only carry the
    advertised hosts, so callers pass check_hostname=False for node ports without advertised host overrides.
    """
    ca = cluster_ca(ca_secret, ca_data)
    if user_secret is None or user_data is None:
        return Credentials(ca_crt=ca, check_hostname=check_hostname)
    user = tls_user(user_secret, user_data)
    return Credentials(
        ca_crt=ca, user_crt=user.user_crt, user_key=user.user_key, check_hostname=check_hostname
    )
