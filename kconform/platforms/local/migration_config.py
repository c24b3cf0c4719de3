"""server.properties of a node during Strimzi 0.45's ZooKeeper-to-KRaft migration. Pure functions, no I/O.

The rules are the operator's, per configuration state (kconform.kraft_migration.ConfigState), from
Strimzi 0.45.2 `cluster-operator/.../model/KafkaCluster.java` (withZooKeeperOrKRaftConfiguration,
:1844-1863) and `KafkaBrokerConfigurationBuilder.java`:

| node       | ZooKeeper connection        | migration flag              | KRaft quorum settings  |
|------------|-----------------------------|-----------------------------|------------------------|
| broker     | ZK..MIGRATION (:1845)       | MIGRATION only (:1851)      | MIGRATION.. (:1857)    |
| controller | PRE_MIGRATION..POST_MIG.    | PRE_MIGRATION..POST_MIG.    | PRE_MIGRATION..        |

- `process.roles` on a broker from POST_MIGRATION only (Builder :214); `broker.id` up to MIGRATION (:96)
  (the operator also writes `node.id` there; a ZooKeeper-mode broker derives it from `broker.id`).
- A controller keeps the replication listener's security settings and `inter.broker.listener.name` up to
  POST_MIGRATION, to reach the ZooKeeper-mode brokers (Builder :296, :351-354).
- The authorizer: StandardAuthorizer on controllers from PRE_MIGRATION and on brokers from POST_MIGRATION,
  AclAuthorizer before (Builder :674-677).

What the local platform leaves out, as in its ZooKeeper cell: the brokers' control-plane listener, which
only the ZooKeeper-era controller uses; the KRaft controllers reach brokers on the replication listener.
"""

from __future__ import annotations

from collections.abc import Mapping

from kconform.kraft_migration import ConfigState
from kconform.platforms.local import topology
from kconform.platforms.local.topology import CONTROLPLANE, REPLICATION, NodePorts, NodeSpec, Topology

MIGRATION_FLAG = "zookeeper.metadata.migration.enable"


def with_controllers(zk: Topology, controllers: tuple[NodeSpec, ...]) -> Topology:
    """The KRaft view of a ZooKeeper cluster: its brokers and the controller pool's nodes."""
    return Topology(
        cluster=zk.cluster,
        namespace=zk.namespace,
        mode="kraft",
        nodes=(*zk.brokers, *controllers),
        listeners=zk.listeners,
        authorization=zk.authorization,
        config=zk.config,
    )


def _tls(props: dict[str, str], listener: str, tls: topology.TlsFiles) -> None:
    prefix = f"listener.name.{listener.lower()}."
    props[prefix + "ssl.keystore.type"] = "PEM"
    props[prefix + "ssl.keystore.location"] = tls.keystore
    props[prefix + "ssl.truststore.type"] = "PEM"
    props[prefix + "ssl.truststore.location"] = tls.cluster_ca
    props[prefix + "ssl.client.auth"] = "required"
    props[prefix + "ssl.endpoint.identification.algorithm"] = ""


def _quorum(
    props: dict[str, str], kraft: Topology, ports: Mapping[int, NodePorts], tls: topology.TlsFiles
) -> None:
    props["controller.listener.names"] = CONTROLPLANE
    props["controller.quorum.voters"] = ",".join(
        f"{c.node_id}@localhost:{ports[c.node_id].controlplane}" for c in kraft.controllers
    )
    protocols = dict(item.split(":", 1) for item in props["listener.security.protocol.map"].split(","))
    protocols[CONTROLPLANE] = "SSL"
    props["listener.security.protocol.map"] = ",".join(f"{k}:{v}" for k, v in protocols.items())
    _tls(props, CONTROLPLANE, tls)


def node_properties(
    zk: Topology,
    controllers: tuple[NodeSpec, ...],
    node: NodeSpec,
    state: ConfigState,
    ports: Mapping[int, NodePorts],
    tls: topology.TlsFiles,
    *,
    data_dir: str,
    zookeeper_connect: str,
) -> dict[str, str]:
    """Every server.properties entry of `node` (a broker of `zk` or one of `controllers`) in `state`."""
    kraft = with_controllers(zk, controllers)
    if node.is_broker:
        if state.at_least(ConfigState.POST_MIGRATION):
            return topology.server_properties(kraft, node, ports, tls, data_dir=data_dir)
        props = topology.server_properties(
            zk, node, ports, tls, data_dir=data_dir, zookeeper_connect=zookeeper_connect
        )
        if state == ConfigState.MIGRATION:
            props[MIGRATION_FLAG] = "true"
            _quorum(props, kraft, ports, tls)
        return props
    props = topology.server_properties(kraft, node, ports, tls, data_dir=data_dir)
    own = ports[node.node_id]
    # Kafka 3.9 controllers advertise their listener (Builder :273-281).
    props["advertised.listeners"] = f"{CONTROLPLANE}://localhost:{own.controlplane}"
    if state.at_most(ConfigState.POST_MIGRATION):
        props["zookeeper.connect"] = zookeeper_connect
        props["zookeeper.connection.timeout.ms"] = "30000"
        props[MIGRATION_FLAG] = "true"
        props["inter.broker.listener.name"] = REPLICATION
        props["listener.security.protocol.map"] += f",{REPLICATION}:SSL"
        _tls(props, REPLICATION, tls)
    return props
