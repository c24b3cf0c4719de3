"""kconform.redact: secrets never survive, public material stays readable."""

from __future__ import annotations

import pytest

from kconform.redact import REDACTED, is_secret_key, redact, redact_mapping

KEY_BODY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYBYTES"
CERT_BODY = "MIIBkTCB+wIJAPUBLICCERTIFICATEBYTES"


@pytest.mark.parametrize(
    "kind", ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]
)
def test_pem_private_keys_are_removed_and_certificates_kept(kind: str) -> None:
    text = (
        f"user.crt:\n-----BEGIN CERTIFICATE-----\n{CERT_BODY}\n-----END CERTIFICATE-----\n"
        f"user.key:\n-----BEGIN {kind}-----\n{KEY_BODY}\n-----END {kind}-----\ntrailer"
    )
    cleaned = redact(text)
    assert KEY_BODY not in cleaned
    assert CERT_BODY in cleaned
    assert cleaned.endswith("trailer")
    assert f"-----BEGIN {kind}-----{REDACTED}-----END {kind}-----" in cleaned


def test_a_truncated_private_key_is_removed_to_the_end() -> None:
    assert KEY_BODY not in redact(f"log line\n-----BEGIN PRIVATE KEY-----\n{KEY_BODY}")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "kafka.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            'username="alice" password="s3cr3t-jaas";',
            "s3cr3t-jaas",
        ),
        ("sasl.jaas.config: org.apache.kafka...PlainLoginModule required password='pw-yaml';", "pw-yaml"),
        ("ssl.key.password=hunter2", "hunter2"),
        ("kafka.ssl.truststore.password = trust-me", "trust-me"),
        ("connect password=opensesame user=bob", "opensesame"),
        ('{"user": "bob", "password": "js\\"on-pw"}', 'js\\"on-pw'),
        ('{"sasl.jaas.config": "x required password=\\"inner\\";"}', "inner"),
        ("kafka.ssl.keystore.key=MIIEvQIBADANBgkqhkiG9w0", "MIIEvQIBADANBgkqhkiG9w0"),
        ("user_key=abcdef123", "abcdef123"),
    ],
)
def test_secret_values_are_removed(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_ordinary_text_is_untouched() -> None:
    text = "topic=orders partition=0 offset=42 user=bob bootstrap=my-cluster-kafka-bootstrap:9093"
    assert redact(text) == text


def test_redact_is_idempotent() -> None:
    once = redact("ssl.key.password=hunter2 sasl.jaas.config=x required;")
    assert redact(once) == once


def test_redact_mapping_replaces_secret_keys_recursively_without_touching_the_input() -> None:
    secret_data = {
        "user.crt": "CERT",
        "user.key": "KEY",
        "user.password": "PW",
        "user.p12": "P12",
        "ca.key": "CAKEY",
        "ca.crt": "CACERT",
        "sasl.jaas.config": "jaas",
        "config": {"password": "nested", "servers": ["a:1", "password=listed"]},
        "count": 3,
    }
    cleaned = redact_mapping(secret_data)
    assert cleaned["user.crt"] == "CERT"
    assert cleaned["ca.crt"] == "CACERT"
    assert cleaned["count"] == 3
    for key in ("user.key", "user.password", "user.p12", "ca.key", "sasl.jaas.config"):
        assert cleaned[key] == REDACTED
    assert cleaned["config"]["password"] == REDACTED
    assert cleaned["config"]["servers"] == ["a:1", f"password={REDACTED}"]
    assert secret_data["user.key"] == "KEY"  # the input is not modified


@pytest.mark.parametrize(
    "key", ["password", "user.key", "ca.key", "sasl.jaas.config", "ssl.keystore.key", "user.p12"]
)
def test_secret_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["user.crt", "ca.crt", "secretName", "bootstrap", "keys"])
def test_public_keys_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)
