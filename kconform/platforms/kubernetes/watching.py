"""Progress of a resource wait, as it happens: its latest condition and, for a Kafka, its pods' states
(image pulls, container creation, restarts), each reported when it changes."""

from __future__ import annotations

from typing import Any, Protocol

from kconform import progress
from kconform.resources import CLUSTER_LABEL


class _Pods(Protocol):
    def pods(self, namespace: str, label_selector: str | None = None) -> list[dict[str, Any]]: ...


def condition_state(resource: dict[str, Any] | None) -> str:
    conditions = ((resource or {}).get("status") or {}).get("conditions") or []
    if not conditions:
        return "not found yet" if resource is None else "no condition yet"
    latest = conditions[-1]
    text = f"{latest.get('type')}={latest.get('status')} {latest.get('reason') or ''} {latest.get('message') or ''}"
    return " ".join(text.split())[:200]


def pod_state(pod: dict[str, Any]) -> str:
    """`kafka-0: Pending ContainerCreating` / `kafka-0: Running` / `kafka-0: ErrImagePull quay.io/...`."""
    status = pod.get("status") or {}
    name = (pod.get("metadata") or {}).get("name")
    for container in status.get("containerStatuses") or status.get("initContainerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            image = f" {container.get('image')}" if "Image" in str(waiting["reason"]) else ""
            return f"{name}: {waiting['reason']}{image}"
    return f"{name}: {status.get('phase')}"


class Watch:
    """Reports what a wait sees, once per change."""

    def __init__(self, kube: _Pods, kind: str, namespace: str, name: str) -> None:
        self.kube = kube
        self.kind, self.namespace, self.name = kind, namespace, name
        self._last: str | None = None
        self._last_pods: str | None = None

    def saw(self, resource: dict[str, Any] | None) -> None:
        state = condition_state(resource)
        if state != self._last:
            self._last = state
            progress.report(f"waiting for {self.kind} {self.namespace}/{self.name}: {state}")
        if self.kind == "Kafka":
            self._pods()

    def _pods(self) -> None:
        try:
            pods = self.kube.pods(self.namespace, f"{CLUSTER_LABEL}={self.name}")
        except Exception:  # progress only: a failed listing never disturbs the wait
            return
        states = ", ".join(sorted(pod_state(p) for p in pods)) or "no pods yet"
        if states != self._last_pods:
            self._last_pods = states
            progress.report(f"pods of Kafka {self.namespace}/{self.name}: {states[:300]}")
