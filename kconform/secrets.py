"""Reading one text value of a Strimzi Secret.

`Platform.read_secret` hands back every value as the raw bytes Strimzi stores, because some are binary
(`ca.p12`, `user.p12`: PKCS#12). Callers decode only the text keys they use, with `text`.
"""

from __future__ import annotations

from collections.abc import Mapping

from kconform.errors import PlatformError


def text(data: Mapping[str, bytes], key: str, *, source: str = "the Secret") -> str:
    """The UTF-8 text of `key`; a PlatformError naming the key (never a value) when it is missing or binary."""
    raw = data.get(key)
    if raw is None:
        present = ", ".join(sorted(data)) or "none"
        raise PlatformError(f"{source} has no key {key} (keys present: {present})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PlatformError(f"{source} key {key} is binary, not text") from err


def pem(data: Mapping[str, bytes], key: str, marker: str, *, source: str = "the Secret") -> str:
    """`text` of a PEM key, checked to hold a `-----BEGIN <marker>` block (named, never shown, when not)."""
    value = text(data, key, source=source)
    if f"-----BEGIN {marker}" not in value:
        raise PlatformError(f"{source} key {key} is not a PEM {marker.lower()}")
    return value
