"""Remove secrets from text and mappings before they reach a log, a diagnostics bundle or a report.

What counts as a secret here: PEM private keys (any `-----BEGIN ... PRIVATE KEY-----` block), the values of
`sasl.jaas.config`, passwords (`password=...`, `"password": "..."`, `ssl.key.password`, `*.password`) and
inline key material (`ssl.keystore.key`). Certificates are public and stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"

# Whole PEM private-key blocks; a block cut off before its END line is removed to the end of the text.
_PEM_KEY = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY)-----.*?(?:-----END (?P=kind)-----|\Z)",
    re.DOTALL,
)
# Property names whose values are secret, in `name=value`, `name: value` and JSON `"name": "value"` form.
_SENSITIVE_NAMES = (
    r"[\w.\-]*(?:password|passwd|secret|jaas\.config|keystore\.key|private[._]key|user[._]key|ca[._]key)"
)
_JSON_VALUE = re.compile(rf'(?P<head>"{_SENSITIVE_NAMES}"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
# A jaas config contains spaces, quotes and ';': its value is the rest of the line.
_JAAS_VALUE = re.compile(r"(?P<head>sasl\.jaas\.config\s*[=:]\s*)[^\n]*", re.IGNORECASE)
_PROPERTY_VALUE = re.compile(
    rf"(?P<head>\b{_SENSITIVE_NAMES}\s*[=:]\s*)(?!\s*(?:{re.escape(REDACTED)}|-----BEGIN))[^\s,;&]+",
    re.IGNORECASE,
)

# Mapping keys: the names above, plus PKCS#12/JKS keystores (Strimzi's user.p12 holds the private key).
_SENSITIVE_KEY = re.compile(
    rf"^{_SENSITIVE_NAMES}$|^[\w.\-]*\.(?:p12|pfx|jks)$|^(?:token|api[_-]?key)$", re.IGNORECASE
)


def redact(text: str) -> str:
    """`text` with private keys and secret property values replaced by `<redacted>`."""
    text = _PEM_KEY.sub(lambda m: f"-----BEGIN {m['kind']}-----{REDACTED}-----END {m['kind']}-----", text)
    text = _JSON_VALUE.sub(lambda m: f'{m["head"]}"{REDACTED}"', text)
    text = _JAAS_VALUE.sub(lambda m: f"{m['head']}{REDACTED}", text)
    return _PROPERTY_VALUE.sub(lambda m: f"{m['head']}{REDACTED}", text)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key (Secret data key, config property, field name) names a secret."""
    return bool(_SENSITIVE_KEY.search(key))


def redact_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `data` with secret keys' values replaced and every string value passed through `redact`.

    Nested mappings and lists are handled; the input is not modified.
    """
    return {key: REDACTED if is_secret_key(str(key)) else _redact_value(value) for key, value in data.items()}


def _redact_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(item) for item in value)
    if isinstance(value, str):
        return redact(value)
    return value
