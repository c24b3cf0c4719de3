"""Workflow: KafkaUser ACLs under simple authorization.

Source: seeds/000 (the bridge user: Read on topic my-topic and group my-group, Write on my-topic); Strimzi
docs, "Configuring user authorization" (`spec.authorization.type: simple`, `superUsers`) and the ACL semantics
of Apache Kafka (Write implies Describe; an idempotent producer needs IdempotentWrite on the cluster or Write
on some topic). Each grant allows exactly what it says; each missing grant fails with its own error.
"""

from __future__ import annotations

import allure
import pytest

from kconform import resources
from kconform.errors import AuthorizationFailed
from kconform_fixtures.cluster import stable_conditions

pytestmark = pytest.mark.workflow("user-acls")


def seed_acls(topic: str, group: str) -> list[dict]:
    """The seed's bridge user: consume from the topic with the group, produce to the topic."""
    return [
        resources.acl("topic", topic, ["Read"]),
        resources.acl("group", group, ["Read"]),
        resources.acl("topic", topic, ["Write"]),
    ]


def test_seed_acls_allow_produce_and_consume(kafka, names):
    """The seed's ACLs (Read topic, Read group, Write topic) allow producing and consuming."""
    user, topic, group = names("bridge"), names("my-topic"), names("my-group")
    kafka.apply_topic(topic)
    with allure.step("apply the seed's KafkaUser → Ready once its ACLs are in effect"):
        kafka.apply_user(user, acls=seed_acls(topic, group))
    client = kafka.client(user)
    with allure.step("produce → acknowledged"):
        assert client.produce(topic, ["granted"]) == [{"partition": 0, "offset": 0}]
    with allure.step("consume in the granted group → the record"):
        assert [r["value"] for r in client.consume(topic, group=group, count=1)] == ["granted"]


def test_write_only_user_cannot_read(kafka, names):
    """Write without Read: producing works, reading in a group fails with a group authorization error."""
    user, topic, group = names("writer"), names("orders"), names("grp")
    kafka.apply_topic(topic)
    kafka.apply_user(user, acls=[resources.acl("topic", topic, ["Write"])])
    client = kafka.client(user)
    with allure.step("produce with Write → acknowledged"):
        client.produce(topic, ["written"])
    with allure.step("consume in a group with no group Read → group authorization error"):
        with pytest.raises(AuthorizationFailed) as refused:
            client.consume(topic, group=group, count=1)
        assert refused.value.scope == "group"


def test_read_without_topic_grant_is_a_topic_error(kafka, names):
    """Group Read but no topic Read: consuming fails with a topic authorization error."""
    user, topic, group = names("reader"), names("orders"), names("grp")
    kafka.apply_topic(topic)
    kafka.apply_user(user, acls=[resources.acl("group", group, ["Read"])])
    with allure.step("consume from a topic the user has no ACL on → topic authorization error"):
        with pytest.raises(AuthorizationFailed) as refused:
            kafka.client(user).consume(topic, group=group, count=1)
        assert refused.value.scope == "topic"


def test_no_acl_on_topic_is_a_topic_error(kafka, names):
    """A user with Write on another topic only: producing to this topic fails with a topic authorization error."""
    user, topic, other = names("stranger"), names("orders"), names("elsewhere")
    kafka.apply_topic(topic)
    kafka.apply_topic(other)
    kafka.apply_user(user, acls=[resources.acl("topic", other, ["Write"])])
    with allure.step("produce to a topic without any ACL → topic authorization error"):
        with pytest.raises(AuthorizationFailed) as refused:
            kafka.client(user).produce(topic, ["denied"], idempotent=False)
        assert refused.value.scope == "topic"


def test_no_write_anywhere_is_a_cluster_error_for_idempotent_producers(kafka, names):
    """With Write on no topic, an idempotent producer is refused at the cluster level (InitProducerId)."""
    user, topic, group = names("readonly"), names("orders"), names("grp")
    kafka.apply_topic(topic)
    kafka.apply_user(
        user, acls=[resources.acl("topic", topic, ["Read"]), resources.acl("group", group, ["Read"])]
    )
    with allure.step("produce idempotently without any Write → cluster authorization error"):
        with pytest.raises(AuthorizationFailed) as refused:
            kafka.client(user).produce(topic, ["denied"], idempotent=True)
        assert refused.value.scope == "cluster"


def test_super_user_bypasses_acls(kafka, names):
    """A user listed in spec.kafka.authorization.superUsers needs no ACL at all."""
    topic, group = names("orders"), names("grp")
    kafka.apply_topic(topic)
    with allure.step("apply the super user's KafkaUser with no ACLs → Ready"):
        kafka.apply_user(kafka.admin_user)
    admin = kafka.client(kafka.admin_user)
    with allure.step("produce and consume without any ACL → allowed"):
        admin.produce(topic, ["by a super user"])
        assert [r["value"] for r in admin.consume(topic, group=group, count=1)] == ["by a super user"]


def test_changing_acls_takes_effect_without_restart(kafka, names):
    """Re-applying a KafkaUser with an added grant takes effect; the Kafka CR is neither changed nor rolled."""
    user, topic, other = names("grower"), names("orders"), names("elsewhere")
    kafka.apply_topic(topic)
    kafka.apply_topic(other)
    kafka.apply_user(user, acls=[resources.acl("topic", other, ["Write"])])
    before = kafka.platform.get("Kafka", kafka.namespace, kafka.name)
    brokers_before = kafka.platform.broker_incarnations(kafka.namespace, kafka.name)
    client = kafka.client(user)
    with allure.step("produce before the grant → topic authorization error"):
        with pytest.raises(AuthorizationFailed):
            client.produce(topic, ["too early"], idempotent=False)
    with allure.step("re-apply the KafkaUser with Write on the topic → Ready"):
        kafka.apply_user(
            user, acls=[resources.acl("topic", other, ["Write"]), resources.acl("topic", topic, ["Write"])]
        )
    with allure.step(
        "produce again → acknowledged; the Kafka CR kept its generation and conditions, no broker restarted"
    ):
        client.produce(topic, ["now allowed"], idempotent=False)
        after = kafka.platform.get("Kafka", kafka.namespace, kafka.name)
        assert before is not None and after is not None
        assert after["metadata"]["generation"] == before["metadata"]["generation"]
        # Compared without lastTransitionTime, which a periodic reconcile stamps anew while nothing changes.
        assert stable_conditions(after) == stable_conditions(before)
        assert kafka.platform.broker_incarnations(kafka.namespace, kafka.name) == brokers_before
