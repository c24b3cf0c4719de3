"""Secret values: reading one text value of a Strimzi Secret, and carrying secret text without showing it.

`Platform.read_secret` hands back every value as the raw bytes Strimzi stores, because some are binary
(`ca.p12`, `user.p12`: PKCS#12). Callers decode only the text keys they use (`ca.crt`, `user.crt`,
`user.key`, `password`, `sasl.jaas.config`), with `text`.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from kconform.errors import PlatformError


def text(data: Mapping[str, bytes | str], key: str, *, source: str = "the Secret") -> str:
    """The UTF-8 text of `key`; a PlatformError naming the key (never a value) when it is missing or binary."""
    raw = data.get(key)
    if raw is None:
        present = ", ".join(sorted(data)) or "none"
        raise PlatformError(f"{source} has no key {key} (keys present: {present})")
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PlatformError(f"{source} key {key} is binary, not text") from err


def pem(data: Mapping[str, bytes | str], key: str, marker: str, *, source: str = "the Secret") -> str:
    """`text` of a PEM key, checked to hold a `-----BEGIN <marker>` block (named, never shown, when not)."""
    value = text(data, key, source=source)
    if f"-----BEGIN {marker}" not in value:
        raise PlatformError(f"{source} key {key} is not a PEM {marker.lower()}")
    return value


class Hidden(str):
    """A secret text (a password) whose repr never shows it.

    pytest prints the arguments of every function in a failure's traceback with repr, and those tracebacks
    land in junit.xml and the Allure results: a password passed around as a plain str would be printed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


class HiddenData(dict[str, str]):
    """Secret data (key -> value) whose repr names the keys only."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{key!r}: <redacted>" for key in self) + "}"


class SecretData(dict[str, bytes]):
    """What `Platform.read_secret` returns: a Secret's values as the bytes Strimzi stores, with a repr that
    names the keys only (a traceback or a log line shows no password, key or JAAS line)."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{key!r}: <redacted>" for key in self) + "}"

    @classmethod
    def of(cls, data: Mapping[str, bytes | str]) -> SecretData:
        """Values as bytes (text values encoded as UTF-8, the way the API server stores them)."""
        return cls(
            {key: value.encode("utf-8") if isinstance(value, str) else value for key, value in data.items()}
        )


# Written out on purpose (yaml.safe_dump), they are the plain values they stand for.
yaml.SafeDumper.add_representer(Hidden, yaml.representer.SafeRepresenter.represent_str)
yaml.SafeDumper.add_representer(HiddenData, yaml.representer.SafeRepresenter.represent_dict)
