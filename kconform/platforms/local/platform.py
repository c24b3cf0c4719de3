"""The local platform: Strimzi resources realised by real Kafka, ZooKeeper and bridge processes.

Like an operator, it keeps the desired resources and reconciles them: a Kafka (with its node pools)
becomes processes when it is first awaited; a KafkaUser becomes a certificate from the clients CA, a Secret
and ACLs; a KafkaTopic becomes a topic. Status is written in Strimzi's shape, so scenarios read bootstrap
addresses from `status.listeners` and credentials from Secrets on every platform alike.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from kconform import kraft_migration
from kconform.clients import kafka as kafka_clients
from kconform.clients.local_runner import InProcessRunner
from kconform.clients.operations import ClientRunner
from kconform.errors import PlatformError, ResourceFailed, UsageError
from kconform.platforms.local import acls, scram, sidecar
from kconform.platforms.local import secrets as local_secrets
from kconform.platforms.local.cluster import LocalKafka, now, start_cluster
from kconform.platforms.local.java import find_java
from kconform.platforms.local.migration import LocalMigration
from kconform.platforms.local.ports import free_ports, release
from kconform.platforms.local.processes import ProcessSupervisor
from kconform.platforms.protocol import Cell, Sidecar
from kconform.redact import redact
from kconform.schemas import SchemaSet
from kconform.secrets import Hidden, HiddenData, SecretData
from kconform.versions import Profile
from kconform.waits import wait_until

KAFKA_KINDS = ("Kafka", "KafkaNodePool", "KafkaUser", "KafkaTopic")
OWN_KINDS = ("Secret",)  # a user's own Secrets, e.g. a scram-sha-512 KafkaUser's password
Key = tuple[str, str, str]  # kind, namespace, name


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
        self._resources: dict[Key, dict[str, Any]] = {}
        self._secrets: dict[tuple[str, str], Mapping[str, bytes | str]] = {}
        self._clusters: dict[tuple[str, str], LocalKafka] = {}
        self._sidecars: dict[tuple[str, str], sidecar.RunningSidecar] = {}
        self._namespaces: set[str] = set()
        self._migrations: dict[tuple[str, str], LocalMigration] = {}
        self._node_ports: list[int] = []  # node_ports() handed out, held until close()
        # A cell's clusters start in threads of their own while tests use the ones already Ready.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ cell and namespaces
    def cell(self, mode: str) -> Cell:
        return Cell("local", None, None, self.profile.strimzi, self.profile.kafka_version, mode)

    def create_namespace(self, namespace: str) -> None:
        self._namespaces.add(namespace)

    def delete_namespace(self, namespace: str) -> None:
        for key in [k for k in self._sidecars if k[0] == namespace]:
            self.stop_sidecar(*key)
        with self._lock:
            stopping = [self._clusters.pop(k) for k in list(self._clusters) if k[0] == namespace]
            for key in [k for k in self._migrations if k[0] == namespace]:
                self._migrations.pop(key)
            self._resources = {k: v for k, v in self._resources.items() if k[1] != namespace}
            self._secrets = {k: v for k, v in self._secrets.items() if k[0] != namespace}
            self._namespaces.discard(namespace)
        for cluster in stopping:
            cluster.stop()

    # ------------------------------------------------------------------ resources
    def apply(self, resource: dict[str, Any]) -> None:
        with self._lock:
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
        previous = self._resources.get(key)
        stored = copy.deepcopy(resource)
        generation = 1
        if previous is not None:
            generation = previous["metadata"]["generation"]
            if previous.get("spec") != stored.get("spec"):
                generation += 1
            running = (namespace, self._cluster_of(stored)) in self._clusters
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
        self._resources[key] = stored

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
        self._secrets[(meta.get("namespace") or "default", meta["name"])] = data

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._resources.get((kind, namespace, name))
            return copy.deepcopy(found) if found else None

    def wait_ready(self, kind: str, namespace: str, name: str, timeout: float) -> dict[str, Any]:
        resource = self._resources.get((kind, namespace, name))
        if resource is None:
            raise UsageError(f"{kind} {namespace}/{name} was never applied")
        try:
            if kind == "Kafka":
                self._reconcile_kafka(resource, timeout)
            elif kind == "KafkaUser":
                self._reconcile_user(resource, timeout)
            elif kind == "KafkaTopic":
                self._reconcile_topic(resource, timeout)
        except ResourceFailed as err:
            self._set_condition(resource, "NotReady", str(err))
            raise
        with self._lock:
            if kind == "KafkaNodePool":
                return copy.deepcopy(resource)  # pools have no Ready condition; existing is ready
            self._set_condition(resource, "Ready")
            return copy.deepcopy(resource)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        if kind in OWN_KINDS:
            self._secrets.pop((namespace, name), None)
            return
        with self._lock:
            resource = self._resources.pop((kind, namespace, name), None)
        if resource is None:
            return
        if kind == "Kafka":
            with self._lock:
                cluster = self._clusters.pop((namespace, name), None)
                self._migrations.pop((namespace, name), None)
            if cluster:
                cluster.stop()
        elif kind == "KafkaUser":
            cluster = self._clusters.get((namespace, self._cluster_of(resource)))
            if cluster:
                with self._admin(cluster) as admin:
                    acls.reconcile(admin, acls.principal_for(resource), set())
                    if self._authentication(resource) == scram.SCRAM:
                        scram.delete(admin, name)
            self._secrets.pop((namespace, name), None)
        elif kind == "KafkaTopic":
            cluster = self._clusters.get((namespace, self._cluster_of(resource)))
            if cluster:
                topic = resource["spec"].get("topicName") or name
                with self._admin(cluster) as admin:
                    admin.delete_topics([topic])

    def read_secret(self, namespace: str, name: str) -> SecretData:
        for (ns, _), cluster in list(self._clusters.items()):
            if ns == namespace and name in cluster.secrets():
                return SecretData.of(cluster.secrets()[name])
        found = self._secrets.get((namespace, name))
        if found is None:
            raise PlatformError(f"Secret {namespace}/{name} does not exist")
        return SecretData.of(found)

    # ------------------------------------------------------------------ metadata state (KRaft migration)
    def _migration(self, namespace: str, name: str) -> LocalMigration:
        key = (namespace, name)
        if key not in self._migrations:
            cluster = self._clusters.get(key)
            if cluster is None:
                raise UsageError(f"Kafka {namespace}/{name} is not running; wait for it to be Ready first")
            self._migrations[key] = LocalMigration(cluster, self.supervisor, self.work_dir)
        return self._migrations[key]

    def wait_metadata_state(
        self, namespace: str, name: str, state: str, timeout: float, *, reason: str | None = None
    ) -> dict[str, Any]:
        """Reconcile the Kafka as the operator does, pass after pass, until status.kafkaMetadataState is
        `state`; a WaitTimeout names the state and the latest condition it reached."""
        kafka = self._resources.get(("Kafka", namespace, name))
        if kafka is None:
            raise UsageError(f"Kafka {namespace}/{name} was never applied")
        migration = self._migration(namespace, name)
        deadline = time.monotonic() + timeout

        def reached() -> bool:
            pools = [
                r
                for (kind, ns, _), r in self._resources.items()
                if kind == "KafkaNodePool" and ns == namespace and self._cluster_of(r) == name
            ]
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
        found = self._clusters.get((namespace, cluster))
        if found is None:
            raise PlatformError(f"Kafka {namespace}/{cluster} is not running")
        if (namespace, cluster) in self._migrations:
            return self._migrations[(namespace, cluster)].zookeeper_children(path)
        return LocalMigration(found, self.supervisor, self.work_dir).zookeeper_children(path)

    def node_roles(self, namespace: str, cluster: str) -> dict[str, list[str]]:
        """Node name -> the `process.roles` it runs with (`zookeeper-broker` without any)."""
        found = self._clusters.get((namespace, cluster))
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

    def node_ports(self, count: int) -> list[int]:
        # Held until close(): a listener pins them now and its cluster binds them later.
        chosen = free_ports(count)
        self._node_ports.extend(chosen)
        return chosen

    def external_host(self) -> str:
        return "127.0.0.1"

    # ------------------------------------------------------------------ sidecar
    def start_sidecar(self, namespace: str, pod: dict[str, Any], config: dict[str, Any]) -> Sidecar:
        name = pod["metadata"]["name"]
        java = find_java(self.profile.bridge_java)
        running = sidecar.start_bridge(
            name=name,
            pod=pod,
            config_map=config,
            version=self.profile.bridge_version,
            java=java,
            supervisor=self.supervisor,
            work_dir=self.work_dir / namespace,
            read_secret=lambda secret: self.read_secret(namespace, secret),
            resolve_bootstrap=lambda servers: self.resolve_service(namespace, servers),
            timeout=120,
        )
        self._sidecars[(namespace, name)] = running
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
        running = self._sidecars.pop((namespace, name), None)
        if running:
            running.stop()

    # ------------------------------------------------------------------ brokers as a user sees them
    def _brokers(self, namespace: str, cluster: str) -> list[Any]:
        found = self._clusters.get((namespace, cluster))
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
        with self._lock:
            mine = {key: copy.deepcopy(r) for key, r in self._resources.items() if key[1] == namespace}
        for (kind, _ns, name), resource in mine.items():
            found[f"{kind}-{name}.yaml"] = redact(yaml.safe_dump(resource, sort_keys=False))
        for proc in list(self.supervisor.processes):
            found[f"log-{proc.name}"] = redact(proc.tail(80))
        return found

    def close(self) -> None:
        for key in list(self._sidecars):
            self.stop_sidecar(*key)
        for cluster in self._clusters.values():
            cluster.stop()
        self._clusters.clear()
        self.supervisor.stop_all()
        release(self._node_ports)
        self._node_ports.clear()
        if not self.keep:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # ------------------------------------------------------------------ reconciliation
    @staticmethod
    def _cluster_of(resource: dict[str, Any]) -> str:
        if resource["kind"] == "Kafka":
            return str(resource["metadata"]["name"])
        label = (resource["metadata"].get("labels") or {}).get("strimzi.io/cluster")
        if not label:
            raise UsageError(
                f"{resource['kind']} {resource['metadata']['name']} needs the label strimzi.io/cluster=<kafka name>"
            )
        return str(label)

    def _running_cluster(self, resource: dict[str, Any], timeout: float) -> LocalKafka:
        namespace = resource["metadata"]["namespace"]
        cluster_name = self._cluster_of(resource)
        cluster = self._clusters.get((namespace, cluster_name))
        if cluster is None:
            raise ResourceFailed(
                f"{resource['kind']} {resource['metadata']['name']}: Kafka {namespace}/{cluster_name} "
                "is not ready; wait for it first"
            )
        cluster.ensure_alive()
        return cluster

    def _admin(self, cluster: LocalKafka, timeout: float = 30) -> Any:
        return kafka_clients.admin(cluster.admin_endpoint(), cluster.admin_credentials, timeout_s=timeout)

    def _reconcile_kafka(self, kafka: dict[str, Any], timeout: float) -> None:
        namespace, name = kafka["metadata"]["namespace"], kafka["metadata"]["name"]
        if (namespace, name) in self._clusters:
            self._clusters[(namespace, name)].ensure_alive()
            return
        with self._lock:
            pools = [
                r
                for (kind, ns, _), r in self._resources.items()
                if kind == "KafkaNodePool" and ns == namespace and self._cluster_of(r) == name
            ]
        java = find_java(self.profile.kafka_java)
        cluster = start_cluster(
            kafka,
            pools,
            profile=self.profile,
            java=java,
            supervisor=self.supervisor,
            work_dir=self.work_dir,
            timeout=timeout,
        )
        with self._lock:
            self._clusters[(namespace, name)] = cluster

        def answers() -> bool:
            cluster.ensure_alive()
            with self._admin(cluster, timeout=10) as admin:
                return len(admin.describe_cluster().get("brokers", [])) >= len(cluster.topology.brokers)

        wait_until(
            answers,
            describe=f"Kafka {namespace}/{name} to serve its admin API",
            timeout=timeout,
            retry_on=(Exception,),
            diagnose=lambda: "\n".join(f"--- {p.name}\n{p.tail(20)}" for p in cluster.processes),
        )
        with self._lock:
            self._write_kafka_status(kafka, pools, cluster)

    def _write_kafka_status(
        self, kafka: dict[str, Any], pools: list[dict[str, Any]], cluster: LocalKafka
    ) -> None:
        kafka["status"].update(
            {
                "clusterId": cluster.cluster_id,
                "kafkaVersion": cluster.kafka_version,
                "listeners": cluster.status_listeners(),
                "kafkaNodePools": [{"name": p["metadata"]["name"]} for p in pools] or None,
            }
        )
        if self.profile.strimzi.startswith("0."):
            kafka["status"]["kafkaMetadataState"] = (
                "ZooKeeper" if cluster.topology.mode == "zookeeper" else "KRaft"
            )
        kafka["status"] = {k: v for k, v in kafka["status"].items() if v is not None}
        for pool in pools:
            ids = [n.node_id for n in cluster.topology.nodes if n.pool == pool["metadata"]["name"]]
            pool["status"] = {
                "nodeIds": ids,
                "roles": pool["spec"]["roles"],
                "replicas": len(ids),
                "clusterId": cluster.cluster_id,
            }

    @staticmethod
    def _authentication(user: dict[str, Any]) -> str | None:
        return (user["spec"].get("authentication") or {}).get("type")

    def _reconcile_user(self, user: dict[str, Any], timeout: float) -> None:
        cluster = self._running_cluster(user, timeout)
        namespace, name = user["metadata"]["namespace"], user["metadata"]["name"]
        auth = self._authentication(user)
        if auth not in ("tls", scram.SCRAM):
            raise UsageError(
                f"KafkaUser {name}: authentication {auth!r} is not realised locally; use tls or {scram.SCRAM}"
            )
        password = None
        if auth == "tls" and (namespace, name) not in self._secrets:
            issued = cluster.clients_ca.issue(name)
            self._secrets[(namespace, name)] = local_secrets.tls_user_secret(name, cluster.clients_ca, issued)
        elif auth == scram.SCRAM:
            password = scram.desired_password(
                user, self._secrets.get((namespace, name)), lambda secret: self.read_secret(namespace, secret)
            )
        principal = acls.principal_for(user)
        wanted = acls.bindings(user)
        with self._admin(cluster) as admin:
            if password is not None:
                # Like the User Operator: credentials in Kafka first, then the Secret; Ready once in effect.
                scram.upsert(admin, name, password)
                wait_until(
                    lambda: scram.in_effect(admin, name),
                    describe=f"the SCRAM-SHA-512 credentials of KafkaUser {name} to be in effect",
                    timeout=timeout,
                )
                self._secrets[(namespace, name)] = scram.user_secret_data(name, password)
            acls.reconcile(admin, principal, wanted)
            wait_until(
                lambda: acls.in_effect(admin, principal, wanted),
                describe=f"the ACLs of KafkaUser {name} to be in effect",
                timeout=timeout,
            )
        username = f"CN={name}" if auth == "tls" else name
        user["status"].update({"username": username, "secret": name})

    def _reconcile_topic(self, topic: dict[str, Any], timeout: float) -> None:
        cluster = self._running_cluster(topic, timeout)
        spec = topic["spec"]
        topic_name = spec.get("topicName") or topic["metadata"]["name"]
        with self._admin(cluster) as admin:
            if topic_name not in admin.list_topics():
                config = {k: str(v) for k, v in (spec.get("config") or {}).items()}
                # kafka-python 3.x's dict form (NewTopic is deprecated there).
                options = {
                    "num_partitions": int(spec.get("partitions", 1)),
                    "replication_factor": int(spec.get("replicas", 1)),
                    "configs": config,
                }
                admin.create_topics({topic_name: options})
            wait_until(
                lambda: topic_name in admin.list_topics(),
                describe=f"topic {topic_name} to be listed",
                timeout=timeout,
            )
        topic["status"].update({"topicName": topic_name})

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
            cluster = self._clusters.get((namespace, match.group(1))) if match else None
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
