"""Cluster reuse: a cluster is reused only when it was made for exactly the same combination.

The fingerprint (provider, Kubernetes version, node image, Strimzi version) is stored in the cluster itself,
as annotations on the ConfigMap `kconform-fingerprint` in kube-system, so a cluster carries its own identity.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any

CONFIGMAP_NAME = "kconform-fingerprint"
CONFIGMAP_NAMESPACE = "kube-system"
ANNOTATION_PREFIX = "kconform.io/"


@dataclass(frozen=True)
class Fingerprint:
    provider: str
    kubernetes: str
    node_image: str
    strimzi: str

    def to_configmap(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": CONFIGMAP_NAME,
                "namespace": CONFIGMAP_NAMESPACE,
                "labels": {"app.kubernetes.io/managed-by": "kconform"},
                "annotations": {ANNOTATION_PREFIX + k: v for k, v in asdict(self).items()},
            },
        }

    @classmethod
    def from_configmap(cls, configmap: dict[str, Any] | None) -> Fingerprint | None:
        """The fingerprint a cluster carries, or None when absent or incomplete (then not ours to reuse)."""
        if not configmap:
            return None
        annotations = (configmap.get("metadata") or {}).get("annotations") or {}
        values = {f: annotations.get(ANNOTATION_PREFIX + f) for f in cls.__dataclass_fields__}
        if any(v is None for v in values.values()):
            return None
        return cls(**{k: str(v) for k, v in values.items()})


class Reuse(enum.Enum):
    CREATE = "create"  # no cluster yet
    REUSE = "reuse"  # same fingerprint: keep it
    RECREATE = "recreate"  # a cluster of that name exists but was made for something else


def decide(exists: bool, stored: Fingerprint | None, wanted: Fingerprint) -> Reuse:
    if not exists:
        return Reuse.CREATE
    return Reuse.REUSE if stored == wanted else Reuse.RECREATE


def mismatch(stored: Fingerprint | None, wanted: Fingerprint) -> str:
    """Why a cluster is not reused, for the log."""
    if stored is None:
        return "it carries no kconform fingerprint"
    diffs = [
        f"{name} {getattr(stored, name)} != {getattr(wanted, name)}"
        for name in wanted.__dataclass_fields__
        if getattr(stored, name) != getattr(wanted, name)
    ]
    return ", ".join(diffs) or "same fingerprint"
