"""Which namespaces kconform created, and so may delete: only those carrying its creation marker.

The run label (`kconform.io/run`) says which run a resource belongs to; it is not proof of creation
(server-side apply of a labelled Namespace adds the label to a namespace that already existed). The marker
below is set only when kconform itself creates a namespace that did not exist, and `clean` and the end of a
run delete only marked namespaces. A namespace that existed before (e.g. the user's `strimzi`) is the
user's and is never labelled, marked or deleted.
"""

from __future__ import annotations

from typing import Any, Protocol

from kconform import resources
from kconform.errors import UsageError

CREATED_BY_LABEL = "kconform.io/created-by"
CREATED_BY_VALUE = "kconform"
SELECTOR = f"{CREATED_BY_LABEL}={CREATED_BY_VALUE}"


class _Api(Protocol):
    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]: ...


def namespace_manifest(name: str, run_id: str) -> dict[str, Any]:
    """A Namespace kconform creates: the run label and the creation marker.

    Deliberately no `pod-security.kubernetes.io/enforce: restricted`: kconform's own pods would pass (see
    tests/apiserver/test_pod_security.py), but Strimzi's would not. The cluster operator's default pod
    security provider is BaselinePodSecurityProvider (STRIMZI_POD_SECURITY_PROVIDER_CLASS default in
    ClusterOperatorConfig.java at 0.45.2 and 1.2.0), which sets no container securityContext on the Kafka
    pods (PodSecurityProvider.kafkaContainerSecurityContext returns the user's or none), and kconform
    installs the operator without switching it to RestrictedPodSecurityProvider. Enforcing "restricted"
    here would make the operator's Kafka pods be refused and every test a readiness timeout.
    """
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {resources.RUN_LABEL: run_id, CREATED_BY_LABEL: CREATED_BY_VALUE},
        },
    }


def is_owned(namespace: dict[str, Any] | None) -> bool:
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(CREATED_BY_LABEL) == CREATED_BY_VALUE


def selector(run_id: str | None = None) -> str:
    """Label selector of the namespaces kconform created (of one run, or of every run)."""
    return f"{SELECTOR},{resources.RUN_LABEL}={run_id}" if run_id else SELECTOR


def ensure_namespace(
    kube: _Api, name: str, run_id: str, purpose: str, *, cluster_is_kconforms: bool = False
) -> bool:
    """Create `name` with the marker; True when created now, False when an earlier run created it.

    A namespace kconform did not create is refused with one line, never labelled or taken over, except on
    a cluster kconform created itself (kind, minikube, k3s), where every namespace is kconform's (an
    older kconform marked them with the run label only).
    """
    existing = kube.get("v1", "Namespace", None, name)
    if existing is None:
        kube.apply(namespace_manifest(name, run_id))
        return True
    if is_owned(existing):
        return False
    if cluster_is_kconforms:
        kube.apply(namespace_manifest(name, run_id))
        return False
    raise UsageError(
        f"namespace {name!r} already exists and kconform did not create it; kconform never uses a "
        f"namespace it does not own for the {purpose}: delete it, or test the Strimzi installed there "
        "(provider existing without --install)"
    )
