"""The local sidecar's environment from Secrets that hold bytes, as read_secret returns them on both platforms."""

from __future__ import annotations

import pytest

from kconform.errors import PlatformError, UsageError
from kconform.platforms.local.sidecar import container_env

SECRETS = {
    "alice": {"user.crt": b"-----BEGIN CERTIFICATE-----\nx\n", "user.p12": b"\x30\x82\x0a\xff\xfe"},
}


def env_of(*items: dict) -> dict[str, str]:
    return container_env({"env": list(items)}, lambda name: SECRETS[name])


def ref(name: str, key: str) -> dict:
    return {"name": "V", "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}


def test_text_keys_become_environment_text() -> None:
    assert env_of({"name": "A", "value": "1"}, ref("alice", "user.crt")) == {
        "A": "1",
        "V": "-----BEGIN CERTIFICATE-----\nx\n",
    }


def test_a_binary_key_or_a_missing_key_is_named() -> None:
    with pytest.raises(PlatformError, match=r"Secret alice key user\.p12 is binary"):
        env_of(ref("alice", "user.p12"))
    with pytest.raises(UsageError, match=r"has no key 'user\.key'"):
        env_of(ref("alice", "user.key"))
