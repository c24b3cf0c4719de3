"""From a Kafka resource (and its node pools) to the processes and broker configs that realise it.

Pure functions, no I/O: they decide node IDs, roles, listeners and every server.properties entry the way
Strimzi's operator would (listener names `<NAME>-<PORT>`, a TLS replication listener on 9091 and a TLS
control-plane listener on 9090 authenticated with the cluster CA, the operator's super users, the authorizer
for the metadata mode). Ports are assigned by the caller so several runs can share one machine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kconform import strimzi_contract as contract
from kconform.errors import UsageError

REPLICATION = "REPLICATION-9091"
CONTROLPLANE = "CONTROLPLANE-9090"
KRAFT_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ZOOKEEPER_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
LOOPBACK = "127.0.0.1"
SCRAM = "scram-sha-512"
# What Strimzi writes for a SCRAM listener (KafkaBrokerConfigurationBuilder.configureAuthentication): the
# login module with no options; the broker looks credentials up in its metadata (KRaft) or ZooKeeper.
SCRAM_SERVER_JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required;"


@dataclass(frozen=True)
class ListenerSpec:
    """One entry of spec.kafka.listeners, as the local platform needs it."""

    name: str
    port: int
    type: str
    tls: bool
    authentication: str | None
    configuration: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kafka_name(self) -> str:
        return f"{self.name.upper()}-{self.port}"

    @property
    def security_protocol(self) -> str:
        """Strimzi's rule: SASL_ for scram-sha-512 authentication, SSL for tls: true, else PLAINTEXT."""
        transport = "SSL" if self.tls else "PLAINTEXT"
        return f"SASL_{transport}" if self.authentication == SCRAM else transport


@dataclass(frozen=True)
class NodeSpec:
    """One Kafka process: a KRaft node (controller, broker or both) or a ZooKeeper-mode broker."""

    node_id: int
    pool: str | None  # None in ZooKeeper mode (Strimzi's virtual pool "kafka")
    roles: tuple[str, ...]

    @property
    def is_broker(self) -> bool:
        return "broker" in self.roles

    @property
    def is_controller(self) -> bool:
        return "controller" in self.roles

    def pod_name(self, cluster: str) -> str:
        return f"{cluster}-{self.pool or 'kafka'}-{self.node_id}"


@dataclass(frozen=True)
class Topology:
    cluster: str
    namespace: str
    mode: str  # kraft | zookeeper
    nodes: tuple[NodeSpec, ...]
    listeners: tuple[ListenerSpec, ...]
    authorization: Mapping[str, Any] | None
    config: Mapping[str, Any]

    @property
    def brokers(self) -> tuple[NodeSpec, ...]:
        return tuple(n for n in self.nodes if n.is_broker)

    @property
    def controllers(self) -> tuple[NodeSpec, ...]:
        return tuple(n for n in self.nodes if n.is_controller)


def _node_ids(pool: Mapping[str, Any], next_free: int, taken: set[int]) -> list[int]:
    """Node IDs for a pool: honour the strimzi.io/next-node-ids annotation ("[3-5]" or "[3,4]"), else count up."""
    replicas = int(pool["spec"]["replicas"])
    annotation = pool.get("metadata", {}).get("annotations", {}).get("strimzi.io/next-node-ids")
    candidates: list[int] = []
    if annotation:
        for part in str(annotation).strip("[] ").split(","):
            part = part.strip()
            if "-" in part:
                low, high = part.split("-", 1)
                candidates.extend(range(int(low), int(high) + 1))
            elif part:
                candidates.append(int(part))
    ids = [i for i in candidates if i not in taken][:replicas]
    candidate = next_free
    while len(ids) < replicas:
        if candidate not in taken and candidate not in ids:
            ids.append(candidate)
        candidate += 1
    return ids


def plan_topology(kafka: Mapping[str, Any], pools: Sequence[Mapping[str, Any]]) -> Topology:
    """Decide the nodes and listeners that realise a Kafka CR and its KafkaNodePools."""
    meta = kafka["metadata"]
    spec = kafka["spec"]["kafka"]
    annotations = meta.get("annotations") or {}
    uses_zookeeper = "zookeeper" in kafka["spec"] or annotations.get("strimzi.io/kraft") == "disabled"
    nodes: list[NodeSpec] = []
    if uses_zookeeper:
        replicas = int(spec.get("replicas", 1))
        nodes = [NodeSpec(node_id=i, pool=None, roles=("broker",)) for i in range(replicas)]
    else:
        if not pools:
            raise UsageError(
                f"Kafka {meta['name']} is a KRaft cluster but no KafkaNodePool labelled "
                f"strimzi.io/cluster={meta['name']} was applied; apply its node pools first"
            )
        taken: set[int] = set()
        # Controllers first so their IDs are the lowest, as the operator allocates them in pool order.
        ordered = sorted(
            pools, key=lambda p: (0 if "controller" in p["spec"]["roles"] else 1, p["metadata"]["name"])
        )
        for pool in ordered:
            ids = _node_ids(pool, max(taken, default=-1) + 1, taken)
            taken.update(ids)
            roles = tuple(sorted(pool["spec"]["roles"], key=lambda r: r != "broker"))
            nodes.extend(NodeSpec(node_id=i, pool=pool["metadata"]["name"], roles=roles) for i in ids)
    listeners = tuple(
        ListenerSpec(
            name=item["name"],
            port=int(item["port"]),
            type=item["type"],
            tls=bool(item["tls"]),
            authentication=(item.get("authentication") or {}).get("type"),
            configuration=item.get("configuration") or {},
        )
        for item in spec["listeners"]
    )
    for listener in listeners:
        if listener.authentication not in (None, "tls", SCRAM):
            raise UsageError(
                f"listener {listener.name!r} has authentication {listener.authentication!r}, which the local "
                f"platform does not realise; use tls or {SCRAM} (or run on --platform kubernetes)"
            )
        if listener.type not in ("internal", "nodeport", "cluster-ip"):
            raise UsageError(
                f"listener {listener.name!r} has type {listener.type!r}, which the local platform does not "
                "realise; use internal or nodeport (or run on --platform kubernetes)"
            )
    return Topology(
        cluster=meta["name"],
        namespace=meta.get("namespace", "default"),
        mode="zookeeper" if uses_zookeeper else "kraft",
        nodes=tuple(nodes),
        listeners=listeners,
        authorization=spec.get("authorization"),
        config=spec.get("config") or {},
    )


def operator_super_users(cluster: str) -> list[str]:
    """The principals Strimzi's operator adds to super.users when authorization is enabled."""
    return [
        f"User:CN={cluster}-kafka,O=io.strimzi",
        f"User:CN={cluster}-entity-topic-operator,O=io.strimzi",
        f"User:CN={cluster}-entity-user-operator,O=io.strimzi",
        f"User:CN={cluster}-kafka-exporter,O=io.strimzi",
        f"User:CN={cluster}-cruise-control,O=io.strimzi",
        "User:CN=cluster-operator,O=io.strimzi",
    ]


@dataclass(frozen=True)
class NodePorts:
    """The ports one node process listens on: the control plane, replication, and each user listener."""

    controlplane: int | None
    replication: int | None
    listeners: Mapping[str, int]  # listener name -> port the process binds


@dataclass(frozen=True)
class TlsFiles:
    keystore: str  # PEM file with the node's private key and certificate chain
    cluster_ca: str  # PEM of the cluster CA (replication, control plane)
    clients_ca: str  # PEM of the clients CA (listeners with tls authentication)


# The one "node" every local process runs on, shaped like a kind node's status.addresses: an InternalIP this
# machine reaches, and a Hostname it cannot resolve (the reserved `.invalid` TLD, RFC 6761), as a test host
# cannot resolve a kind node's container name. NodeUtils.findAddress picks from these as on a cluster.
NODE_ADDRESSES: tuple[Mapping[str, str], ...] = (
    {"type": "InternalIP", "address": LOOPBACK},
    {"type": "Hostname", "address": "kconform-local-node.invalid"},
)


def listener_resource(listener: ListenerSpec) -> dict[str, Any]:
    """The listener as it appears in spec.kafka.listeners (what the contract's rules read)."""
    return {"name": listener.name, "type": listener.type, "configuration": dict(listener.configuration)}


def advertised_address(
    topology: Topology, listener: ListenerSpec, node: NodeSpec, bound_port: int
) -> tuple[str, int]:
    """What a broker advertises for a listener.

    Internal listeners: `localhost:<port>` — the name the broker certificate carries and a client on this
    machine resolves. Node ports, as Strimzi does (KafkaListenersReconciler.nodePortServicesReady and the
    kafka-init InitWriter): the broker's advertisedHost override, else the node's address of the preferred
    type (strimzi_contract.find_address over NODE_ADDRESSES); the advertisedPort override, else the broker's
    own node port (here the port it binds).
    """
    if listener.type != "nodeport":
        return ("localhost", bound_port)
    resource = listener_resource(listener)
    host = contract.broker_advertised_host(resource, node.node_id) or contract.find_address(
        NODE_ADDRESSES, contract.preferred_address_type(resource)
    )
    port = bound_port
    for override in listener.configuration.get("brokers") or []:
        if int(override.get("broker", -1)) == node.node_id and override.get("advertisedPort"):
            port = int(override["advertisedPort"])
    return (host or LOOPBACK, port)


def server_properties(
    topology: Topology,
    node: NodeSpec,
    ports: Mapping[int, NodePorts],
    tls: TlsFiles,
    *,
    data_dir: str,
    zookeeper_connect: str | None = None,
) -> dict[str, str]:
    """Every server.properties entry for one node."""
    own = ports[node.node_id]
    props: dict[str, str] = {}
    listeners: list[str] = []
    advertised: list[str] = []
    protocols: dict[str, str] = {}

    def listener_tls(name: str, truststore: str, client_auth: str) -> None:
        prefix = f"listener.name.{name.lower()}."
        props[prefix + "ssl.keystore.type"] = "PEM"
        props[prefix + "ssl.keystore.location"] = tls.keystore
        props[prefix + "ssl.truststore.type"] = "PEM"
        props[prefix + "ssl.truststore.location"] = truststore
        props[prefix + "ssl.client.auth"] = client_auth
        props[prefix + "ssl.endpoint.identification.algorithm"] = ""

    if node.is_controller and own.controlplane is not None:
        listeners.append(f"{CONTROLPLANE}://{LOOPBACK}:{own.controlplane}")
        protocols[CONTROLPLANE] = "SSL"
        listener_tls(CONTROLPLANE, tls.cluster_ca, "required")
    if node.is_broker:
        assert own.replication is not None
        listeners.append(f"{REPLICATION}://{LOOPBACK}:{own.replication}")
        advertised.append(f"{REPLICATION}://localhost:{own.replication}")
        protocols[REPLICATION] = "SSL"
        listener_tls(REPLICATION, tls.cluster_ca, "required")
        for listener in topology.listeners:
            bound = own.listeners[listener.name]
            # Everything binds to loopback: the "external" client of a node port is this machine too.
            listeners.append(f"{listener.kafka_name}://{LOOPBACK}:{bound}")
            host, port = advertised_address(topology, listener, node, bound)
            advertised.append(f"{listener.kafka_name}://{host}:{port}")
            protocols[listener.kafka_name] = listener.security_protocol
            if listener.tls:
                mutual = listener.authentication == "tls"
                listener_tls(listener.kafka_name, tls.clients_ca, "required" if mutual else "none")
            if listener.authentication == SCRAM:
                prefix = f"listener.name.{listener.kafka_name.lower()}."
                props[prefix + "scram-sha-512.sasl.jaas.config"] = SCRAM_SERVER_JAAS
                props[prefix + "sasl.enabled.mechanisms"] = "SCRAM-SHA-512"
        props["inter.broker.listener.name"] = REPLICATION
        props["advertised.listeners"] = ",".join(advertised)

    if topology.mode == "kraft":
        protocols[CONTROLPLANE] = "SSL"  # brokers need the controller listener's protocol too
    props["listeners"] = ",".join(listeners)
    props["sasl.enabled.mechanisms"] = ""  # as Strimzi: only listeners that ask for SASL enable a mechanism
    props["listener.security.protocol.map"] = ",".join(f"{k}:{v}" for k, v in protocols.items())
    props["log.dirs"] = data_dir

    if topology.mode == "zookeeper":
        assert zookeeper_connect is not None
        props["broker.id"] = str(node.node_id)
        props["zookeeper.connect"] = zookeeper_connect
        props["zookeeper.connection.timeout.ms"] = "30000"
    else:
        props["node.id"] = str(node.node_id)
        props["process.roles"] = ",".join(node.roles)
        props["controller.listener.names"] = CONTROLPLANE
        voters = [f"{c.node_id}@localhost:{ports[c.node_id].controlplane}" for c in topology.controllers]
        props["controller.quorum.voters"] = ",".join(voters)
        # Brokers talk to the controllers over SSL with the node certificate.
        props["ssl.keystore.type"] = "PEM"
        props["ssl.keystore.location"] = tls.keystore
        props["ssl.truststore.type"] = "PEM"
        props["ssl.truststore.location"] = tls.cluster_ca
        props["ssl.endpoint.identification.algorithm"] = ""

    authorization = topology.authorization or {}
    if authorization.get("type") == "simple":
        props["authorizer.class.name"] = (
            KRAFT_AUTHORIZER if topology.mode == "kraft" else ZOOKEEPER_AUTHORIZER
        )
        supers = operator_super_users(topology.cluster)
        supers += [f"User:{name}" for name in authorization.get("superUsers") or []]
        props["super.users"] = ";".join(supers)

    # Single-node friendly defaults; spec.kafka.config wins, as it does with the operator.
    props.update(
        {
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
        }
    )
    for key, value in topology.config.items():
        if key == "super.users":
            continue  # Strimzi ignores super.users in spec.kafka.config
        props[key] = json.dumps(value) if isinstance(value, bool) else str(value)
    return props
