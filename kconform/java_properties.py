"""Java `.properties` text: read as java.util.Properties reads it, written so that it reads back the same.

Used for the bridge's configuration (a Strimzi ConfigMap key) and the local platform's server.properties,
which Kafka loads with java.util.Properties (ISO-8859-1, backslash escapes, continuation lines).
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def parse_properties(text: str) -> dict[str, str]:
    """Java ``.properties`` text to a dict (comments, continuation lines, ``=``/``:``/space separators)."""
    result: dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if _ends_with_odd_backslashes(line):
            logical += line[:-1]
            continue
        logical += line
        key, value = _split_property(logical)
        result[key] = value
        logical = ""
    if logical:
        key, value = _split_property(logical)
        result[key] = value
    return result


def _ends_with_odd_backslashes(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _split_property(line: str) -> tuple[str, str]:
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            index += 2
            continue
        if char in "=: \t\f":
            break
        index += 1
    rest = line[index:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):  # one separator, with optional whitespace around it
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(line[:index]), _unescape(rest)


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 >= len(text):
            out.append(char)
            index += 1
            continue
        nxt = text[index + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[index + 2 : index + 6]):
            out.append(chr(int(text[index + 2 : index + 6], 16)))
            index += 6
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            index += 2
    # \uD83D\uDE00 arrives as two surrogates: join them into the one character they encode
    return "".join(out).encode("utf-16-be", "surrogatepass").decode("utf-16-be")


def render_properties(properties: Mapping[str, str]) -> str:
    """A dict to ``.properties`` text that ``parse_properties`` (and java.util.Properties) read back."""
    lines = []
    for key, value in properties.items():
        lines.append(f"{_escape(str(key), is_key=True)}={_escape(str(value), is_key=False)}")
    return "\n".join(lines) + "\n"


def _escape(text: str, *, is_key: bool) -> str:
    out: list[str] = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char in "\t\n\r\f":
            out.append("\\" + {"\t": "t", "\n": "n", "\r": "r", "\f": "f"}[char])
        elif char == " " and (is_key or index == 0):
            out.append("\\ ")
        elif is_key and char in "=:#!":
            out.append("\\" + char)
        elif ord(char) > 0x7E:  # java.util.Properties reads ISO-8859-1: escape the rest as UTF-16 units
            units = char.encode("utf-16-be")
            out.extend(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
        else:
            out.append(char)
    return "".join(out)
