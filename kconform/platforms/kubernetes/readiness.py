"""Readiness of Strimzi resources, decided from their status exactly as the operator writes it.

Strimzi reports success as condition `Ready` = "True" and failure as condition `NotReady` = "True" (never
Ready = "False"); `Warning` conditions carry advice. A status is only current when `status.observedGeneration`
equals `metadata.generation` — after an edit the old Ready condition is stale. KafkaNodePool has no conditions
at all: it is ready once the operator has assigned node IDs.

A failed reconcile also writes the current observedGeneration, and the operator retries on its next
reconcile (KafkaAssemblyOperator.createOrUpdate): a NotReady condition is final only when its reason is a
configuration error no retry can fix (strimzi_contract.FINAL_REASONS). Any other NotReady (a timeout while
images pull, a NodePort still held by a terminating namespace) keeps the wait going, its message kept as
evidence for the timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kconform import strimzi_contract as contract
from kconform.errors import ResourceFailed
from kconform.kind_readiness import is_ready

NO_CONDITION_KINDS = frozenset({"KafkaNodePool"})


@dataclass(frozen=True)
class ReadyState:
    ready: bool
    failed_message: str | None = None  # a final NotReady: stop waiting
    retrying_message: str | None = None  # a NotReady the operator retries: keep waiting, show it on timeout
    stale: bool = False
    warnings: tuple[str, ...] = field(default=())


def _conditions(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return list((resource.get("status") or {}).get("conditions") or [])


def _describe(condition: dict[str, Any]) -> str:
    reason = condition.get("reason") or condition.get("type", "")
    message = condition.get("message") or ""
    return f"{reason}: {message}" if message else str(reason)


def evaluate(resource: dict[str, Any]) -> ReadyState:
    """The readiness of one resource as returned by the API (a dict with metadata and status)."""
    status = resource.get("status") or {}
    generation = (resource.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if resource.get("kind") in NO_CONDITION_KINDS:
        return ReadyState(ready=bool(status.get("nodeIds")))
    stale = generation is not None and observed != generation
    conditions = _conditions(resource)
    warnings = tuple(_describe(c) for c in conditions if c.get("type") == "Warning")
    if stale:
        # Conditions describe an older spec; neither success nor failure is about the current one.
        return ReadyState(ready=False, stale=True, warnings=warnings)
    for condition in conditions:
        if condition.get("type") == "NotReady" and condition.get("status") == "True":
            if contract.is_final(condition):
                return ReadyState(ready=False, failed_message=_describe(condition), warnings=warnings)
            return ReadyState(ready=False, retrying_message=_describe(condition), warnings=warnings)
    return ReadyState(ready=is_ready(conditions), warnings=warnings)


def check(resource: dict[str, Any]) -> dict[str, Any] | None:
    """For wait_until: the resource when ready, None when not yet; ResourceFailed on a final NotReady."""
    state = evaluate(resource)
    if state.failed_message is not None:
        meta = resource.get("metadata") or {}
        raise ResourceFailed(
            f"{resource.get('kind')} {meta.get('namespace')}/{meta.get('name')} is NotReady: "
            f"{state.failed_message}"
        )
    return resource if state.ready else None


def summary(resource: dict[str, Any] | None) -> str:
    """One line for a timeout message: what the status said last."""
    if resource is None:
        return "resource not found"
    state = evaluate(resource)
    conditions = ", ".join(f"{c.get('type')}={c.get('status')}" for c in _conditions(resource)) or "none"
    text = f"conditions [{conditions}]"
    if state.stale:
        status = resource.get("status") or {}
        text += (
            f"; status is stale (observedGeneration {status.get('observedGeneration')} "
            f"< generation {(resource.get('metadata') or {}).get('generation')})"
        )
    if state.retrying_message:
        text += f"; NotReady, the operator retries: {state.retrying_message}"
    if state.warnings:
        text += "; warnings: " + " | ".join(state.warnings)
    return text
