"""Credentials from Strimzi's Secrets: PEM keys only; p12 keys optional; missing keys named, values never."""

from __future__ import annotations

import pytest

from kconform.errors import PlatformError
from kconform.platforms.kubernetes import secrets

CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIEsecretmaterial\n-----END PRIVATE KEY-----\n"


def test_tls_user_without_p12_keys() -> None:  # Strimzi 1.1.0+ with PKCS12 generation off
    user = secrets.tls_user("alice", {"ca.crt": CERT, "user.crt": CERT, "user.key": KEY})
    assert user.user_key == KEY
    assert "MIIEsecret" not in repr(user)


def test_tls_user_with_p12_keys_ignores_them() -> None:
    data = {"ca.crt": CERT, "user.crt": CERT, "user.key": KEY, "user.p12": "AAAA", "user.password": "pw"}
    assert secrets.tls_user("alice", data).user_crt == CERT


def test_missing_pem_key_names_secret_and_key_but_no_values() -> None:
    with pytest.raises(PlatformError) as caught:
        secrets.tls_user(
            "alice", {"ca.crt": CERT, "user.crt": CERT, "user.p12": "AAAA", "user.password": "pw1"}
        )
    message = str(caught.value)
    assert "Secret alice has no user.key" in message
    assert "pw1" not in message and "AAAA" not in message


def test_cluster_ca_and_credentials() -> None:
    name = secrets.cluster_ca_secret_name("c1")
    assert name == "c1-cluster-ca-cert"
    creds = secrets.credentials(
        name, {"ca.crt": CERT, "ca.p12": "x"}, "alice", {"user.crt": CERT, "user.key": KEY, "ca.crt": CERT}
    )
    assert creds.ca_crt == CERT and creds.user_key == KEY and creds.check_hostname
    assert "MIIEsecret" not in repr(creds)
    with pytest.raises(PlatformError, match="not a PEM certificate"):
        secrets.cluster_ca(name, {"ca.crt": "garbage"})


def test_scram_password() -> None:
    assert secrets.scram_password("bob", {"password": "s3cret", "sasl.jaas.config": "x"}) == "s3cret"
    with pytest.raises(PlatformError, match="Secret bob has no password"):
        secrets.scram_password("bob", {})
