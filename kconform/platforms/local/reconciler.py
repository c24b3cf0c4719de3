"""What the local platform's reconcilers share: the interface each one implements, and the platform's state.

Like an operator with one reconciler per kind (Strimzi's systemtest likewise has one type class per kind), the
local platform keeps the desired resources and hands each kind to its reconciler: `kafka_reconciler` (a Kafka
and its node pools become processes), `node_pool_reconciler`, `user_reconciler` (a certificate or SCRAM
credentials, a Secret and ACLs), `topic_reconciler` and `sidecar_reconciler` (the bridge sidecar pod).
`LocalPlatform` dispatches to them through a table and writes the Ready or NotReady condition itself.

Locking: `LocalState.lock` guards the dictionaries; a reconciler takes it only around reads and writes of
them, never while a process starts or a wait runs, so a cell's clusters can start in threads of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from kconform.clients import kafka as kafka_clients
from kconform.errors import PlatformError, ResourceFailed, UsageError
from kconform.platforms.local.kafka_cluster import LocalKafka
from kconform.platforms.local.migration import LocalMigration
from kconform.platforms.local.processes import ProcessSupervisor
from kconform.secrets import SecretData
from kconform.versions import Profile

Key = tuple[str, str, str]  # kind, namespace, name
Desired = TypeVar("Desired", contravariant=True)
Outcome = TypeVar("Outcome", covariant=True)


class Reconciler(Protocol[Desired, Outcome]):
    """Makes one kind's desired state real, and removes it again."""

    def reconcile(self, desired: Desired, timeout: float) -> Outcome:
        """Realise `desired` (again: a reconcile of something already realised checks it is alive) within
        `timeout`; ResourceFailed when it cannot be, which the platform reports as NotReady."""
        ...

    def delete(self, desired: Desired) -> None:
        """Remove what `reconcile` realised (the platform has dropped the resource itself already)."""
        ...


class KindReconciler(Reconciler[dict[str, Any], None], Protocol):
    """A reconciler of one Strimzi kind; it updates the stored resource's status in place."""

    kind: str
    ready_condition: bool  # whether the kind reports a Ready condition (KafkaNodePool has none)


class LocalState:
    """The desired resources, the Secrets and the running clusters of one local platform, and their lock."""

    def __init__(self, profile: Profile, supervisor: ProcessSupervisor, work_dir: Path) -> None:
        self.profile = profile
        self.supervisor = supervisor
        self.work_dir = work_dir
        self.resources: dict[Key, dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], Mapping[str, bytes | str]] = {}
        self.clusters: dict[tuple[str, str], LocalKafka] = {}
        self.migrations: dict[tuple[str, str], LocalMigration] = {}
        # A cell's clusters start in threads of their own while tests use the ones already Ready.
        self.lock = threading.RLock()

    def read_secret(self, namespace: str, name: str) -> SecretData:
        for (ns, _), cluster in list(self.clusters.items()):
            if ns == namespace and name in cluster.secrets():
                return SecretData.of(cluster.secrets()[name])
        found = self.secrets.get((namespace, name))
        if found is None:
            raise PlatformError(f"Secret {namespace}/{name} does not exist")
        return SecretData.of(found)

    def pools_of(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """The KafkaNodePools of Kafka `namespace/name` (the caller holds the lock)."""
        return [
            r
            for (kind, ns, _), r in self.resources.items()
            if kind == "KafkaNodePool" and ns == namespace and cluster_of(r) == name
        ]

    def running_cluster(self, resource: dict[str, Any]) -> LocalKafka:
        """The running cluster `resource` belongs to; ResourceFailed when it is not Ready (yet)."""
        namespace = resource["metadata"]["namespace"]
        cluster_name = cluster_of(resource)
        cluster = self.clusters.get((namespace, cluster_name))
        if cluster is None:
            raise ResourceFailed(
                f"{resource['kind']} {resource['metadata']['name']}: Kafka {namespace}/{cluster_name} "
                "is not ready; wait for it first"
            )
        cluster.ensure_alive()
        return cluster


def cluster_of(resource: dict[str, Any]) -> str:
    """The Kafka a resource belongs to: its own name for a Kafka, else its strimzi.io/cluster label."""
    if resource["kind"] == "Kafka":
        return str(resource["metadata"]["name"])
    label = (resource["metadata"].get("labels") or {}).get("strimzi.io/cluster")
    if not label:
        raise UsageError(
            f"{resource['kind']} {resource['metadata']['name']} needs the label strimzi.io/cluster=<kafka name>"
        )
    return str(label)


def admin(cluster: LocalKafka, timeout: float = 30) -> Any:
    """An admin client of the cluster, with the platform's own super-user credentials."""
    return kafka_clients.admin(cluster.admin_endpoint(), cluster.admin_credentials, timeout_s=timeout)
