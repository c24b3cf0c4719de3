"""Workflow: KRaft vs ZooKeeper (0.45.x) and dual-role vs dedicated controllers (1.x).

Source: seeds/003 (KRaft vs ZooKeeper: why KRaft, what changes for the operator of the cluster) and seeds/002;
Strimzi docs, "Deploying Kafka in KRaft mode" (KafkaNodePool roles, the strimzi.io/kraft and
strimzi.io/node-pools annotations on 0.45.x) and the 0.46 removal of ZooKeeper. Every other workflow runs in
each mode of the profile; this module asserts what differs — the metadata quorum the cluster reports — and
that topic creation and deletion propagate the same way in every mode.
"""

from __future__ import annotations

import allure
import pytest

from kconform.versions import KRAFT, KRAFT_DEDICATED, ZOOKEEPER
from kconform.waits import wait_until

pytestmark = pytest.mark.workflow("metadata-mode")


def _pools(kafka) -> dict[str, dict]:
    found = {}
    for document in kafka.applied:
        if document["kind"] == "KafkaNodePool":
            name = document["metadata"]["name"]
            found[name] = kafka.platform.get("KafkaNodePool", kafka.namespace, name) or {}
    return found


def test_cluster_reports_its_metadata_quorum(kafka, cell):
    """The Kafka CR and its node pools report the quorum of the mode: ZooKeeper, dual-role KRaft nodes, or
    dedicated controllers that are not brokers."""
    status = kafka.resource["status"]
    pools = _pools(kafka)
    kafka.apply_user(kafka.admin_user)
    admin = kafka.client(kafka.admin_user)
    broker_ids = sorted(b["node_id"] for b in admin.cluster_metadata()["brokers"])
    if cell.mode == ZOOKEEPER:
        with allure.step("ZooKeeper mode → spec.zookeeper, no node pools, metadata state ZooKeeper"):
            assert "zookeeper" in kafka.resource["spec"]
            assert pools == {}
            assert status.get("kafkaMetadataState") == "ZooKeeper"
            assert broker_ids == [0]
        return
    with allure.step("KRaft → node pools with controller and broker roles"):
        roles = {name: sorted(pool["status"]["roles"]) for name, pool in pools.items()}
        node_ids = {name: pool["status"]["nodeIds"] for name, pool in pools.items()}
        if cell.profile.strimzi.startswith("0."):
            assert status.get("kafkaMetadataState") == "KRaft"
    if cell.mode == KRAFT:
        with allure.step("dual-role → one pool whose nodes are controllers and brokers at once"):
            assert list(roles.values()) == [["broker", "controller"]]
            assert broker_ids == sorted(next(iter(node_ids.values())))
    elif cell.mode == KRAFT_DEDICATED:
        with allure.step("dedicated controllers → a controller-only pool whose nodes are not brokers"):
            controllers = [ids for name, ids in node_ids.items() if roles[name] == ["controller"]]
            brokers = [ids for name, ids in node_ids.items() if roles[name] == ["broker"]]
            assert len(controllers) == 1 and len(brokers) == 1
            assert broker_ids == sorted(brokers[0])
            assert not set(controllers[0]) & set(broker_ids)


def test_topic_creation_and_deletion_propagate(kafka, names):
    """A KafkaTopic appears in the cluster's metadata and disappears when the resource is deleted."""
    topic = names("propagate")
    kafka.apply_user(kafka.admin_user)
    admin = kafka.client(kafka.admin_user)
    with allure.step("apply a KafkaTopic → Ready and listed by the brokers"):
        kafka.apply_topic(topic, partitions=3)
        assert topic in admin.list_topics()
    with allure.step("produce to each of its partitions' leader → acknowledged"):
        assert admin.produce(topic, ["a", "b", "c"])
    with allure.step("delete the KafkaTopic → the brokers stop listing the topic"):
        kafka.platform.delete("KafkaTopic", kafka.namespace, topic)
        wait_until(
            lambda: topic not in admin.list_topics(), describe=f"topic {topic} to be deleted", timeout=120
        )
