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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import allure
import pytest

from kconform import resources
from kconform.errors import BrokerUnreachable
from kconform_fixtures.cell_clusters import ClusterPlan, cluster_fixture
from kconform_fixtures.cluster import KafkaCluster, waits_budget_s

LISTENER = "external"
CLIENT_TIMEOUT_S = 30.0  # cluster.client's default
# Each test's cluster is its fixture's (setup, outside a kubernetes test's func-only timeout); the test
# function's timeout must hold a topic and a user, and its three client calls, plus a margin for the reads
# and deletes between them.
TEST_TIMEOUT_S = waits_budget_s(resources_ready=2, client_calls=[CLIENT_TIMEOUT_S] * 3) + 120
pytestmark = [pytest.mark.workflow("external-access"), pytest.mark.timeout(TEST_TIMEOUT_S)]


@dataclass(frozen=True)
class External:
    """A Ready cluster with a node-port listener, and where a client outside the cluster reaches it."""

    cluster: KafkaCluster
    host: str  # fixed and mapped to the host on kind; this machine on the local platform
    bootstrap_port: int
    broker_port: int


def nodeport_cluster(plan: ClusterPlan, listener: Callable[[str, int, int], dict[str, Any]]) -> list[dict]:
    """An mTLS internal listener, the node-port listener under test on two node ports, simple authorization."""
    bootstrap_port, broker_port = plan.node_ports(2)
    return resources.kafka_cluster(
        plan.profile,
        plan.mode,
        name=plan.name,
        namespace=plan.namespace,
        run_id=plan.run_id,
        listeners=[
            resources.internal_listener("tls", 9093, tls=True, authentication="tls"),
            listener(plan.platform.external_host(), bootstrap_port, broker_port),
        ],
        authorization={"type": "simple"},
    )


def _external(cluster: KafkaCluster) -> External:
    """Where the applied listener put the bootstrap and the broker."""
    kafka = next(d for d in cluster.applied if d["kind"] == "Kafka")
    listener = next(i for i in kafka["spec"]["kafka"]["listeners"] if i["name"] == LISTENER)
    configuration = listener["configuration"]
    return External(
        cluster,
        cluster.platform.external_host(),
        configuration["bootstrap"]["nodePort"],
        configuration["brokers"][0]["nodePort"],
    )


def without_overrides(host: str, bootstrap_port: int, broker_port: int) -> dict[str, Any]:
    """The seed's first attempt: node ports, no advertised host or port."""
    listener = resources.nodeport_listener(
        LISTENER,
        9094,
        tls=True,
        authentication="tls",
        bootstrap_node_port=bootstrap_port,
        brokers=[resources.BrokerOverride(0, node_port=broker_port)],
    )
    # Brokers advertise the node's Hostname: resolvable inside the cluster, not by a client outside it.
    # (kind node IPs are routable from a Linux host, so the default InternalIP would hide the pitfall there.)
    listener["configuration"]["preferredNodePortAddressType"] = "Hostname"
    return listener


def with_overrides(host: str, bootstrap_port: int, broker_port: int) -> dict[str, Any]:
    """The fix: each broker advertises the externally reachable host and port; the host is in the cert."""
    return resources.nodeport_listener(
        LISTENER,
        9094,
        tls=True,
        authentication="tls",
        bootstrap_node_port=bootstrap_port,
        brokers=[
            resources.BrokerOverride(
                0, node_port=broker_port, advertised_host=host, advertised_port=broker_port
            )
        ],
        alternative_names=[host],
    )


@cluster_fixture("ext-default", lambda plan: nodeport_cluster(plan, without_overrides), node_ports=2)
def no_overrides(cluster: KafkaCluster) -> External:
    """A Ready Kafka with a nodeport listener and no advertised overrides."""
    return _external(cluster)


@cluster_fixture("ext-advertised", lambda plan: nodeport_cluster(plan, with_overrides), node_ports=2)
def advertised_overrides(cluster: KafkaCluster) -> External:
    """A Ready Kafka whose broker advertises the externally reachable host and port."""
    return _external(cluster)


def _user_and_topic(cluster: KafkaCluster, names) -> tuple[str, str, str]:
    user, topic, group = names("outside"), names("orders"), names("grp")
    cluster.apply_topic(topic)
    cluster.apply_user(
        user, acls=[resources.acl("topic", topic, ["Read", "Write"]), resources.acl("group", group, ["Read"])]
    )
    return user, topic, group


def test_default_advertised_addresses_are_unreachable(no_overrides, names):
    """Without overrides, bootstrap through the node port answers, but brokers advertise their node's address,
    which a client outside the cluster cannot reach; the failure names those addresses."""
    external, cluster = no_overrides, no_overrides.cluster
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


def test_advertised_overrides_make_brokers_reachable(advertised_overrides, names):
    """With advertisedHost/advertisedPort per broker and alternativeNames, clients outside produce and consume
    with TLS hostname verification on."""
    external, cluster = advertised_overrides, advertised_overrides.cluster
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
