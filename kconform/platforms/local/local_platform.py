"""The local platform: Strimzi resources realised by real Kafka, ZooKeeper and bridge processes.

Like an operator, it keeps the desired resources and reconciles them, one reconciler per kind (reconciler.py
draws the interface): a Kafka (with its node pools) becomes processes when it is first awaited; a KafkaUser
becomes a certificate from the clients CA, a Secret and ACLs; a KafkaTopic becomes a topic; the sidecar pod
becomes a bridge process. Status is written in Strimzi's shape, so scenarios read bootstrap addresses from
`status.listeners` and credentials from Secrets on every platform alike.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from kconform import kraft_migration
from kconform.clients.local_runner import InProcessRunner
from kconform.clients.operations import ClientRunner
from kconform.errors import PlatformError, ResourceFailed, UsageError
from kconform.kind_readiness import BRIDGE_SIDECAR, readiness_of
from kconform.platforms.local import sidecar
from kconform.platforms.local.kafka_cluster import now
from kconform.platforms.local.kafka_reconciler import KafkaReconciler
from kconform.platforms.local.migration import LocalMigration
from kconform.platforms.local.node_pool_reconciler import NodePoolReconciler
from kconform.platforms.local.ports import free_ports, release
from kconform.platforms.local.processes import ProcessSupervisor
from kconform.platforms.local.reconciler import KindReconciler, LocalState, cluster_of
from kconform.platforms.local.sidecar_reconciler import SidecarPod, SidecarReconciler
from kconform.platforms.local.topic_reconciler import TopicReconciler
from kconform.platforms.local.user_reconciler import UserReconciler
from kconform.platforms.protocol import Cell, Sidecar
from kconform.redact import redact
from kconform.schemas import SchemaSet
from kconform.secrets import Hidden, HiddenData, SecretData
from kconform.versions import Profile
from kconform.waits import wait_until

KAFKA_KINDS = ("Kafka", "KafkaNodePool", "KafkaUser", "KafkaTopic")
OWN_KINDS = ("Secret",)  # a user's own Secrets, e.g. a scram-sha-512 KafkaUser's password


class LocalPlatform:
    name = "local"

    def __init__(
        self,
        profile: Profile,
        *,
        run_id: str,
        log_dir: Path,
        schemas: SchemaSet | None = None,
        keep: bool = False,
    ) -> None:
        self.profile = profile
        self.run_id = run_id
        # Keystores, CA keys and data live in a private temporary folder, never under the reports.
        self.work_dir = Path(tempfile.mkdtemp(prefix=f"kconform-{run_id}-"))
        self.keep = keep
        self.schemas = schemas or SchemaSet.for_profile(profile)
        self.supervisor = ProcessSupervisor(run_id, log_dir)
        self.state = LocalState(profile, self.supervisor, self.work_dir)
        # One reconciler per kind; wait_ready and delete dispatch through this table.
        self._reconcilers: dict[str, KindReconciler] = {
            reconciler.kind: reconciler
            for reconciler in (
                KafkaReconciler(self.state),
                NodePoolReconciler(),
                UserReconciler(self.state),
                TopicReconciler(self.state),
            )
        }
        self._sidecar = SidecarReconciler(
            profile, self.supervisor, self.work_dir, self.read_secret, self.resolve_service
        )
        self._sidecar_pods: dict[tuple[str, str], SidecarPod] = {}
        self._namespaces: set[str] = set()
        self._node_ports: list[int] = []  # node_ports() handed out, held until close()

    # ------------------------------------------------------------------ cell and namespaces
    def cell(self, mode: str) -> Cell:
        return Cell("local", None, None, self.profile.strimzi, self.profile.kafka_version, mode)

    def create_namespace(self, namespace: str) -> None:
        self._namespaces.add(namespace)

    def delete_namespace(self, namespace: str) -> None:
        for key in [k for k in self._sidecar_pods if k[0] == namespace]:
            self.stop_sidecar(*key)
        with self.state.lock:
            stopping = [self.state.clusters.pop(k) for k in list(self.state.clusters) if k[0] == namespace]
            for key in [k for k in self.state.migrations if k[0] == namespace]:
                self.state.migrations.pop(key)
            self.state.resources = {k: v for k, v in self.state.resources.items() if k[1] != namespace}
            self.state.secrets = {k: v for k, v in self.state.secrets.items() if k[0] != namespace}
            self._namespaces.discard(namespace)
        for cluster in stopping:
            cluster.stop()

    # ------------------------------------------------------------------ resources
    def apply(self, resource: dict[str, Any]) -> None:
        with self.state.lock:
            self._apply(resource)

    def _apply(self, resource: dict[str, Any]) -> None:
        kind = resource.get("kind", "")
        if kind in OWN_KINDS:
            self._apply_secret(resource)
            return
        if kind not in KAFKA_KINDS:
            raise UsageError(
                f"the local platform realises {', '.join(KAFKA_KINDS)} and Secrets; got {kind!r}"
            )
        self.schemas.validate(resource)
        meta = resource["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (kind, namespace, meta["name"])
        previous = self.state.resources.get(key)
        stored = copy.deepcopy(resource)
        generation = 1
        if previous is not None:
            generation = previous["metadata"]["generation"]
            if previous.get("spec") != stored.get("spec"):
                generation += 1
            running = (namespace, cluster_of(stored)) in self.state.clusters
            if (
                kind in ("Kafka", "KafkaNodePool")
                and running
                and generation != previous["metadata"]["generation"]
                and not zookeeper_section_removed(previous, stored)
            ):
                raise UsageError(
                    f"{kind} {meta['name']}: the local platform does not roll a running cluster; "
                    "delete the Kafka and apply it again"
                )
        stored["metadata"]["generation"] = generation
        stored["metadata"]["namespace"] = namespace
        stored["status"] = (previous or {}).get("status", {})
        self.state.resources[key] = stored

    def _apply_secret(self, secret: dict[str, Any]) -> None:
        """Keep a v1 Secret's data (never among the resources that diagnostics show)."""
        meta = secret.get("metadata") or {}
        if secret.get("apiVersion") != "v1" or not meta.get("name"):
            raise UsageError("a Secret needs apiVersion v1 and metadata.name")
        data = HiddenData()
        for key, value in (secret.get("data") or {}).items():
            try:
                data[key] = Hidden(base64.b64decode(str(value), validate=True).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError) as err:
                raise UsageError(f"Secret {meta['name']}: data.{key} is not base64 of UTF-8 text") from err
        data.update({key: Hidden(value) for key, value in (secret.get("stringData") or {}).items()})
        self.state.secrets[(meta.get("namespace") or "default", meta["name"])] = data

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.state.lock:
            found = self.state.resources.get((kind, namespace, name))
            return copy.deepcopy(found) if found else None

    def wait_ready(self, kind: str, namespace: str, name: str, timeout: float) -> dict[str, Any]:
        resource = self.state.resources.get((kind, namespace, name))
        if resource is None:
            raise UsageError(f"{kind} {namespace}/{name} was never applied")
        reconciler = self._reconcilers[kind]
        try:
            reconciler.reconcile(resource, timeout)
        except ResourceFailed as err:
            self._set_condition(resource, "NotReady", str(err))
            raise
        with self.state.lock:
            if not reconciler.ready_condition:
                return copy.deepcopy(resource)
            self._set_condition(resource, "Ready")
            return copy.deepcopy(resource)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        if kind in OWN_KINDS:
            self.state.secrets.pop((namespace, name), None)
            return
        with self.state.lock:
            resource = self.state.resources.pop((kind, namespace, name), None)
        if resource is None:
            return
        self._reconcilers[kind].delete(resource)

    def read_secret(self, namespace: str, name: str) -> SecretData:
        return self.state.read_secret(namespace, name)

    # ------------------------------------------------------------------ metadata state (KRaft migration)
    def _migration(self, namespace: str, name: str) -> LocalMigration:
        key = (namespace, name)
        if key not in self.state.migrations:
            cluster = self.state.clusters.get(key)
            if cluster is None:
                raise UsageError(f"Kafka {namespace}/{name} is not running; wait for it to be Ready first")
            self.state.migrations[key] = LocalMigration(cluster, self.supervisor, self.work_dir)
        return self.state.migrations[key]

    def wait_metadata_state(
        self, namespace: str, name: str, state: str, timeout: float, *, reason: str | None = None
    ) -> dict[str, Any]:
        """Reconcile the Kafka as the operator does, pass after pass, until status.kafkaMetadataState is
        `state`; a WaitTimeout names the state and the latest condition it reached."""
        kafka = self.state.resources.get(("Kafka", namespace, name))
        if kafka is None:
            raise UsageError(f"Kafka {namespace}/{name} was never applied")
        migration = self._migration(namespace, name)
        deadline = time.monotonic() + timeout

        def reached() -> bool:
            pools = self.state.pools_of(namespace, name)
            migration.reconcile(kafka, pools, max(1.0, deadline - time.monotonic()))
            return kraft_migration.reached(kafka, state, reason)

        wait_until(
            reached,
            describe=f"Kafka {namespace}/{name} status.kafkaMetadataState to be {state}"
            + (f" with a {reason} condition" if reason else ""),
            timeout=timeout,
            interval=1.0,
            diagnose=lambda: kraft_migration.summary(kafka),
        )
        return copy.deepcopy(kafka)

    def zookeeper_children(self, namespace: str, cluster: str, path: str) -> list[str]:
        """The children of a znode in the cluster's ZooKeeper (what a user reads with zookeeper-shell)."""
        found = self.state.clusters.get((namespace, cluster))
        if found is None:
            raise PlatformError(f"Kafka {namespace}/{cluster} is not running")
        if (namespace, cluster) in self.state.migrations:
            return self.state.migrations[(namespace, cluster)].zookeeper_children(path)
        return LocalMigration(found, self.supervisor, self.work_dir).zookeeper_children(path)

    def node_roles(self, namespace: str, cluster: str) -> dict[str, list[str]]:
        """Node name -> the `process.roles` it runs with (`zookeeper-broker` without any)."""
        found = self.state.clusters.get((namespace, cluster))
        if found is None:
            raise PlatformError(f"Kafka {namespace}/{cluster} is not running")
        return self._migration(namespace, cluster).roles()

    # ------------------------------------------------------------------ clients and addresses
    def internal_clients(self, namespace: str) -> ClientRunner:
        """Clients on this machine, with the namespace's Service names (as status.listeners reports them)
        resolved to the processes, the way cluster DNS and the bootstrap Service would."""
        return ServiceResolvingRunner(
            InProcessRunner(), lambda servers: self.resolve_service(namespace, servers)
        )

    def external_clients(self) -> ClientRunner:
        return InProcessRunner()

    def node_ports(self, count: int, first: int = 0) -> list[int]:
        # Free ports of this machine (no fixed set: `first` has no use); held until close(): a listener
        # pins them now and its cluster binds them later.
        chosen = free_ports(count)
        self._node_ports.extend(chosen)
        return chosen

    def external_host(self) -> str:
        return "127.0.0.1"

    # ------------------------------------------------------------------ sidecar
    def start_sidecar(self, namespace: str, pod: dict[str, Any], config: dict[str, Any]) -> Sidecar:
        desired = SidecarPod(namespace, pod, config)
        name = desired.name
        running = self._sidecar.reconcile(desired, readiness_of(BRIDGE_SIDECAR).local)
        self._sidecar_pods[(namespace, name)] = desired
        outside = [f"http://{addr}:{running.http_port}" for addr in sidecar.own_interface_addresses()]
        return Sidecar(
            name=name,
            bridge_url=f"http://127.0.0.1:{running.http_port}",
            outside_urls=outside,
            management_url=running.management_url,
        )

    def try_from_outside(self, namespace: str, url: str) -> str | None:
        """GET `url` from this machine, outside the pod's loopback: None if it answered, else the error."""
        try:
            httpx.get(url, timeout=5)
        except httpx.TransportError as err:
            return f"{type(err).__name__}: {err}"
        return None

    def stop_sidecar(self, namespace: str, name: str) -> None:
        desired = self._sidecar_pods.pop((namespace, name), None)
        if desired:
            self._sidecar.delete(desired)

    # ------------------------------------------------------------------ brokers as a user sees them
    def _brokers(self, namespace: str, cluster: str) -> list[Any]:
        found = self.state.clusters.get((namespace, cluster))
        if found is None:
            raise PlatformError(f"Kafka {namespace}/{cluster} is not running")
        return [p for node in found.topology.brokers if (p := found.process_for(node)) is not None]

    def broker_log(self, namespace: str, cluster: str, lines: int = 300) -> str:
        """The last lines of every broker's log (the process log under reports/logs), redacted."""
        return "\n".join(
            f"--- {proc.name}\n{redact(proc.tail(lines))}" for proc in self._brokers(namespace, cluster)
        )

    def broker_incarnations(self, namespace: str, cluster: str) -> list[str]:
        """One token per broker that changes when the broker restarts: its process name and pid."""
        return [
            f"{proc.name} pid {proc.pid}{'' if proc.alive() else ' (exited)'}"
            for proc in self._brokers(namespace, cluster)
        ]

    # ------------------------------------------------------------------ evidence and teardown
    def diagnostics(self, namespace: str) -> dict[str, str]:
        """The namespace's resources as applied, with status and conditions, and every process's log tail."""
        found: dict[str, str] = {}
        with self.state.lock:
            mine = {key: copy.deepcopy(r) for key, r in self.state.resources.items() if key[1] == namespace}
        for (kind, _ns, name), resource in mine.items():
            found[f"{kind}-{name}.yaml"] = redact(yaml.safe_dump(resource, sort_keys=False))
        for proc in list(self.supervisor.processes):
            found[f"log-{proc.name}"] = redact(proc.tail(80))
        return found

    def close(self) -> None:
        for key in list(self._sidecar_pods):
            self.stop_sidecar(*key)
        for cluster in self.state.clusters.values():
            cluster.stop()
        self.state.clusters.clear()
        self.supervisor.stop_all()
        release(self._node_ports)
        self._node_ports.clear()
        if not self.keep:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # ------------------------------------------------------------------ status
    def _set_condition(self, resource: dict[str, Any], kind: str, message: str | None = None) -> None:
        condition = {"type": kind, "status": "True", "lastTransitionTime": now()}
        if message:
            condition["message"] = message
            condition["reason"] = "LocalPlatformError"
        resource["status"]["conditions"] = [condition]
        resource["status"]["observedGeneration"] = resource["metadata"]["generation"]

    def resolve_service(self, namespace: str, servers: str) -> str:
        """Map `<cluster>-kafka-bootstrap[.<ns>[.svc[...]]]:<port>` to the listener's local address."""
        resolved = []
        for server in servers.split(","):
            match = re.fullmatch(r"([a-z0-9-]+)-kafka-bootstrap(?:\.[a-z0-9.-]+)?:(\d+)", server.strip())
            cluster = self.state.clusters.get((namespace, match.group(1))) if match else None
            if match is None or cluster is None:
                raise UsageError(f"bootstrap address {server!r} names no Kafka of namespace {namespace}")
            port = int(match.group(2))
            listener = next((item for item in cluster.topology.listeners if item.port == port), None)
            if listener is None:
                raise UsageError(f"Kafka {match.group(1)} has no listener on port {port}")
            broker = cluster.topology.brokers[0]
            resolved.append(f"localhost:{cluster.node_ports[broker.node_id].listeners[listener.name]}")
        return ",".join(resolved)


def zookeeper_section_removed(previous: dict[str, Any], stored: dict[str, Any]) -> bool:
    """The only spec change is spec.zookeeper removed (the migration's last step): nothing to roll."""
    before = {k: v for k, v in (previous.get("spec") or {}).items() if k != "zookeeper"}
    return "zookeeper" in (previous.get("spec") or {}) and before == stored.get("spec")


class ServiceResolvingRunner:
    """A ClientRunner that rewrites a request's bootstrap from Service names to local addresses first."""

    def __init__(self, runner: ClientRunner, resolve: Callable[[str], str]) -> None:
        self._runner = runner
        self._resolve = resolve

    def run(self, req: dict[str, Any]) -> Any:
        endpoint = dict(req["endpoint"])
        endpoint["bootstrap"] = self._resolve(endpoint["bootstrap"])
        return self._runner.run({**req, "endpoint": endpoint})
