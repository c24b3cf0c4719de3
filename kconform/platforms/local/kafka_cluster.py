"""One realised Kafka cluster of the local platform: CAs, node certificates, ZooKeeper or KRaft nodes.

It does what the Cluster Operator does for a Kafka CR, with processes instead of pods: creates the cluster
and clients CAs (and their Secrets), a certificate per node, formats KRaft storage, starts the nodes, and
reports a status shaped like Strimzi's (Ready condition, listeners with bootstrap addresses and CA).
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kconform import strimzi_contract as contract
from kconform.clients.operations import Credentials, Endpoint
from kconform.errors import PlatformError
from kconform.forwarding import Forwarder
from kconform.java_properties import render_properties
from kconform.platforms.local import jars, strimzi_secrets, topology
from kconform.platforms.local.java import JavaRuntime
from kconform.platforms.local.pki import CertificateAuthority, write_pem
from kconform.platforms.local.ports import free_ports, release, wait_for_port
from kconform.platforms.local.processes import ManagedProcess, ProcessSupervisor
from kconform.platforms.local.topology import ListenerSpec, NodePorts, NodeSpec, Topology
from kconform.versions import Profile

# Small heaps and a quick-starting JIT: several JVMs share a 2-core machine and live for minutes.
JVM_OPTIONS = [
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
]


# Kafka.main logs this (3.9 and 4.x) when startup fails, e.g. an acceptor's port is taken; the JVM does not
# always exit after it (seen under load), so a wait must not take its live process for a starting broker.
KAFKA_FATAL_MARKERS = ("Exiting Kafka due to fatal exception",)
# A format is one short JVM (seconds; a minute on a loaded machine). One that runs longer has hung: the pass
# fails with what it printed and the next reconciliation tries again, instead of it eating the whole wait
# (a CI run lost a 600 s migration wait to one format).
FORMAT_TIMEOUT_S = 120.0


def kafka_cluster_id() -> str:
    """A Kafka-style cluster ID: 16 random bytes, URL-safe base64 without padding, never starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class LocalKafka:
    """A running cluster; created by `start()`."""

    topology: Topology
    kafka_version: str
    cluster_ca: CertificateAuthority
    clients_ca: CertificateAuthority
    node_ports: dict[int, NodePorts]
    processes: list[ManagedProcess] = field(default_factory=list)
    forwarders: list[Forwarder] = field(default_factory=list)
    bootstrap_ports: dict[str, int] = field(default_factory=dict)
    cluster_id: str = ""
    admin_credentials: Credentials | None = None
    started_at: float = 0.0
    ready_after_s: float = 0.0
    # What a later change of the cluster (the KRaft migration) needs to start nodes the same way.
    base_dir: Path | None = None
    java: JavaRuntime | None = None
    java_cmd: list[str] = field(default_factory=list)
    zookeeper_connect: str | None = None
    # Ports this cluster chose (ports.free_ports) for its processes; released once they are stopped.
    reserved_ports: list[int] = field(default_factory=list)
    _secrets: dict[str, dict[str, bytes]] = field(default_factory=dict, repr=False)

    def listener(self, name: str) -> ListenerSpec:
        for item in self.topology.listeners:
            if item.name == name:
                return item
        raise PlatformError(f"Kafka {self.topology.cluster} has no listener {name!r}")

    def admin_endpoint(self) -> Endpoint:
        """The replication listener, authenticated with an operator certificate (a super user)."""
        ports = [self.node_ports[b.node_id].replication for b in self.topology.brokers]
        return Endpoint(bootstrap=",".join(f"localhost:{p}" for p in ports), tls=True)

    def secrets(self) -> dict[str, dict[str, bytes]]:
        """The Secrets the operator creates for the cluster, under Strimzi's names, keys and value types."""
        if not self._secrets:
            self._secrets = strimzi_secrets.cluster_secrets(
                self.topology.cluster, self.cluster_ca, self.clients_ca
            )
        return self._secrets

    def status_listeners(self) -> list[dict[str, Any]]:
        """status.listeners in Strimzi's shape (strimzi_contract.listener_status).

        NodePort listeners follow KafkaReconciler.nodePortExternalListenerStatus: each broker's node address
        of the preferred type (or its advertisedHost) with the bootstrap node port. Internal listeners name
        the bootstrap Service, `<cluster>-kafka-bootstrap.<namespace>.svc:<port>`
        (KafkaListenersReconciler.internalServicesReady); the platform's internal clients resolve it.
        """
        entries = []
        for item in self.topology.listeners:
            if item.type == "nodeport":
                addresses = contract.nodeport_status_addresses(
                    topology.listener_resource(item),
                    {b.node_id: topology.NODE_ADDRESSES for b in self.topology.brokers},
                    self.bootstrap_ports[item.name],
                )
            else:
                resource = {**topology.listener_resource(item), "port": item.port}
                host = contract.internal_bootstrap_host(
                    self.topology.cluster, self.topology.namespace, resource
                )
                addresses = [{"host": host, "port": item.port}]
            certificates = [self.cluster_ca.cert_pem] if item.tls else None
            entries.append(contract.listener_status(item.name, addresses, certificates))
        return entries

    def process_for(self, node: NodeSpec) -> ManagedProcess | None:
        name = f"{self.topology.cluster}-{node.pool or 'kafka'}-{node.node_id}"  # as start_cluster names it
        for proc in self.processes:
            if proc.name == name:
                return proc
        return None

    def ensure_alive(self) -> None:
        for proc in self.processes:
            proc.ensure_alive()

    def stop(self) -> None:
        for forwarder in self.forwarders:
            forwarder.close()
        for proc in reversed(self.processes):
            proc.stop()
        release(self.reserved_ports)
        self.reserved_ports.clear()


def _assign_ports(topo: Topology, reserved: list[int]) -> dict[int, NodePorts]:
    """Free ports for every node and listener, except per-broker nodePorts the resource fixes; every port
    chosen here is added to `reserved`."""
    assigned: dict[int, NodePorts] = {}
    for node in topo.nodes:
        wanted = 2 + len(topo.listeners)
        chosen = free_ports(wanted)
        reserved.extend(chosen)
        pool = iter(chosen)
        listeners: dict[str, int] = {}
        for item in topo.listeners:
            fixed = None
            if item.type == "nodeport":
                for override in item.configuration.get("brokers") or []:
                    if int(override.get("broker", -1)) == node.node_id and override.get("nodePort"):
                        fixed = int(override["nodePort"])
            listeners[item.name] = fixed if fixed is not None else next(pool)
        assigned[node.node_id] = NodePorts(
            controlplane=next(pool) if node.is_controller and topo.mode == "kraft" else None,
            replication=next(pool) if node.is_broker else None,
            listeners=listeners if node.is_broker else {},
        )
    return assigned


def node_sans(topo: Topology, node: NodeSpec) -> list[str]:
    """DNS names and IPs for a node certificate: Strimzi's service names plus what this machine uses."""
    c, ns = topo.cluster, topo.namespace
    sans = [
        "localhost",
        "127.0.0.1",
        f"{c}-kafka-bootstrap",
        f"{c}-kafka-bootstrap.{ns}",
        f"{c}-kafka-bootstrap.{ns}.svc",
        f"{c}-kafka-brokers",
        f"{c}-kafka-brokers.{ns}.svc",
        f"{node.pod_name(c)}.{c}-kafka-brokers.{ns}.svc",
    ]
    for item in topo.listeners:
        if item.type != "nodeport":
            continue
        # Strimzi adds every advertisedHost of this broker and the bootstrap alternativeNames to the cert.
        sans += list((item.configuration.get("bootstrap") or {}).get("alternativeNames") or [])
        for override in item.configuration.get("brokers") or []:
            if int(override.get("broker", -1)) == node.node_id and override.get("advertisedHost"):
                sans.append(str(override["advertisedHost"]))
    return list(dict.fromkeys(sans))


def start_cluster(
    kafka: Mapping[str, Any],
    pools: Sequence[Mapping[str, Any]],
    *,
    profile: Profile,
    java: JavaRuntime,
    supervisor: ProcessSupervisor,
    work_dir: Path,
    timeout: float,
) -> LocalKafka:
    """Realise a Kafka CR: CAs, certificates, (ZooKeeper,) nodes; return once every port listens."""
    topo = topology.plan_topology(kafka, pools)
    kafka_version = kafka["spec"]["kafka"].get("version") or profile.kafka_version
    classpath = ":".join(str(p) for p in jars.kafka_classpath(kafka_version))
    base = work_dir / topo.namespace / topo.cluster
    base.mkdir(parents=True, exist_ok=True)
    logging_opts = jars.kafka_logging_jvm_options(kafka_version, base / "logging")

    cluster_ca = CertificateAuthority.create("cluster-ca v0")
    clients_ca = CertificateAuthority.create("clients-ca v0")
    reserved: list[int] = []
    cluster = LocalKafka(
        topology=topo,
        kafka_version=kafka_version,
        cluster_ca=cluster_ca,
        clients_ca=clients_ca,
        node_ports=_assign_ports(topo, reserved),
        reserved_ports=reserved,
        cluster_id=kafka_cluster_id(),
        started_at=time.monotonic(),
        base_dir=base,
        java=java,
        java_cmd=[str(java.executable), *JVM_OPTIONS, *logging_opts, "-cp", classpath],
    )
    try:
        _bring_up(cluster, supervisor, classpath, logging_opts, timeout)
    except BaseException:
        cluster.stop()  # nodes that did start must not outlive a cluster that never became one
        raise
    return cluster


def _bring_up(
    cluster: LocalKafka,
    supervisor: ProcessSupervisor,
    classpath: str,
    logging_opts: list[str],
    timeout: float,
) -> None:
    """Certificates, (ZooKeeper,) formatted storage and every node of a planned cluster, until all listen."""
    topo, java, base, cluster_ca, clients_ca = (
        cluster.topology,
        cluster.java,
        cluster.base_dir,
        cluster.cluster_ca,
        cluster.clients_ca,
    )
    assert java is not None and base is not None
    write_pem(base / "cluster-ca.crt", cluster_ca.cert_pem)
    write_pem(base / "clients-ca.crt", clients_ca.cert_pem)
    operator_cert = cluster_ca.issue(f"{topo.cluster}-entity-user-operator", organization="io.strimzi")
    cluster.admin_credentials = Credentials(
        ca_crt=cluster_ca.cert_pem, user_crt=operator_cert.chain_pem, user_key=operator_cert.key_pem
    )

    zookeeper_connect = None
    if topo.mode == "zookeeper":
        zookeeper_connect = _start_zookeeper(
            cluster, supervisor, java, classpath, logging_opts, base, timeout
        )
        cluster.zookeeper_connect = zookeeper_connect

    commands: list[tuple[NodeSpec, list[str]]] = []
    for node in topo.nodes:
        node_dir = base / node.pod_name(topo.cluster)
        node_dir.mkdir(exist_ok=True)
        issued = cluster_ca.issue(
            f"{topo.cluster}-kafka", organization="io.strimzi", sans=node_sans(topo, node)
        )
        keystore = node_dir / "keystore.pem"
        write_pem(keystore, issued.key_pem + issued.chain_pem)
        tls_files = topology.TlsFiles(
            keystore=str(keystore),
            cluster_ca=str(base / "cluster-ca.crt"),
            clients_ca=str(base / "clients-ca.crt"),
        )
        props = topology.server_properties(
            topo,
            node,
            cluster.node_ports,
            tls_files,
            data_dir=str(node_dir / "data"),
            zookeeper_connect=zookeeper_connect,
        )
        props_path = node_dir / "server.properties"
        props_path.write_text(render_properties(props), encoding="utf-8")
        java_cmd = [str(java.executable), *JVM_OPTIONS, *logging_opts, "-cp", classpath]
        commands.append((node, [*java_cmd, "kafka.Kafka", str(props_path)]))

    if topo.mode == "kraft":
        # Every node's storage formatted at once (one short JVM each), as each pod's init would.
        java_cmd = [str(java.executable), *JVM_OPTIONS, *logging_opts, "-cp", classpath]
        with ThreadPoolExecutor(max_workers=len(commands)) as formatting:
            formats = [
                formatting.submit(format_storage, java_cmd, Path(argv[-1]), cluster.cluster_id, node, timeout)
                for node, argv in commands
            ]
            for formatted in formats:
                formatted.result()

    # Controllers and brokers start together, as the pods would.
    for node, argv in commands:
        cluster.processes.append(
            supervisor.start(
                f"{topo.cluster}-{node.pool or 'kafka'}-{node.node_id}",
                argv,
                fatal_markers=KAFKA_FATAL_MARKERS,
            )
        )
    with ThreadPoolExecutor(max_workers=max(1, len(commands))) as pool:
        waits = [pool.submit(_wait_node_ports, cluster, node, timeout) for node, _ in commands]
        for waited in waits:
            waited.result()
    _start_bootstrap_forwarders(cluster)


def _wait_node_ports(cluster: LocalKafka, node: NodeSpec, timeout: float) -> None:
    proc = cluster.process_for(node)
    ports = cluster.node_ports[node.node_id]
    for port in [ports.controlplane, ports.replication, *ports.listeners.values()]:
        if port is not None:
            wait_for_port("127.0.0.1", port, timeout, proc)


def _start_bootstrap_forwarders(cluster: LocalKafka) -> None:
    """Node-port listeners get a bootstrap port forwarding to the first broker, like the bootstrap Service."""
    first = cluster.topology.brokers[0]
    for item in cluster.topology.listeners:
        if item.type != "nodeport":
            continue
        wanted = (item.configuration.get("bootstrap") or {}).get("nodePort")
        target = ("127.0.0.1", cluster.node_ports[first.node_id].listeners[item.name])
        forwarder = Forwarder(int(wanted) if wanted else 0, target)
        cluster.forwarders.append(forwarder)
        cluster.bootstrap_ports[item.name] = forwarder.port


def _text(*outputs: str | bytes | None) -> str:
    """What a timed-out subprocess printed (bytes or text, or None when it printed nothing)."""
    return "".join(o.decode(errors="replace") if isinstance(o, bytes) else (o or "") for o in outputs)


def format_storage(
    java_cmd: list[str], props_path: Path, cluster_id: str, node: NodeSpec, timeout: float
) -> None:
    """Format a KRaft node's log directory, as the operator's init does before the first start."""
    argv = [
        *java_cmd,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(props_path),
        "--ignore-formatted",
    ]
    bound = min(timeout, FORMAT_TIMEOUT_S)
    try:
        # stdin from /dev/null: under pytest-xdist the worker's stdin is its channel to the controller.
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=bound, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as err:
        said = "\n".join(_text(err.stdout, err.stderr).splitlines()[-30:]) or "(nothing)"
        raise PlatformError(
            f"formatting KRaft storage of node {node.node_id} took over {bound:.0f}s; it printed:\n{said}"
        ) from err
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise PlatformError(
            f"formatting KRaft storage of node {node.node_id} failed (exit {done.returncode}):\n{tail}"
        )


def _start_zookeeper(
    cluster: LocalKafka,
    supervisor: ProcessSupervisor,
    java: JavaRuntime,
    classpath: str,
    logging_opts: list[str],
    base: Path,
    timeout: float,
) -> str:
    (port,) = free_ports(1)
    cluster.reserved_ports.append(port)
    zk_dir = base / f"{cluster.topology.cluster}-zookeeper-0"
    zk_dir.mkdir(exist_ok=True)
    props = zk_dir / "zookeeper.properties"
    props.write_text(
        f"dataDir={zk_dir / 'data'}\nclientPort={port}\nclientPortAddress=127.0.0.1\n"
        "maxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=srvr,ruok\n",
        encoding="utf-8",
    )
    argv = [
        str(java.executable),
        *JVM_OPTIONS,
        *logging_opts,
        "-cp",
        classpath,
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        str(props),
    ]
    proc = supervisor.start(f"{cluster.topology.cluster}-zookeeper-0", argv)
    cluster.processes.append(proc)
    wait_for_port("127.0.0.1", port, timeout, proc)
    return f"127.0.0.1:{port}"


def random_token(length: int = 8) -> str:
    return secrets.token_hex(length // 2)
