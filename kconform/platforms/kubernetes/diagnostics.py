"""Evidence on failure: resources with their conditions, events, pod logs (previous containers too) and the
operator's error lines, all redacted, written under reports/diagnostics/<test>/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kconform.errors import KconformError
from kconform.platforms.kubernetes import install, readiness
from kconform.platforms.kubernetes.kube import Kube
from kconform.redact import redact, redact_mapping

STRIMZI_KINDS = ("Kafka", "KafkaNodePool", "KafkaUser", "KafkaTopic")
ERROR_LINE = re.compile(r"\b(ERROR|Exception)\b")


def operator_errors(log: str, limit: int = 200) -> str:
    return "\n".join([line for line in log.splitlines() if ERROR_LINE.search(line)][-limit:])


def resource_text(resource: dict[str, Any]) -> str:
    clean = redact_mapping({k: v for k, v in resource.items() if k != "managedFields"})
    clean.get("metadata", {}).pop("managedFields", None)
    return f"# {readiness.summary(resource)}\n" + yaml.safe_dump(clean, sort_keys=False)


def collect(kube: Kube, namespace: str, api_version: str, operator_namespace: str) -> dict[str, str]:
    """Name -> redacted text. Each part is best effort: one failing call must not hide the others."""
    out: dict[str, str] = {}

    def attempt(name: str, make: Any) -> None:
        try:
            out[name] = redact(make())
        except KconformError as err:
            out[name] = f"(could not collect: {redact(str(err))})"

    for kind in STRIMZI_KINDS:
        attempt(
            f"{kind}.yaml",
            lambda kind=kind: "\n---\n".join(
                resource_text(r) for r in kube.list_objects(api_version, kind, namespace)
            ),
        )
    attempt("events.txt", lambda: _events_text(kube.events(namespace)))
    for pod in _pods(kube, namespace, None, out):
        _pod_logs(kube, pod, out)
    for pod in _pods(kube, operator_namespace, install.OPERATOR_SELECTOR, out):
        name = pod["metadata"]["name"]
        attempt(
            "operator-errors.log",
            lambda name=name: operator_errors(kube.pod_log(operator_namespace, name, tail=5000)),
        )
        _pod_logs(kube, pod, out)
    return out


def _pods(kube: Kube, namespace: str, selector: str | None, out: dict[str, str]) -> list[dict[str, Any]]:
    try:
        return kube.pods(namespace, selector)
    except KconformError as err:  # e.g. no right to list pods there: the other evidence still counts
        out[f"pods-{namespace}.txt"] = f"(could not list pods: {redact(str(err))})"
        return []


def pod_evidence(kube: Kube, namespace: str, pod: str, container: str, tail: int = 60) -> str:
    """A pod's events and one container's log tail (redacted): what a wait on that pod shows on timeout."""
    parts = []
    try:
        events = [e for e in kube.events(namespace) if (e.get("involvedObject") or {}).get("name") == pod]
        parts.append(f"events of pod {pod}:\n{_events_text(events) or '(none)'}")
    except KconformError as err:
        parts.append(f"(no events: {err})")
    try:
        parts.append(f"log of container {container}:\n{kube.pod_log(namespace, pod, container, tail=tail)}")
    except KconformError as err:
        parts.append(f"(no log of container {container}: {err})")
    return redact("\n".join(parts))


def _events_text(events: list[dict[str, Any]]) -> str:
    rows = []
    for e in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        obj = e.get("involvedObject") or {}
        rows.append(
            f"{e.get('lastTimestamp') or e.get('eventTime')} {e.get('type')} "
            f"{obj.get('kind')}/{obj.get('name')} "
            f"{e.get('reason')}: {e.get('message')}"
        )
    return "\n".join(rows)


def _pod_logs(kube: Kube, pod: dict[str, Any], out: dict[str, str]) -> None:
    meta, status = pod["metadata"], pod.get("status") or {}
    namespace, name = meta["namespace"], meta["name"]
    out[f"pods/{name}.phase"] = str(status.get("phase"))
    for cs in status.get("containerStatuses") or []:
        container = cs["name"]
        for previous in (False, True) if cs.get("restartCount") else (False,):
            suffix = ".previous" if previous else ""
            try:
                text = kube.pod_log(namespace, name, container, previous=previous)
            except KconformError as err:
                text = f"(no log: {err})"
            out[f"pods/{name}.{container}{suffix}.log"] = redact(text)


def write(base: Path, test: str, parts: dict[str, str]) -> Path:
    folder = base / re.sub(r"[^A-Za-z0-9_.-]+", "_", test)
    for name, text in parts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(text))
    return folder
