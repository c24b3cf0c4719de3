"""The ZooKeeper-to-KRaft migration of a local ZooKeeper cluster on node pools, done the operator's way.

Each `reconcile()` is one reconciliation of Strimzi 0.45.2's Cluster Operator, reduced to what the migration
changes (KafkaAssemblyOperator.reconcile, :234-296, and KafkaReconciler.reconcile, :256-290):

1. the nodes' configuration state from (status.kafkaMetadataState, strimzi.io/kraft)
   (kconform.kraft_migration.config_state);
2. PreKRaft with `enabled`: the ZooKeeper ensemble is removed (KafkaAssemblyOperator.java:284);
   KRaftDualWriting with `disabled`: the /controller and /migration znodes are deleted first
   (KRaftMigrationUtils.java:34-88, through ZooKeeperReconciler with isRollingBack);
3. controller pool nodes are started, and every node whose server.properties differ from what it runs is
   restarted with them (kconform.platforms.local.migration_config), controllers first;
4. while the configuration is MIGRATION, a controller's `ZkMigrationState` gauge decides whether the
   metadata migration is done (KafkaReconciler.java:1193-1223, KRaftMigrationUtils.java:160-167);
5. the next state is computed and written with a Ready condition (plus a KafkaMetadataStateWarning for an
   annotation invalid in the state); a failed step leaves the state and writes NotReady with the error.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kconform import kraft_migration as km
from kconform.clients import kafka as kafka_clients
from kconform.errors import KconformError, PlatformError, UsageError, WaitTimeout
from kconform.java_properties import render_properties
from kconform.kraft_migration import ConfigState
from kconform.platforms.local import mbeans, migration_config, topology
from kconform.platforms.local.kafka_cluster import (
    KAFKA_FATAL_MARKERS,
    LocalKafka,
    format_storage,
    node_sans,
    now,
)
from kconform.platforms.local.pki import write_pem
from kconform.platforms.local.ports import free_ports, wait_for_port
from kconform.platforms.local.processes import ManagedProcess, ProcessSupervisor
from kconform.platforms.local.topology import NodePorts, NodeSpec
from kconform.waits import wait_until

CLUSTER_METADATA_DIR = "__cluster_metadata-0"


class InvalidResourceException(PlatformError):
    """Strimzi's refusal of a Kafka's node pools (its exception's name becomes the NotReady reason)."""


class LocalMigration:
    """The migration state of one running LocalKafka: which controllers run, with which configuration."""

    def __init__(self, cluster: LocalKafka, supervisor: ProcessSupervisor, work_dir: Path) -> None:
        if cluster.topology.mode != "zookeeper" or cluster.zookeeper_connect is None:
            raise UsageError(
                f"Kafka {cluster.topology.cluster} is not a ZooKeeper cluster; nothing to migrate"
            )
        self.cluster = cluster
        self.supervisor = supervisor
        self.work_dir = work_dir
        self.controllers: tuple[NodeSpec, ...] = ()
        self.zookeeper_cluster_id: str | None = None
        self.zookeeper_stopped = False

    # ------------------------------------------------------------------ one reconciliation
    def reconcile(self, kafka: dict[str, Any], pools: Sequence[dict[str, Any]], timeout: float) -> None:
        """One reconciliation pass; its outcome is in kafka["status"] as the operator would write it."""
        deadline = time.monotonic() + timeout
        status = kafka.setdefault("status", {})
        annotation = km.annotation_of(kafka)
        state = km.initial_state(kafka)
        try:
            config = km.config_state(state, annotation)
            # A deleted controller pool goes first: its nodes must not win the ZooKeeper controller back.
            self._prune_controllers(self._desired_controllers(kafka, pools, config))
            if km.destroys_zookeeper(state, annotation):
                self._stop_zookeeper()
            if km.rolling_back(state, annotation):
                self._delete_migration_znodes(deadline)
            self._realise(config, deadline)
            done = config == ConfigState.MIGRATION and self._migration_done(deadline)
            transition = km.next_state(state, annotation, done)
        except _OutOfTime:
            return  # cut short by the caller's deadline: like an interrupted reconciliation, it writes nothing
        except (KconformError, km.InvalidMetadataState) as err:
            status["kafkaMetadataState"] = state
            status["conditions"] = [_condition("NotReady", type(err).__name__, str(err))]
        else:
            status["kafkaMetadataState"] = transition.state
            status["conditions"] = [_condition("Ready")]
            if transition.warning:
                status["conditions"].append(_condition("Warning", km.WARNING_REASON, transition.warning))
            if self.zookeeper_cluster_id:
                status["clusterId"] = self.zookeeper_cluster_id
        status["observedGeneration"] = kafka["metadata"]["generation"]

    # ------------------------------------------------------------------ nodes
    def _desired_controllers(
        self, kafka: dict[str, Any], pools: Sequence[dict[str, Any]], config: ConfigState
    ) -> tuple[NodeSpec, ...]:
        if not config.at_least(ConfigState.PRE_MIGRATION):
            # A ZooKeeper-configured cluster refuses controller pools (0.45.2 KafkaClusterCreator.java:366 passes
            # isPreMigrationToKRaft as useKRaft; NodePoolUtils.java:92, :161-175): the reconciliation fails
            # before anything rolls, as the documented procedure warns (proc-deploy-migrate-kraft.adoc:88-92).
            refused = [p["metadata"]["name"] for p in pools if "controller" in p["spec"]["roles"]]
            if refused:
                raise InvalidResourceException(
                    f"KafkaNodePool {', '.join(refused)}: a ZooKeeper-based cluster allows only the broker role"
                )
            return ()
        # Node IDs as the KRaft cluster will have them: every pool, brokers' IDs unchanged.
        as_kraft = copy.deepcopy(kafka)
        as_kraft["spec"].pop("zookeeper", None)
        as_kraft["metadata"].setdefault("annotations", {})[km.ANNOTATION] = km.ENABLED
        planned = topology.plan_topology(as_kraft, pools)
        for node in planned.nodes:
            if node.is_controller and node.is_broker:
                raise UsageError(
                    f"KafkaNodePool {node.pool}: the migration needs dedicated controllers, not dual-role nodes"
                )
        brokers = sorted(n.node_id for n in planned.brokers)
        if brokers != sorted(n.node_id for n in self.cluster.topology.brokers):
            raise UsageError(f"the broker pool's node IDs {brokers} differ from the running brokers'")
        controllers = planned.controllers
        if not controllers:
            raise UsageError("strimzi.io/kraft: migration needs a KafkaNodePool with the controller role")
        return controllers

    def _prune_controllers(self, wanted: tuple[NodeSpec, ...]) -> None:
        for node in self.controllers:
            if node.node_id not in {c.node_id for c in wanted}:
                self._remove_controller(node)
        self.controllers = wanted

    def _realise(self, config: ConfigState, deadline: float) -> None:
        wanted = self.controllers
        if wanted and self.zookeeper_cluster_id is None:
            self.zookeeper_cluster_id = self._read_cluster_id(deadline)
        for node in wanted:
            if node.node_id not in self.cluster.node_ports:
                (port,) = free_ports(1)
                self.cluster.reserved_ports.append(port)
                self.cluster.node_ports[node.node_id] = NodePorts(
                    controlplane=port, replication=None, listeners={}
                )
        for node in (*wanted, *self.cluster.topology.brokers):
            self._converge(node, config, deadline)

    def _node_dir(self, node: NodeSpec) -> Path:
        assert self.cluster.base_dir is not None
        return self.cluster.base_dir / node.pod_name(self.cluster.topology.cluster)

    def _tls_files(self, node: NodeSpec) -> topology.TlsFiles:
        base = self.cluster.base_dir
        assert base is not None
        keystore = self._node_dir(node) / "keystore.pem"
        if not keystore.exists():  # a new controller: a node certificate as the brokers have
            self._node_dir(node).mkdir(parents=True, exist_ok=True)
            issued = self.cluster.cluster_ca.issue(
                f"{self.cluster.topology.cluster}-kafka",
                organization="io.strimzi",
                sans=node_sans(self.cluster.topology, node),
            )
            write_pem(keystore, issued.key_pem + issued.chain_pem)
        return topology.TlsFiles(
            keystore=str(keystore),
            cluster_ca=str(base / "cluster-ca.crt"),
            clients_ca=str(base / "clients-ca.crt"),
        )

    def properties(self, node: NodeSpec, config: ConfigState) -> dict[str, str]:
        assert self.cluster.zookeeper_connect is not None
        return migration_config.node_properties(
            self.cluster.topology,
            self.controllers,
            node,
            config,
            self.cluster.node_ports,
            self._tls_files(node),
            data_dir=str(self._node_dir(node) / "data"),
            zookeeper_connect=self.cluster.zookeeper_connect,
        )

    def _converge(self, node: NodeSpec, config: ConfigState, deadline: float) -> None:
        """Restart `node` with its properties for `config` unless it already runs with exactly those."""
        props_path = self._node_dir(node) / "server.properties"
        rendered = render_properties(self.properties(node, config))
        running = self.cluster.process_for(node)
        if running is not None and running.alive() and props_path.read_text(encoding="utf-8") == rendered:
            return
        if running is not None:
            running.stop()
            self.cluster.processes.remove(running)
        props_path.write_text(rendered, encoding="utf-8")
        data = self._node_dir(node) / "data"
        if node.is_controller:
            assert self.zookeeper_cluster_id is not None
            format_storage(
                self.cluster.java_cmd, props_path, self.zookeeper_cluster_id, node, _left(deadline)
            )
        elif config == ConfigState.ZK:
            # Back in ZooKeeper mode a broker drops the KRaft metadata log (Strimzi's kafka_run.sh:96-103).
            shutil.rmtree(data / CLUSTER_METADATA_DIR, ignore_errors=True)
        name = f"{self.cluster.topology.cluster}-{node.pool or 'kafka'}-{node.node_id}"
        proc = self.supervisor.start(
            name,
            [*self.cluster.java_cmd, "kafka.Kafka", str(props_path)],
            fatal_markers=KAFKA_FATAL_MARKERS,
        )
        self.cluster.processes.append(proc)
        ports = self.cluster.node_ports[node.node_id]
        for port in (ports.controlplane, ports.replication, *ports.listeners.values()):
            if port is not None:
                wait_for_port("127.0.0.1", port, _left(deadline), proc)
        if node.is_broker:
            self._await_broker(node, proc, deadline)

    def _await_broker(self, node: NodeSpec, proc: ManagedProcess, deadline: float) -> None:
        """A restarted broker is back when the cluster's metadata lists it again (the roller's readiness)."""

        def registered() -> bool:
            proc.ensure_alive()
            with kafka_clients.admin(
                self.cluster.admin_endpoint(), self.cluster.admin_credentials, timeout_s=10
            ) as admin:
                ids = {
                    b.get("node_id", b.get("broker_id")) for b in admin.describe_cluster().get("brokers", [])
                }
            return node.node_id in ids

        wait_until(
            registered,
            describe=f"broker {node.node_id} to rejoin the cluster after its restart",
            timeout=_left(deadline),
            interval=1.0,
            retry_on=(Exception,),
            diagnose=lambda: proc.tail(20),
        )

    def _remove_controller(self, node: NodeSpec) -> None:
        """A deleted controller pool: its node stops and its storage goes (the documented PVC deletion)."""
        proc = self.cluster.process_for(node)
        if proc is not None:
            proc.stop()
            self.cluster.processes.remove(proc)
        shutil.rmtree(self._node_dir(node), ignore_errors=True)
        self.cluster.node_ports.pop(node.node_id, None)

    # ------------------------------------------------------------------ ZooKeeper and Kafka's own state
    def _read_cluster_id(self, deadline: float) -> str:
        """The ZooKeeper cluster's ID, as the operator reads it with describeCluster (KafkaReconciler.clusterId)."""
        with kafka_clients.admin(
            self.cluster.admin_endpoint(), self.cluster.admin_credentials, timeout_s=min(30, _left(deadline))
        ) as admin:
            cluster_id = admin.describe_cluster().get("cluster_id")
        if not cluster_id:
            raise PlatformError(f"Kafka {self.cluster.topology.cluster} reported no cluster ID")
        return str(cluster_id)

    def _migration_done(self, deadline: float) -> bool:
        """Kafka's ZkMigrationState on the first controller that answers, as the operator asks one."""
        assert self.cluster.java is not None and self.cluster.base_dir is not None
        errors = []
        for node in self.controllers:
            proc = self.cluster.process_for(node)
            if proc is None or not proc.alive():
                continue
            try:
                value = mbeans.read_attribute(
                    self.cluster.java,
                    self.cluster.base_dir,
                    proc.pid,
                    km.ZK_MIGRATION_STATE_METRIC,
                    "Value",
                    timeout=max(5.0, min(60.0, _left(deadline))),
                )
                return km.migration_done(int(value))
            except (PlatformError, ValueError) as err:
                errors.append(f"{proc.name}: {err}")
        raise PlatformError(
            f"Failed to check ZooKeeper migration state ({'; '.join(errors) or 'no controller runs'})"
        )

    def _zookeeper_cli(self, args: Sequence[str], deadline: float) -> str:
        assert self.cluster.zookeeper_connect is not None
        argv = [
            *self.cluster.java_cmd,
            "org.apache.zookeeper.ZooKeeperMain",
            "-server",
            self.cluster.zookeeper_connect,
            *args,
        ]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=max(5.0, _left(deadline)), check=False
            )
        except subprocess.TimeoutExpired as err:
            raise PlatformError(f"ZooKeeper command {' '.join(args)} timed out") from err
        return done.stdout + done.stderr

    def _delete_migration_znodes(self, deadline: float) -> None:
        for path in ("/controller", "/migration"):
            output = self._zookeeper_cli(["delete", path], deadline)
            if "Exception" in output and "NoNode" not in output and "does not exist" not in output:
                raise PlatformError(f"deleting the znode {path} failed: {output[-300:]}")

    def zookeeper_children(self, path: str, timeout: float = 60) -> list[str]:
        """`ls <path>` in ZooKeeper (as Strimzi's system test reads /brokers/topics with zookeeper-shell)."""
        if self.zookeeper_stopped:
            raise PlatformError(f"ZooKeeper of Kafka {self.cluster.topology.cluster} was removed")
        output = self._zookeeper_cli(["ls", path], time.monotonic() + timeout)
        try:
            return km.parse_listing(output, path)
        except ValueError as err:
            raise PlatformError(str(err)) from err

    def _stop_zookeeper(self) -> None:
        name = f"{self.cluster.topology.cluster}-zookeeper-0"
        for proc in list(self.cluster.processes):
            if proc.name == name:
                proc.stop()
                self.cluster.processes.remove(proc)
        self.zookeeper_stopped = True

    def roles(self) -> dict[str, list[str]]:
        """Process name -> the roles its running configuration gives it (for diagnostics and tests)."""
        found: dict[str, list[str]] = {}
        for node in (*self.controllers, *self.cluster.topology.brokers):
            path = self._node_dir(node) / "server.properties"
            with contextlib.suppress(OSError):
                text = path.read_text(encoding="utf-8")
                roles = next(
                    (
                        line.split("=", 1)[1]
                        for line in text.splitlines()
                        if line.startswith("process.roles=")
                    ),
                    "",
                )
                found[f"{self.cluster.topology.cluster}-{node.pool or 'kafka'}-{node.node_id}"] = (
                    roles.split(",") if roles else ["zookeeper-broker"]
                )
        return found


class _OutOfTime(WaitTimeout):
    """The pass reached the deadline of the wait that runs it."""


def _left(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _OutOfTime("the reconciliation ran out of time")
    return remaining


def _condition(kind: str, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": kind, "status": "True", "lastTransitionTime": now()}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message[:2000]
    return condition
