"""Workflow: external access through a NodePort listener, with advertised host/port overrides.

Source: seeds/004 (external clients reach the bootstrap NodePort but not the brokers until the advertised
listeners are changed) and seeds/002 (Strimzi on minikube); Strimzi docs, "Accessing Kafka using node ports"
(`configuration.bootstrap.nodePort`, `brokers[].nodePort/advertisedHost/advertisedPort`, and
`bootstrap.alternativeNames` for TLS hostname verification).

First the broken setup: Strimzi reports the node's address of the preferred type (here `Hostname`) with the
bootstrap node port in status.listeners, and each broker advertises that node address with its own node port;
a client outside reaches the bootstrap node port on the external host, gets metadata, and producing fails at
once naming the advertised addresses it cannot reach. Then with per-broker overrides: produce and consume succeed
from outside with hostname verification on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import allure
import pytest

from kconform import resources
from kconform.errors import BrokerUnreachable
from kconform_fixtures.cluster import KafkaCluster, running, waits_budget_s
from kconform_fixtures.plugin import remember_cluster

LISTENER = "external"
CLIENT_TIMEOUT_S = 30.0  # cluster.client's default
# Each test creates its own cluster inside the test function (one at a time: the node ports are fixed), so
# its timeout must hold that cluster's waits, a topic and a user, and its three client calls; plus a margin
# for the reads and deletes between them.
TEST_TIMEOUT_S = (
    waits_budget_s(node_port_clusters=1, resources_ready=2, client_calls=[CLIENT_TIMEOUT_S] * 3) + 120
)
pytestmark = [pytest.mark.workflow("external-access"), pytest.mark.timeout(TEST_TIMEOUT_S)]


def _documents(cell, name: str, namespace: str, run_id: str, listener: dict[str, Any]) -> list[dict]:
    return resources.kafka_cluster(
        cell.profile,
        cell.mode,
        name=name,
        namespace=namespace,
        run_id=run_id,
        listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls"), listener],
        authorization={"type": "simple"},
    )


class ExternalSetup:
    """One cluster with a node-port listener at a time (fixed node ports are shared on kind)."""

    def __init__(self, cell, cluster_pool, request) -> None:
        self.cell, self.pool, self.request = cell, cluster_pool, request
        self.platform = cluster_pool.platforms.get(cell.strimzi, cell.mode)
        # Fixed and mapped to the host on kind; free ports of this machine on the local platform.
        self.bootstrap_port, self.broker_port = self.platform.node_ports(2)
        self.host = self.platform.external_host()
        self._managers: list[Any] = []

    def start(self, listener: dict[str, Any]) -> KafkaCluster:
        self.stop()
        run_id = self.pool.config.run_id
        namespace, name = self.pool.name("kc"), self.pool.name("ext")[:30].rstrip("-")
        manager = running(
            self.platform,
            _documents(self.cell, name, namespace, run_id, listener),
            profile=self.cell.profile,
            mode=self.cell.mode,
            namespace=namespace,
            run_id=run_id,
            keep=self.pool.config.keep,
        )
        cluster = manager.__enter__()
        self._managers.append(manager)
        remember_cluster(self.request, cluster)
        return cluster

    def stop(self) -> None:
        while self._managers:
            self._managers.pop().__exit__(None, None, None)


@pytest.fixture
def external(cell, cluster_pool, request) -> Iterator[ExternalSetup]:
    setup = ExternalSetup(cell, cluster_pool, request)
    yield setup
    setup.stop()


def _user_and_topic(cluster: KafkaCluster, names) -> tuple[str, str, str]:
    user, topic, group = names("outside"), names("orders"), names("grp")
    cluster.apply_topic(topic)
    cluster.apply_user(
        user, acls=[resources.acl("topic", topic, ["Read", "Write"]), resources.acl("group", group, ["Read"])]
    )
    return user, topic, group


def test_default_advertised_addresses_are_unreachable(external, names):
    """Without overrides, bootstrap through the node port answers, but brokers advertise their node's address,
    which a client outside the cluster cannot reach; the failure names those addresses."""
    listener = resources.nodeport_listener(
        LISTENER,
        9094,
        tls=True,
        authentication="tls",
        bootstrap_node_port=external.bootstrap_port,
        brokers=[resources.BrokerOverride(0, node_port=external.broker_port)],
    )
    # Brokers advertise the node's Hostname: resolvable inside the cluster, not by a client outside it.
    # (kind node IPs are routable from a Linux host, so the default InternalIP would hide the pitfall there.)
    listener["configuration"]["preferredNodePortAddressType"] = "Hostname"
    with allure.step("apply a Kafka with a nodeport listener and no advertised overrides → Ready"):
        cluster = external.start(listener)
    user, topic, _group = _user_and_topic(cluster, names)
    with allure.step("status.listeners → the brokers' node addresses with the bootstrap node port"):
        # KafkaReconciler.nodePortExternalListenerStatus: node address of the preferred type + bootstrap port.
        node_addresses = cluster.listener_status(LISTENER)["addresses"]
        assert node_addresses and {a["port"] for a in node_addresses} == {external.bootstrap_port}
        node_hosts = {a["host"] for a in node_addresses}
        assert external.host not in node_hosts, node_hosts
    # Node-port TLS cannot verify hostnames without overrides (Strimzi documents it): verification off here.
    credentials = cluster.credentials(user, check_hostname=False)
    client = cluster.client(
        user,
        LISTENER,
        external=True,
        credentials=credentials,
        timeout_s=15,  # < CLIENT_TIMEOUT_S
        bootstrap=f"{external.host}:{external.bootstrap_port}",  # where the test host reaches the node port
    )
    with allure.step(
        "fetch metadata through the external host's bootstrap node port → the advertised brokers"
    ):
        brokers = client.cluster_metadata()["brokers"]
        advertised = [f"{b['host']}:{b['port']}" for b in brokers]
        assert advertised, "bootstrap returned no brokers"
        # Each broker advertises its node's address (the one status shows) with its own node port.
        assert {b["host"] for b in brokers} <= node_hosts, (advertised, node_hosts)
        assert {b["port"] for b in brokers} == {external.broker_port}, advertised
    with allure.step("produce → fails at once, and the error names the unreachable advertised address"):
        with pytest.raises(BrokerUnreachable) as unreachable:
            client.produce(topic, ["lost"], idempotent=False)
        assert all(address in str(unreachable.value) for address in advertised), str(unreachable.value)


def test_advertised_overrides_make_brokers_reachable(external, names):
    """With advertisedHost/advertisedPort per broker and alternativeNames, clients outside produce and consume
    with TLS hostname verification on."""
    listener = resources.nodeport_listener(
        LISTENER,
        9094,
        tls=True,
        authentication="tls",
        bootstrap_node_port=external.bootstrap_port,
        brokers=[
            resources.BrokerOverride(
                0,
                node_port=external.broker_port,
                advertised_host=external.host,
                advertised_port=external.broker_port,
            )
        ],
        alternative_names=[external.host],
    )
    with allure.step("apply a Kafka whose broker advertises the externally reachable host and port → Ready"):
        cluster = external.start(listener)
    user, topic, group = _user_and_topic(cluster, names)
    client = cluster.client(user, LISTENER, external=True)
    assert client.credentials is not None and client.credentials.check_hostname
    with allure.step("status.listeners → the advertisedHost with the bootstrap node port"):
        status = cluster.listener_status(LISTENER)
        assert status["bootstrapServers"] == f"{external.host}:{external.bootstrap_port}", status
    with allure.step("metadata advertises the override → the host and port outside clients use"):
        brokers = client.cluster_metadata()["brokers"]
        assert [(b["host"], b["port"]) for b in brokers] == [(external.host, external.broker_port)]
    with allure.step("produce and consume from outside, hostname verification on → the record"):
        client.produce(topic, ["from outside"])
        assert [r["value"] for r in client.consume(topic, group=group, count=1)] == ["from outside"]
