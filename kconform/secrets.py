"""Reading Secret values: `Platform.read_secret` returns the raw bytes Strimzi stores; callers decode the text
keys they use (`ca.crt`, `user.crt`, `user.key`, `password`, `sasl.jaas.config`) with `text`."""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from kconform.errors import PlatformError


def text(data: Mapping[str, bytes | str], key: str, *, where: str = "the Secret") -> str:
    """The UTF-8 text of one key; a missing key is a PlatformError naming it (never the values)."""
    value = data.get(key)
    if value is None:
        present = ", ".join(sorted(data)) or "none"
        raise PlatformError(f"{where} has no key {key!r} (keys present: {present})")
    return value.decode("utf-8") if isinstance(value, bytes) else value


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


# Written out on purpose (yaml.safe_dump), they are the plain values they stand for.
yaml.SafeDumper.add_representer(Hidden, yaml.representer.SafeRepresenter.represent_str)
yaml.SafeDumper.add_representer(HiddenData, yaml.representer.SafeRepresenter.represent_dict)
