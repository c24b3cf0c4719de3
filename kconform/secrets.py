"""Reading Secret values: `Platform.read_secret` returns the raw bytes Strimzi stores; callers decode the text
keys they use (`ca.crt`, `user.crt`, `user.key`, `password`, `sasl.jaas.config`) with `text`."""

from __future__ import annotations

from collections.abc import Mapping

from kconform.errors import PlatformError


def text(data: Mapping[str, bytes | str], key: str, *, where: str = "the Secret") -> str:
    """The UTF-8 text of one key; a missing key is a PlatformError naming it (never the values)."""
    value = data.get(key)
    if value is None:
        present = ", ".join(sorted(data)) or "none"
        raise PlatformError(f"{where} has no key {key!r} (keys present: {present})")
    return value.decode("utf-8") if isinstance(value, bytes) else value
