"""Readiness by kind: one table of how long a wait for each kind to be Ready may take and how often its status
is read, and the one test of a `Ready` condition.

Both platforms and the fixtures read it, as Strimzi's systemtest keeps one table of timeouts
(`ResourceOperation`) and one readiness rule per type (`KafkaUserType` and its siblings). The two pods kconform
applies itself have the Pod row (the kubernetes platform's client pod and sidecar pod: an image pull, then the
containers start); the bridge inside the sidecar pod has a row of its own (a JVM start, then the Kafka clients'
first metadata).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BRIDGE_SIDECAR = (
    "BridgeSidecar"  # the bridge of the sidecar pod: Ready when it answers its readiness endpoint
)


@dataclass(frozen=True)
class Readiness:
    timeout_s: float  # the bound of one wait for Ready
    poll_s: float  # how often a platform that polls reads the status meanwhile
    # The local platform's bound where it differs: a process on this machine, no scheduling or image pull.
    local_timeout_s: float | None = None

    @property
    def local(self) -> float:
        return self.timeout_s if self.local_timeout_s is None else self.local_timeout_s


DEFAULT = Readiness(timeout_s=180.0, poll_s=2.0)
READINESS: Mapping[str, Readiness] = {
    "Kafka": Readiness(timeout_s=600.0, poll_s=2.0),
    "KafkaNodePool": DEFAULT,
    "KafkaUser": DEFAULT,
    "KafkaTopic": DEFAULT,
    BRIDGE_SIDECAR: Readiness(timeout_s=180.0, poll_s=2.0, local_timeout_s=120.0),
    "Pod": Readiness(timeout_s=300.0, poll_s=2.0),
}


def readiness_of(kind: str) -> Readiness:
    """The row of `kind`; a kind without one (a ConfigMap, a Secret) waits by DEFAULT."""
    return READINESS.get(kind, DEFAULT)


def is_ready(conditions: Iterable[Mapping[str, Any]] | None) -> bool:
    """A `Ready` condition with status "True" is among `conditions` (Strimzi's resources, Pods and Nodes alike).
    Whether the status is current (observedGeneration) is the caller's question."""
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions or ())
