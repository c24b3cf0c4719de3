"""The platform protocol: what realises the Strimzi resources a scenario applies.

Scenarios speak Strimzi (Kafka, KafkaNodePool, KafkaTopic, KafkaUser, a sidecar Pod); a platform turns
them into something real. `kubernetes` applies them to a cluster with a pinned Strimzi operator; `local`
runs real Kafka (and ZooKeeper) and the real HTTP bridge as processes on this machine. Every resource is
validated against the profile's CRD schema before it is realised, on both platforms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from kconform.clients.operations import ClientRunner
from kconform.secrets import SecretData
from kconform.versions import Profile


@dataclass(frozen=True)
class Cell:
    """Which platform produced a result: recorded with every test outcome in the conformance record."""

    platform: str  # local | kubernetes
    provider: str | None  # kind | minikube | k3s | existing | None on local
    kubernetes: str | None  # server version, None on local
    strimzi: str
    kafka: str
    mode: str

    def label(self) -> str:
        where = self.platform if self.provider is None else f"{self.platform}/{self.provider}"
        k8s = f" k8s {self.kubernetes}" if self.kubernetes else ""
        return f"{where}{k8s} strimzi {self.strimzi} kafka {self.kafka} {self.mode}"


@dataclass
class Sidecar:
    """A running pod with an application container and the bridge container (the seed's sidecar)."""

    name: str
    bridge_url: str  # how the application container reaches the bridge (http://127.0.0.1:<port>)
    outside_urls: list[str] = field(default_factory=list)  # addresses from outside the pod that must fail
    management_url: str | None = None  # bridge >= 1.0 serves /healthy and /ready here (8081 in a pod)


class Platform(Protocol):
    name: str
    profile: Profile

    def cell(self, mode: str) -> Cell: ...

    # --- namespaces: one per test module / worker, everything a test creates lives in one
    def create_namespace(self, namespace: str) -> None: ...

    def delete_namespace(self, namespace: str) -> None: ...

    # --- resources
    def apply(self, resource: dict[str, Any]) -> None:
        """Validate against the profile's CRD schema, then create or update the resource."""
        ...

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def wait_ready(self, kind: str, namespace: str, name: str, timeout: float) -> dict[str, Any]:
        """Wait for Ready=True at the current generation; raise ResourceFailed at once on NotReady."""
        ...

    def delete(self, kind: str, namespace: str, name: str) -> None: ...

    def read_secret(self, namespace: str, name: str) -> SecretData:
        """The Secret's data as the raw bytes Strimzi stores (PKCS#12 keys are binary); decode the text keys
        you use with `kconform.secrets.text`."""
        ...

    # --- the brokers, as a user inspects them
    def broker_log(self, namespace: str, cluster: str, lines: int = 300) -> str:
        """The tail of every broker's log of the Kafka `cluster` (process logs / pod logs), redacted."""
        ...

    def broker_incarnations(self, namespace: str, cluster: str) -> list[str]:
        """One token per broker that changes whenever that broker restarts (pid; pod uid + restarts)."""
        ...

    # --- the ZooKeeper-to-KRaft migration (0.45.x)
    def wait_metadata_state(
        self, namespace: str, name: str, state: str, timeout: float, *, reason: str | None = None
    ) -> dict[str, Any]:
        """Wait until the Kafka's status.kafkaMetadataState is `state` (and, with `reason`, a condition of
        that reason is there); a WaitTimeout names the state and the latest condition reached."""
        ...

    def zookeeper_children(self, namespace: str, cluster: str, path: str) -> list[str]:
        """The children of a znode in the cluster's ZooKeeper, as zookeeper-shell lists them."""
        ...

    def node_roles(self, namespace: str, cluster: str) -> dict[str, list[str]]:
        """Node (pod) name -> the `process.roles` its configuration gives it (`zookeeper-broker`: none)."""
        ...

    # --- clients
    def internal_clients(self, namespace: str) -> ClientRunner:
        """Runs client requests where internal listeners are reachable (in-cluster on kubernetes)."""
        ...

    def external_clients(self) -> ClientRunner:
        """Runs client requests from outside the cluster (the test host)."""
        ...

    def node_ports(self, count: int, first: int = 0) -> list[int]:
        """NodePorts that external clients can reach on `external_host()`: where they are fixed (kind maps
        a set), `count` of them from the `first`-th; elsewhere `count` free ones (`first` has no use there)."""
        ...

    def external_host(self) -> str:
        """The address an external client uses to reach a node (127.0.0.1 for kind port mappings)."""
        ...

    # --- the bridge sidecar
    def start_sidecar(self, namespace: str, pod: dict[str, Any], config: dict[str, Any]) -> Sidecar:
        """Start the seed's pod (app container + bridge container) with its bridge properties ConfigMap."""
        ...

    def try_from_outside(self, namespace: str, url: str) -> str | None:
        """Try `url` from outside the sidecar's pod: None if it answered, else the connection error."""
        ...

    def stop_sidecar(self, namespace: str, name: str) -> None: ...

    # --- evidence
    def diagnostics(self, namespace: str) -> dict[str, str]:
        """Name -> text (redacted): resources as applied, conditions, log tails."""
        ...

    def close(self) -> None: ...
