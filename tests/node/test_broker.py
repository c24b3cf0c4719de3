"""kconform's client pod talking to a real Kafka broker, as in a kubernetes cell, on a real node.

The broker is the local platform's (real Apache Kafka processes on this machine, Strimzi's listener rules). It
binds loopback only, so this machine's end of the node's veth gets a relay per port (kconform's own Forwarder,
playing the NodePort's part): the pod bootstraps at the address the Kafka's status.listeners names and follows
the metadata to the broker's advertisedHost override, the host side of the veth. Plain and mutual-TLS
listeners; ACLs enforced by the broker. Nothing stands in for Kafka or kafka-python.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kconform import resources
from kconform.clients.operations import ClientRunner, Credentials, Endpoint, request
from kconform.errors import AuthorizationFailed
from kconform.forwarding import Forwarder
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.local.local_platform import LocalPlatform
from kconform.resources import BrokerOverride
from kconform.versions import KRAFT, profile
from tests.node.cluster import Node

pytestmark = pytest.mark.node
KAFKA_READY_TIMEOUT_S = 300.0
CLUSTER = "nodek"
LOCAL_NAMESPACE = "local"


@pytest.fixture(scope="module")
def broker(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A single-broker KRaft Kafka (1.2.0) with a plain and a mutual-TLS node-port listener advertised at the
    veth's host address, a topic, a user allowed on it; the relays; what a client needs, by listener name."""
    prof = profile("1.2.0")
    run_id = "broker" + uuid.uuid4().hex[:6]
    local = LocalPlatform(prof, run_id=run_id, log_dir=Path(tmp_path_factory.mktemp("broker-logs")))
    relays: list[Forwarder] = []
    try:
        ports = local.node_ports(4)
        listeners = [
            resources.nodeport_listener(
                name,
                port,
                tls=tls,
                authentication="tls" if tls else None,
                bootstrap_node_port=ports[2 * i],
                brokers=[BrokerOverride(broker=0, node_port=ports[2 * i + 1], advertised_host=node.host_ip)],
            )
            for i, (name, port, tls) in enumerate([("plain", 9094, False), ("mtls", 9095, True)])
        ]
        for document in resources.kafka_cluster(
            prof,
            KRAFT,
            name=CLUSTER,
            namespace=LOCAL_NAMESPACE,
            run_id=run_id,
            listeners=listeners,
            authorization={"type": "simple"},
            super_users=["ANONYMOUS"],  # the plain listener's clients: allowed everything
        ):
            local.apply(document)
        kafka = local.wait_ready("Kafka", LOCAL_NAMESPACE, CLUSTER, KAFKA_READY_TIMEOUT_S)
        relays = [Forwarder(port, ("127.0.0.1", port), host=node.host_ip) for port in ports]
        local.apply(
            resources.kafka_topic(
                prof, name="orders", namespace=LOCAL_NAMESPACE, cluster=CLUSTER, run_id=run_id
            )
        )
        local.wait_ready("KafkaTopic", LOCAL_NAMESPACE, "orders", 120)
        local.apply(
            resources.kafka_user(
                prof,
                name="app",
                namespace=LOCAL_NAMESPACE,
                cluster=CLUSTER,
                run_id=run_id,
                acls=[
                    resources.acl("topic", "orders", ["Read", "Write", "Describe"]),
                    resources.acl("group", "g", ["Read"]),
                ],
            )
        )
        local.wait_ready("KafkaUser", LOCAL_NAMESPACE, "app", 120)
        status = {item["name"]: item for item in kafka["status"]["listeners"]}
        yield {
            "plain": Endpoint(status["plain"]["bootstrapServers"], tls=False),
            "mtls": Endpoint(status["mtls"]["bootstrapServers"], tls=True),
            "credentials": Credentials.from_secrets(
                local.read_secret(LOCAL_NAMESPACE, f"{CLUSTER}-cluster-ca-cert"),
                local.read_secret(LOCAL_NAMESPACE, "app"),
            ),
        }
    finally:
        for relay in relays:
            relay.close()
        local.close()


@pytest.fixture(scope="module")
def pod_client(platform: KubernetesPlatform, namespace: str) -> ClientRunner:
    return platform.internal_clients(namespace)


def test_the_listener_status_names_the_veths_host_side(node: Node, broker: dict[str, Any]) -> None:
    assert broker["plain"].bootstrap.split(":")[0] == node.host_ip
    assert broker["mtls"].bootstrap.split(":")[0] == node.host_ip


def test_the_client_pod_creates_a_topic_then_produces_and_consumes_over_plaintext(
    pod_client: ClientRunner, broker: dict[str, Any]
) -> None:
    plain = broker["plain"]
    pod_client.run(
        request("create_topic", plain, None, topic="plain-topic", partitions=1, replicas=1, timeout_s=30)
    )
    assert "plain-topic" in pod_client.run(request("list_topics", plain, None, timeout_s=30))["topics"]
    produce = {"topic": "plain-topic", "values": ["from a pod"], "key": None, "idempotent": True}
    assert (
        pod_client.run(request("produce", plain, None, timeout_s=30, **produce))["offsets"][0]["offset"] == 0
    )
    consume = {"topic": "plain-topic", "group": "pg", "count": 1, "from_beginning": True}
    consumed = pod_client.run(request("consume", plain, None, timeout_s=30, **consume))
    assert [r["value"] for r in consumed["records"]] == ["from a pod"]


def test_the_client_pod_sees_the_broker_at_its_advertised_host(
    node: Node, pod_client: ClientRunner, broker: dict[str, Any]
) -> None:
    metadata = pod_client.run(request("cluster_metadata", broker["plain"], None, timeout_s=30))
    assert [(b["node_id"], b["host"]) for b in metadata["brokers"]] == [(0, node.host_ip)]


def test_the_client_pod_produces_and_consumes_with_mutual_tls(
    pod_client: ClientRunner, broker: dict[str, Any]
) -> None:
    credentials = broker["credentials"]
    value = "mTLS aus dem Pod — ✓"
    produced = pod_client.run(
        request(
            "produce",
            broker["mtls"],
            credentials,
            topic="orders",
            values=[value],
            key="k",
            idempotent=False,
            timeout_s=30,
        )
    )
    assert produced["offsets"]
    consumed = pod_client.run(
        request(
            "consume",
            broker["mtls"],
            credentials,
            topic="orders",
            group="g",
            count=1,
            timeout_s=30,
            from_beginning=True,
        )
    )
    assert value in [r["value"] for r in consumed["records"]]


def test_the_brokers_acl_refusal_reaches_the_test_typed(
    pod_client: ClientRunner, broker: dict[str, Any]
) -> None:
    with pytest.raises(AuthorizationFailed) as refused:
        pod_client.run(
            request(
                "produce",
                broker["mtls"],
                broker["credentials"],
                topic="not-allowed",
                values=["no"],
                key=None,
                idempotent=False,
                timeout_s=20,
            )
        )
    assert refused.value.scope == "topic"
