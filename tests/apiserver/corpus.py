"""A generated corpus of Strimzi documents, valid and broken, for comparing kconform's validator with the API server.

Seeds are the documents the scenarios apply (built by kconform.resources). Mutations come from the CRD's own
schema at each node the seed holds: a value of another type, a value outside an enum, an unknown field, a
required field removed, a number below the minimum or above the maximum, a string that breaks a pattern —
and, to find what a validator wrongly refuses, valid variants: each enum value, the bounds themselves, and
optional fields the seed leaves out, added with a value their schema allows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

UNKNOWN_FIELD = "kconformUnknownField"
_WRONG_TYPE: dict[str, Any] = {
    "string": 12345,
    "integer": "12",
    "number": "1.5",
    "boolean": "true",
    "object": "text",
    "array": "text",
}


@dataclass(frozen=True)
class Case:
    label: str  # what was done, e.g. "Kafka spec.kafka.listeners[0].port: below minimum 9092"
    document: dict[str, Any]


Path = tuple[str | int, ...]


def _fmt(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<root>"


def _nodes(
    value: Any, schema: Mapping[str, Any], path: Path
) -> Iterator[tuple[Path, Any, Mapping[str, Any]]]:
    yield path, value, schema
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                yield from _nodes(sub, props[key], (*path, key))
            elif isinstance(extra, Mapping):
                yield from _nodes(sub, extra, (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _nodes(item, schema["items"], (*path, index))


def _set(document: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def _delete(document: dict[str, Any], path: Path) -> dict[str, Any]:
    out = copy.deepcopy(document)
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return out


def _sample(schema: Mapping[str, Any]) -> Any:
    """A value the node's own schema allows, or None when none is obvious (objects with requirements...)."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "boolean":
        return True
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "string" and not schema.get("pattern"):
        return "kconform"
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        item = _sample(schema["items"])
        return None if item is None else [item]
    if kind == "object" and not schema.get("required") and not schema.get("properties"):
        return {}
    return None


def mutations(document: dict[str, Any], schema: Mapping[str, Any]) -> Iterator[Case]:
    kind = document["kind"]
    for path, value, node in _nodes(document, schema, ()):
        if path[:1] in (("metadata",), ("apiVersion",), ("kind",)) or not path:
            continue
        where = f"{kind} {_fmt(path)}"
        node_type = node.get("type")
        if node_type in _WRONG_TYPE and not node.get("x-kubernetes-int-or-string"):
            yield Case(f"{where}: wrong type", _set(document, path, _WRONG_TYPE[node_type]))
        if node_type == "integer" and isinstance(value, int) and not isinstance(value, bool):
            yield Case(f"{where}: non-integral number", _set(document, path, value + 0.5))
            yield Case(f"{where}: beyond int32", _set(document, path, 2**31))
        if node_type == "string" and isinstance(value, str):
            yield Case(f"{where}: empty string", _set(document, path, ""))
        if path[-1] != "spec":
            yield Case(f"{where}: null", _set(document, path, None))
        if node.get("enum"):
            yield Case(f"{where}: not in enum", _set(document, path, "kconform-not-in-enum"))
            for option in node["enum"]:
                if option != value:
                    yield Case(f"{where}: enum value {option!r}", _set(document, path, option))
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if bound in node and isinstance(value, int | float) and not isinstance(value, bool):
                yield Case(f"{where}: {bound} itself", _set(document, path, node[bound]))
                yield Case(f"{where}: beyond {bound}", _set(document, path, node[bound] + step))
        if "pattern" in node and isinstance(value, str):
            yield Case(f"{where}: breaks pattern", _set(document, path, "Not A Match!"))
        if isinstance(value, dict):
            if node.get("properties") and not node.get("x-kubernetes-preserve-unknown-fields"):
                yield Case(f"{where}: unknown field", _set(document, (*path, UNKNOWN_FIELD), 1))
            for required in node.get("required") or ():
                if required in value:
                    yield Case(f"{where}: required {required} removed", _delete(document, (*path, required)))
            for name, sub in (node.get("properties") or {}).items():
                if name not in value:
                    sample = _sample(sub)
                    if sample is not None:
                        yield Case(
                            f"{where}.{name}: optional field added", _set(document, (*path, name), sample)
                        )
        if isinstance(value, list) and "minItems" in node and value:
            yield Case(f"{where}: fewer than minItems", _set(document, path, []))


def build(seeds: list[dict[str, Any]], schema_of: Any) -> list[Case]:
    """Seeds plus their mutations, deduplicated; `schema_of(kind)` gives a kind's openAPIV3Schema."""
    cases: list[Case] = []
    seen: set[str] = set()

    def add(case: Case) -> None:
        key = json.dumps(case.document, sort_keys=True)
        if key not in seen:
            seen.add(key)
            cases.append(case)

    for seed in seeds:
        add(Case(f"{seed['kind']} seed", seed))
        for case in mutations(seed, schema_of(seed["kind"])):
            add(case)
    return cases
