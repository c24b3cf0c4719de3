"""The server.properties the local platform gives each node in each configuration state of the migration,
checked against Strimzi 0.45.2's rules (KafkaCluster.java:1844-1863, KafkaBrokerConfigurationBuilder.java)."""

from __future__ import annotations

import pytest

from kconform.kraft_migration import ConfigState
from kconform.platforms.local import migration_config, topology
from kconform.platforms.local.topology import NodePorts, NodeSpec

ZK_CONNECT = "127.0.0.1:2181"
TLS = topology.TlsFiles(keystore="/k.pem", cluster_ca="/cluster.pem", clients_ca="/clients.pem")
KAFKA = {
    "metadata": {"name": "c", "namespace": "ns", "annotations": {"strimzi.io/kraft": "disabled"}},
    "spec": {
        "kafka": {
            "listeners": [
                {
                    "name": "tls",
                    "port": 9093,
                    "type": "internal",
                    "tls": True,
                    "authentication": {"type": "tls"},
                }
            ],
            "authorization": {"type": "simple", "superUsers": ["CN=admin"]},
        },
        "zookeeper": {"replicas": 1},
    },
}
ZK = topology.plan_topology(KAFKA, [])
BROKER = ZK.brokers[0]
CONTROLLER = NodeSpec(node_id=100, pool="controller", roles=("controller",))
PORTS = {
    0: NodePorts(controlplane=None, replication=19091, listeners={"tls": 19093}),
    100: NodePorts(controlplane=19090, replication=None, listeners={}),
}


def props(node: NodeSpec, state: ConfigState) -> dict[str, str]:
    return migration_config.node_properties(
        ZK, (CONTROLLER,), node, state, PORTS, TLS, data_dir="/data", zookeeper_connect=ZK_CONNECT
    )


@pytest.mark.parametrize("state", [ConfigState.ZK, ConfigState.PRE_MIGRATION])
def test_broker_before_migration_is_the_zookeeper_broker(state: ConfigState) -> None:
    """Brokers keep their ZooKeeper configuration until MIGRATION (KafkaCluster.java:1845-1859)."""
    assert props(BROKER, state) == topology.server_properties(
        ZK, BROKER, PORTS, TLS, data_dir="/data", zookeeper_connect=ZK_CONNECT
    )


def test_broker_in_migration_keeps_zookeeper_and_knows_the_quorum() -> None:
    """MIGRATION: ZooKeeper connection (:1845), the migration flag (:1851), the KRaft quorum settings but no
    process.roles (:1857; Builder :214), broker.id (Builder :96), AclAuthorizer (Builder :675-676)."""
    found = props(BROKER, ConfigState.MIGRATION)
    assert found["zookeeper.connect"] == ZK_CONNECT
    assert found["zookeeper.metadata.migration.enable"] == "true"
    assert found["controller.quorum.voters"] == "100@localhost:19090"
    assert found["controller.listener.names"] == topology.CONTROLPLANE
    assert f"{topology.CONTROLPLANE}:SSL" in found["listener.security.protocol.map"]
    assert "process.roles" not in found
    assert found["broker.id"] == "0"
    assert found["authorizer.class.name"] == topology.ZOOKEEPER_AUTHORIZER


@pytest.mark.parametrize("state", [ConfigState.POST_MIGRATION, ConfigState.KRAFT])
def test_broker_from_post_migration_is_a_kraft_broker(state: ConfigState) -> None:
    """POST_MIGRATION on: process.roles=broker (Builder :214), no ZooKeeper (:1845), StandardAuthorizer (:676)."""
    found = props(BROKER, state)
    assert found["process.roles"] == "broker"
    assert "zookeeper.connect" not in found and "zookeeper.metadata.migration.enable" not in found
    assert "broker.id" not in found and found["node.id"] == "0"
    assert found["authorizer.class.name"] == topology.KRAFT_AUTHORIZER


@pytest.mark.parametrize(
    "state", [ConfigState.PRE_MIGRATION, ConfigState.MIGRATION, ConfigState.POST_MIGRATION]
)
def test_controller_until_post_migration_is_connected_to_zookeeper(state: ConfigState) -> None:
    """Controllers: ZooKeeper and the migration flag from PRE_MIGRATION to POST_MIGRATION (:1846, :1852), the
    replication listener's security and inter.broker.listener.name to reach brokers (Builder :296, :351-354),
    StandardAuthorizer (Builder :675), an advertised control-plane listener on Kafka 3.9 (Builder :275)."""
    found = props(CONTROLLER, state)
    assert found["process.roles"] == "controller"
    assert found["zookeeper.connect"] == ZK_CONNECT
    assert found["zookeeper.metadata.migration.enable"] == "true"
    assert found["inter.broker.listener.name"] == topology.REPLICATION
    assert f"{topology.REPLICATION}:SSL" in found["listener.security.protocol.map"]
    assert found["listeners"] == f"{topology.CONTROLPLANE}://127.0.0.1:19090"
    assert found["advertised.listeners"] == f"{topology.CONTROLPLANE}://localhost:19090"
    assert found["authorizer.class.name"] == topology.KRAFT_AUTHORIZER


def test_controller_in_kraft_is_disconnected_from_zookeeper() -> None:
    found = props(CONTROLLER, ConfigState.KRAFT)
    assert not {
        "zookeeper.connect",
        "zookeeper.metadata.migration.enable",
        "inter.broker.listener.name",
    } & set(found)
    assert topology.REPLICATION not in found["listener.security.protocol.map"]


def test_controller_pools_are_refused_while_the_configuration_is_zookeeper() -> None:
    """NodePoolUtils.validateZooKeeperBasedProcessRoles (0.45.2, :161-175): with the configuration state ZK
    (e.g. `enabled` during KRaftMigration, KafkaMetadataStateManager.java:124-126) a controller pool fails the
    reconciliation, so nothing is rolled; with PRE_MIGRATION on it is the migration's controller quorum."""
    from types import SimpleNamespace

    from kconform.platforms.local.migration import InvalidResourceException, LocalMigration

    cluster = SimpleNamespace(topology=ZK, zookeeper_connect=ZK_CONNECT)
    migration = LocalMigration(cluster, supervisor=None, work_dir=None)  # type: ignore[arg-type]
    controllers = {
        "metadata": {
            "name": "controller",
            "labels": {"strimzi.io/cluster": "c"},
            "annotations": {"strimzi.io/next-node-ids": "[100-199]"},
        },
        "spec": {"replicas": 1, "roles": ["controller"]},
    }
    brokers = {
        "metadata": {
            "name": "kafka",
            "labels": {"strimzi.io/cluster": "c"},
            "annotations": {"strimzi.io/next-node-ids": "[0-99]"},
        },
        "spec": {"replicas": 1, "roles": ["broker"]},
    }
    with pytest.raises(InvalidResourceException, match="controller"):
        migration._desired_controllers(KAFKA, [brokers, controllers], ConfigState.ZK)
    assert migration._desired_controllers(KAFKA, [brokers], ConfigState.ZK) == ()
    (controller,) = migration._desired_controllers(KAFKA, [brokers, controllers], ConfigState.PRE_MIGRATION)
    assert (controller.node_id, controller.roles) == (100, ("controller",))
