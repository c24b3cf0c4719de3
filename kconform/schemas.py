"""Validate resources against CustomResourceDefinition schemas, like ``kubectl apply --validate=strict``.

A SchemaSet holds the CRDs of one Strimzi version (from the files in ``<crd root>/<version>/`` or from the
CRD objects installed in a cluster). ``validate`` picks the CRD by kind and API group, insists that the
resource's version is served, checks ``metadata`` the way the API server would, and checks the rest against
the version's OpenAPI v3 schema translated to JSON Schema (draft 7):

- unknown fields are errors, except below ``x-kubernetes-preserve-unknown-fields`` (``spec.kafka.config``);
- ``nullable`` and ``x-kubernetes-int-or-string`` become the JSON Schema equivalents;
- CEL rules (``x-kubernetes-validations``) are not evaluated: the API server does that.

Resources of groups no CRD in the set belongs to (a Pod, a ConfigMap) get only the metadata checks.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from kconform import crds, paths
from kconform.errors import ManifestError, MissingPrerequisite, UsageError
from kconform.versions import Profile

_MAX_REPORTED = 20  # errors listed in one message; the rest are counted
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_RULE = "at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends"
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
# Field names whose values must never be quoted back in a message.
_SENSITIVE = re.compile(r"password|secret|jaas|token|\.key$|^key$|certificate", re.IGNORECASE)
# What the regexes in the Strimzi CRDs mean, for people.
_PATTERN_HINTS = {
    "^[a-z0-9]{1,11}$": "lowercase letters and digits only, 1 to 11 characters",
}
# OpenAPI keys with no JSON Schema meaning here (formats like int32 are not JSON Schema formats).
_DROPPED_KEYS = frozenset({"description", "format", "default", "example", "externalDocs", "title"})
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class _CrdVersion:
    name: str
    served: bool
    schema: Mapping[str, Any]  # the raw openAPIV3Schema
    spec_replicas_path: str | None = None  # subresources.scale.specReplicasPath, e.g. ".spec.replicas"


@dataclass(frozen=True)
class _Crd:
    group: str
    kind: str
    plural: str
    versions: Mapping[str, _CrdVersion]

    @property
    def served(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.versions.values() if v.served)

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"


class SchemaSet:
    """The CRD schemas of one Strimzi version; validators are compiled on first use and kept."""

    def __init__(self, crds: Iterable[_Crd], origin: str) -> None:
        self.origin = origin  # how messages name where the CRDs came from
        self._crds: dict[tuple[str, str], _Crd] = {(c.group, c.kind): c for c in crds}
        self._groups = frozenset(group for group, _ in self._crds)
        self._validators: dict[tuple[str, str, str], Draft7Validator] = {}

    # ----------------------------------------------------------------------------------------- loading

    @classmethod
    def from_dir(cls, path: Path, *, origin: str | None = None) -> SchemaSet:
        """Every CustomResourceDefinition in the *.yaml / *.yml / *.json files of ``path``."""
        path = Path(path)
        if not path.is_dir():
            raise MissingPrerequisite(f"CRD folder {path} does not exist")
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
        documents: list[Any] = []
        for file in files:
            documents.extend(_read_documents(file))
        crds = [
            doc
            for doc in documents
            if isinstance(doc, Mapping) and doc.get("kind") == "CustomResourceDefinition"
        ]
        if not crds:
            raise MissingPrerequisite(f"no CustomResourceDefinition found in {path}")
        return cls.from_crds(crds, origin=origin or f"the CRDs in {path}")

    @classmethod
    def from_crds(cls, crds: Iterable[Any], *, origin: str = "the installed CRDs") -> SchemaSet:
        """CRD objects as dicts (camelCase, as kubectl prints them) or kubernetes-client model objects."""
        return cls([_parse_crd(_plain(crd)) for crd in crds], origin)

    @classmethod
    def for_profile(cls, profile: Profile, crd_root: Path | None = None) -> SchemaSet:
        """The CRDs of ``profile.strimzi`` under ``crd_root``; by default KCONFORM_CRD_DIR, ../shared or
        the cache, downloaded and verified on first use (`kconform.crds`)."""
        folder = crds.crd_folder(profile.strimzi, root=crd_root)
        if not folder.is_dir():
            raise MissingPrerequisite(
                f"no CRDs for Strimzi {profile.strimzi}: {folder} does not exist; {crds.FIX}"
            )
        return _cached_dir(folder.resolve(), f"the Strimzi {profile.strimzi} CRDs")

    # ------------------------------------------------------------------------------------------ queries

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(kind for _, kind in self._crds))

    def served_versions(self, kind: str, group: str = "kafka.strimzi.io") -> tuple[str, ...]:
        crd = self._crds.get((group, kind))
        return crd.served if crd else ()

    def covers(self, resource: Mapping[str, Any]) -> bool:
        """True when the resource's API group belongs to one of these CRDs (so its schema is checked)."""
        group, _ = _split_api_version(resource.get("apiVersion"))
        return group in self._groups

    # ------------------------------------------------------------------------------------------ validate

    def validate(self, resource: Mapping[str, Any]) -> None:
        """Raise ManifestError naming the resource, each bad field's path and what was expected."""
        problems = self.problems(resource)
        if problems:
            raise ManifestError(_compose(resource, self.origin, problems))

    def problems(self, resource: Mapping[str, Any]) -> list[str]:
        """Every problem as ``<field path>: <what is wrong>``; empty when the resource is valid."""
        if not isinstance(resource, Mapping):
            return [f"<resource>: expected a mapping, got {type(resource).__name__}"]
        problems = list(_metadata_problems(resource))
        kind = resource.get("kind")
        api_version = resource.get("apiVersion")
        if not isinstance(kind, str) or not kind:
            problems.append("kind: required field is missing")
        if not isinstance(api_version, str) or not api_version:
            problems.append("apiVersion: required field is missing")
        if not isinstance(kind, str) or not kind or not isinstance(api_version, str) or not api_version:
            return problems
        group, version = _split_api_version(api_version)
        if group not in self._groups:
            return problems  # a built-in kind: the API server has its schema, we do not
        crd = self._crds.get((group, kind))
        if crd is None:
            known = ", ".join(k for g, k in sorted(self._crds) if g == group)
            return [*problems, f"kind: {kind!r} is not a kind of {group} in {self.origin} (known: {known})"]
        if version not in crd.served:
            served = ", ".join(f"{group}/{v}" for v in crd.served)
            return [
                *problems,
                f"apiVersion: {api_version} is not served by the {crd.crd_name} CRD of {self.origin} "
                f"(served: {served}); render the resource for the profile "
                "(kconform.resources.render_for_profile)",
            ]
        validator = self._validator(crd, version)
        schema_problems = [
            problem for error in validator.iter_errors(dict(resource)) for problem in _explain(error)
        ]
        return problems + sorted(set(schema_problems), key=_path_sort_key)

    def _validator(self, crd: _Crd, version: str) -> Draft7Validator:
        key = (crd.group, crd.kind, version)
        validator = self._validators.get(key)
        if validator is None:
            schema = _translate(crd.versions[version].schema, structural=True)
            properties = schema.setdefault("properties", {})
            # metadata is the API server's business; _metadata_problems checks what matters here.
            properties["metadata"] = {"type": "object"}
            properties["apiVersion"] = {"type": "string"}
            properties["kind"] = {"type": "string"}
            schema["type"] = "object"
            _bound_scale_replicas(schema, crd.versions[version].spec_replicas_path)
            validator = Draft7Validator(schema)
            self._validators[key] = validator
        return validator


def _bound_scale_replicas(schema: dict[str, Any], path: str | None) -> None:
    """With a scale subresource the API server also insists the replicas field is a non-negative int32
    (apiextensions-apiserver's scale validation; found by tests/apiserver/test_schema_differential.py)."""
    node: Any = schema
    for part in (path or "").strip(".").split(".") if path else ():
        node = (node.get("properties") or {}).get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and node is not schema:
        node["minimum"] = max(node.get("minimum", 0), 0)
        node["maximum"] = min(node.get("maximum", _INT32_MAX), _INT32_MAX)


# ----------------------------------------------------------------------------------------------- loading


@functools.lru_cache(maxsize=16)
def _cached_dir(folder: Path, origin: str) -> SchemaSet:
    return SchemaSet.from_dir(folder, origin=origin)


def _read_documents(file: Path) -> list[Any]:
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".json":
        return [json.loads(text)]
    # Building Python objects from the 0.5 MB Kafka CRD takes most of a second even with libyaml; JSON
    # of the same content loads in milliseconds, so keep a JSON copy keyed by the YAML's digest.
    cached = paths.cache_dir() / "crd-json" / f"{hashlib.sha256(text.encode()).hexdigest()}.json"
    with contextlib.suppress(OSError, ValueError):
        return list(json.loads(cached.read_text(encoding="utf-8")))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.YAMLError as err:
        raise UsageError(f"{file} is not valid YAML: {err}") from err
    with contextlib.suppress(OSError, TypeError, ValueError):  # a read-only cache only costs time
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(documents), encoding="utf-8")
        partial.replace(cached)  # atomic: concurrent workers never read half a file
    return documents


def _plain(obj: Any) -> Any:
    """Kubernetes-client model objects to the camelCase dicts the API server speaks."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if isinstance(obj, Mapping):
        return {key: _plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(item) for item in obj]
    attribute_map = getattr(obj, "attribute_map", None)
    if isinstance(attribute_map, Mapping):
        return {
            wire: _plain(getattr(obj, attr))
            for attr, wire in attribute_map.items()
            if getattr(obj, attr, None) is not None
        }
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return _plain(to_dict())
    raise UsageError(f"cannot read a CRD from a {type(obj).__name__}; pass the CRD as a dict")


def _parse_crd(crd: Mapping[str, Any]) -> _Crd:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = (crd.get("metadata") or {}).get("name", "<unnamed CRD>")
    versions: dict[str, _CrdVersion] = {}
    for entry in spec.get("versions") or ():
        if "open_apiv3_schema" in (entry.get("schema") or {}):
            raise UsageError(
                f"CRD {name} came from to_dict() (snake_case keys); pass "
                "ApiClient().sanitize_for_serialization(crd) or the model object itself"
            )
        schema = (entry.get("schema") or {}).get("openAPIV3Schema") or {}
        scale = (entry.get("subresources") or {}).get("scale") or {}
        versions[entry["name"]] = _CrdVersion(
            entry["name"], bool(entry.get("served", True)), schema, scale.get("specReplicasPath")
        )
    if not spec.get("group") or not names.get("kind") or not versions:
        raise UsageError(f"CRD {name} lacks spec.group, spec.names.kind or spec.versions")
    return _Crd(spec["group"], names["kind"], names.get("plural", names["kind"].lower()), versions)


def _translate(node: Mapping[str, Any], *, structural: bool) -> dict[str, Any]:
    """One OpenAPI v3 schema node (Kubernetes dialect) as JSON Schema draft 7.

    ``structural`` is False inside oneOf/anyOf/allOf/not: Kubernetes allows only value checks there, so
    those branches must not forbid the fields their siblings declare.
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS or key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: _translate(sub, structural=structural) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, Mapping):
            out[key] = _translate(value, structural=structural and key != "not")
        elif key in ("oneOf", "anyOf", "allOf"):
            out[key] = [_translate(branch, structural=False) for branch in value]
        else:
            out[key] = copy.deepcopy(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        structural
        and out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


# -------------------------------------------------------------------------------------------- messages


def _split_api_version(api_version: object) -> tuple[str, str]:
    if not isinstance(api_version, str):
        return "", ""
    group, _, version = api_version.rpartition("/")
    return group, version


def _format_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "<root>"


def _path_sort_key(problem: str) -> tuple[str, str]:
    return (problem.split(": ", 1)[0], problem)


def _sensitive(path: Sequence[str | int]) -> bool:
    return any(isinstance(part, str) and _SENSITIVE.search(part) for part in path)


def _show(value: Any, path: Sequence[str | int]) -> str:
    if _sensitive(path):
        return "<redacted>"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _did_you_mean(word: object, choices: Iterable[object]) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _explain(error: ValidationError) -> Iterator[str]:
    """One jsonschema error as ``<path>: <plain words>`` lines."""
    path = list(error.absolute_path)
    where = _format_path(path)
    value = error.instance
    rule = error.validator
    expected = error.validator_value
    if rule == "additionalProperties" and isinstance(value, Mapping):
        allowed = sorted((error.schema.get("properties") or {}).keys())
        for extra in sorted(set(value) - set(allowed)):
            hint = _did_you_mean(extra, allowed) or f"; allowed here: {', '.join(allowed)}"
            yield f"{_format_path([*path, extra])}: unknown field{hint}"
    elif rule == "required" and isinstance(value, Mapping):
        for missing in expected:
            if missing not in value:
                yield f"{_format_path([*path, missing])}: required field is missing"
    elif rule == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        yield f"{where}: expected {wanted}, got {_json_type(value)} {_show(value, path)}"
    elif rule == "enum":
        options = ", ".join(str(option) for option in expected)
        yield f"{where}: {_show(value, path)} is not one of: {options}{_did_you_mean(value, expected)}"
    elif rule == "pattern":
        hint = f" ({_PATTERN_HINTS[expected]})" if expected in _PATTERN_HINTS else ""
        yield f"{where}: {_show(value, path)} does not match {expected}{hint}"
    elif rule in ("minimum", "maximum"):
        bound = "less than the minimum" if rule == "minimum" else "greater than the maximum"
        yield f"{where}: {_show(value, path)} is {bound} {expected}"
    elif rule in ("minItems", "maxItems"):
        bound = "at least" if rule == "minItems" else "at most"
        count = len(value) if isinstance(value, list) else 0
        yield f"{where}: needs {bound} {expected} item(s), got {count}"
    elif rule in ("oneOf", "anyOf") and expected and all("required" in b for b in expected):
        fields = ", ".join(name for branch in expected for name in branch["required"])
        quantity = "exactly one" if rule == "oneOf" else "at least one"
        yield f"{where}: set {quantity} of: {fields}"
    elif rule == "anyOf" and {"type": "integer"} in expected and {"type": "string"} in expected:
        yield f"{where}: expected an integer or a string, got {_json_type(value)} {_show(value, path)}"
    elif _sensitive(path):
        yield f"{where}: invalid value (not shown) for rule {rule}"
    else:
        yield f"{where}: {error.message}"


def _metadata_problems(resource: Mapping[str, Any]) -> Iterator[str]:
    metadata = resource.get("metadata")
    if not isinstance(metadata, Mapping):
        yield "metadata: required field is missing (it needs at least a name)"
        return
    name = metadata.get("name")
    if name is None or name == "":
        yield "metadata.name: required field is missing"
    elif not isinstance(name, str) or len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        yield (
            f"metadata.name: {name!r} is not a valid DNS-1123 name (lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters)"
        )
    namespace = metadata.get("namespace")
    if namespace is not None and (
        not isinstance(namespace, str) or len(namespace) > 63 or not _DNS1123_LABEL.match(namespace)
    ):
        yield (
            f"metadata.namespace: {namespace!r} is not a valid DNS-1123 label "
            "(lowercase letters, digits and '-', at most 63 characters)"
        )
    labels = metadata.get("labels")
    if labels is not None:
        if not isinstance(labels, Mapping):
            yield "metadata.labels: expected a mapping of strings"
        else:
            for key, value in labels.items():
                where = _format_path(["metadata", "labels", str(key)])
                if not isinstance(key, str) or not _label_key_ok(key):
                    yield f"{where}: invalid label key (optional DNS prefix and '/', then {_LABEL_RULE})"
                if not isinstance(value, str):
                    yield f"{where}: expected string, got {_json_type(value)} (quote it in YAML)"
                elif len(value) > 63 or not _LABEL_VALUE.match(value):
                    yield f"{where}: {value!r} is not a valid label value ({_LABEL_RULE})"
    annotations = metadata.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, Mapping):
            yield "metadata.annotations: expected a mapping of strings"
        else:
            for key, value in annotations.items():
                if not isinstance(value, str):
                    where = _format_path(["metadata", "annotations", str(key)])
                    yield f"{where}: expected string, got {_json_type(value)} (quote it in YAML)"


def _label_key_ok(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.match(name))


def describe_resource(resource: Mapping[str, Any]) -> str:
    """``Kind/name`` (with the namespace when set), for messages."""
    metadata = resource.get("metadata") if isinstance(resource.get("metadata"), Mapping) else {}
    assert isinstance(metadata, Mapping)
    text = f"{resource.get('kind') or '<no kind>'}/{metadata.get('name') or '<no name>'}"
    return f"{text} in namespace {metadata['namespace']}" if metadata.get("namespace") else text


def _compose(resource: Mapping[str, Any], origin: str, problems: list[str]) -> str:
    head = f"{describe_resource(resource)} does not validate against {origin}"
    if len(problems) == 1:
        return f"{head}: {problems[0]}"
    shown = problems[:_MAX_REPORTED]
    more = len(problems) - len(shown)
    lines = [f"{head} ({len(problems)} problems):", *(f"  - {problem}" for problem in shown)]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)
