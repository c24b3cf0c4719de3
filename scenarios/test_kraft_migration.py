"""Workflow: migrating a ZooKeeper-based cluster to KRaft (Strimzi 0.45.x), and rolling the migration back.

Source: Strimzi 0.45.2 `documentation/modules/deploying/proc-deploy-migrate-kraft.adoc` ("Migrating to KRaft
mode" and "Performing a rollback on the migration"), the states of `api/.../kafka/KafkaMetadataState.java` and
the rules of `cluster-operator/.../assembly/KafkaMetadataStateManager.java` (kconform.kraft_migration), and
what `systemtest/.../migration/MigrationST.java` checks on the way (topics in ZooKeeper during dual write,
continuous clients through every roll). Only the 0.45.x `zookeeper` cell starts from ZooKeeper: 0.46 removed
both ZooKeeper and the migration.

A producer (a TLS user, acks=all, idempotent) and a consumer (a SCRAM user in a consumer group) run through
every step; at the end every acknowledged message must have been read, in its partition's order. The
conformance record carries each state's duration and the message counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import allure
import pytest

from kconform import kraft_migration as km
from kconform import migration_resources as mr
from kconform import resources
from kconform.errors import AuthorizationFailed
from kconform.traffic import ContinuousTraffic
from kconform.versions import ZOOKEEPER
from kconform_fixtures.cluster import KafkaCluster, running
from kconform_fixtures.plugin import remember_cluster, remember_evidence
from kconform_fixtures.results import attach_data
from kconform_fixtures.scram import ScramCluster

# Only ZooKeeper cells (0.45.x) have a ZooKeeper cluster to migrate; 0.46 removed ZooKeeper and the migration.
# Each test passes up to ten states, each bounded by STATE_TIMEOUT: the run's default per-test timeout is too short.
pytestmark = [
    pytest.mark.workflow("kraft-migration"),
    pytest.mark.modes(ZOOKEEPER),
    pytest.mark.timeout(2400),
]

# One state: at most one roll of every node of a pool plus one periodic reconciliation of the operator
# (120 s by default); the local platform needs seconds.
STATE_TIMEOUT = 600.0
TRAFFIC_TIMEOUT = 180.0  # a broker roll interrupts the clients; each call is bounded by CLIENT_TIMEOUT
CLIENT_TIMEOUT = 20.0
# The consumer asks for a few records at a time with a short poll, so it rejoins its group soon after a roll
# and the final drain ends within seconds of the last acknowledged message.
CONSUME_BATCH, CONSUME_TIMEOUT = 10, 8.0
TLS, SCRAM = "tls", "scram"
CONTROLLER = ["controller"]
BROKER = ["broker"]
ZK_BROKER = ["zookeeper-broker"]  # a broker in ZooKeeper mode runs without process.roles


class Migration:
    """One ZooKeeper cluster on node pools with its users, topics and continuous clients, and the steps of
    the documented procedure applied to it."""

    def __init__(self, cell, cluster_pool, request, names) -> None:
        self.cell, self.pool, self.request, self.names = cell, cluster_pool, request, names
        self.platform = cluster_pool.platforms.get(cell.strimzi, cell.mode)
        self.admin = f"admin-{cluster_pool.config.run_id[:6]}"
        self.durations: dict[str, float] = {}
        self._managers: list[Any] = []
        self.traffic: ContinuousTraffic | None = None

    # ---------------------------------------------------------------- setup
    def start(self) -> KafkaCluster:
        run_id = self.pool.config.run_id
        namespace, name = self.pool.name("kc"), self.pool.name("mig")[:30].rstrip("-")
        self.documents = mr.zookeeper_cluster_on_pools(
            self.cell.profile,
            name=name,
            namespace=namespace,
            run_id=run_id,
            listeners=[
                resources.internal_listener(TLS, 9093, tls=True, authentication="tls"),
                resources.internal_listener(SCRAM, 9094, tls=False, authentication=resources.SCRAM_SHA_512),
            ],
            super_users=[f"CN={self.admin}"],
        )
        manager = running(
            self.platform,
            self.documents,
            profile=self.cell.profile,
            mode=self.cell.mode,
            namespace=namespace,
            run_id=run_id,
            keep=self.pool.config.keep,
            on_failed_start=lambda found: remember_evidence(self.request, found),
        )
        self.kafka = manager.__enter__()
        self._managers.append(manager)
        self.kafka.admin_user = self.admin
        remember_cluster(self.request, self.kafka)
        self.scram = ScramCluster(self.kafka)
        return self.kafka

    def users_topics_and_traffic(self) -> None:
        """A TLS producer and a SCRAM consumer, each with only the ACLs its role needs, on a 3-partition topic."""
        self.topic, self.group = self.names("orders"), self.names("readers")
        self.writer, self.reader = self.names("writer"), self.names("reader")
        self.kafka.apply_topic(self.topic, partitions=3)
        self.kafka.apply_user(self.admin)
        self.kafka.apply_user(self.writer, acls=[resources.acl("topic", self.topic, ["Write", "Describe"])])
        self.scram.apply_user(
            self.reader,
            acls=[
                resources.acl("topic", self.topic, ["Read", "Describe"]),
                resources.acl("group", self.group, ["Read"]),
            ],
        )
        producer = self.kafka.client(self.writer, TLS, timeout_s=CLIENT_TIMEOUT)
        consumer = self.scram.client(self.reader, SCRAM, timeout_s=CONSUME_TIMEOUT)
        self.traffic = ContinuousTraffic(
            lambda values: producer.produce(self.topic, values, idempotent=True),
            lambda: consumer.read(self.topic, group=self.group, count=CONSUME_BATCH, from_beginning=True),
            prefix=self.names("m"),
        ).start()
        self.traffic.await_progress("before the migration", TRAFFIC_TIMEOUT)

    # ---------------------------------------------------------------- steps
    def apply_kafka(self, document: dict[str, Any]) -> None:
        self.platform.apply(document)
        self.documents[0] = document

    def annotate(self, value: str) -> None:
        """`kubectl annotate kafka <name> strimzi.io/kraft=<value> --overwrite`, as a server-side apply."""
        self.apply_kafka(mr.annotated(self.documents[0], value))

    def reach(self, state: str, *, reason: str | None = None) -> dict[str, Any]:
        """Wait for the state (timed since the previous one) and for clients to keep working in it."""
        started = time.monotonic()
        kafka = self.platform.wait_metadata_state(
            self.kafka.namespace, self.kafka.name, state, STATE_TIMEOUT, reason=reason
        )
        if reason is None:  # a transition: timed, under a label of its own when the state comes again
            label = state if state not in self.durations else f"{state} (again)"
            self.durations[label] = round(time.monotonic() - started, 1)
        assert self.traffic is not None
        self.traffic.await_progress(f"in {state}", TRAFFIC_TIMEOUT)
        return kafka

    def refused(self, value: str, state: str) -> None:
        """`strimzi.io/kraft: <value>` is refused in `state`: a warning that was not there before it appears,
        and the state stays. Without the first check a warning the operator gave for the previous value
        (the same message serves several) would pass for this one's."""
        before = self.platform.get("Kafka", self.kafka.namespace, self.kafka.name)
        assert km.reached(before, state) and not km.has_condition(before, km.WARNING_REASON), km.summary(
            before
        )
        self.annotate(value)
        self.reach(state, reason=km.WARNING_REASON)

    def roles(self) -> dict[str, list[str]]:
        return self.platform.node_roles(self.kafka.namespace, self.kafka.name)

    def in_zookeeper(self, topic: str) -> bool:
        return topic in self.platform.zookeeper_children(
            self.kafka.namespace, self.kafka.name, "/brokers/topics"
        )

    def new_topic_works(self, prefix: str) -> str:
        """A KafkaTopic created now is Ready, and the admin can write and read it."""
        topic = self.names(prefix)
        self.kafka.apply_topic(topic)
        admin = self.kafka.client(self.admin, TLS, timeout_s=CLIENT_TIMEOUT)
        admin.produce(topic, [prefix])
        assert [r["value"] for r in admin.consume(topic, group=None, count=1)] == [prefix]
        return topic

    def acls_still_enforced(self) -> None:
        """The SCRAM reader has no Write: the brokers still refuse it (authorization did not open up)."""
        with pytest.raises(AuthorizationFailed):
            self.scram.client(self.reader, SCRAM, timeout_s=CLIENT_TIMEOUT).produce(
                self.topic, ["not allowed"], idempotent=False
            )

    def finish(self) -> dict[str, Any]:
        """Stop the clients after a drain and put the counts and durations in the conformance record."""
        assert self.traffic is not None
        counts = self.traffic.stop(TRAFFIC_TIMEOUT)
        attach_data(self.request.node, state_durations_s=self.durations, **counts)
        allure.attach(str({"state_durations_s": self.durations, **counts}), name="migration counts")
        # The failures' text explains a count; it stays out of the record (counts are the measurement).
        return {**counts, "recent_client_errors": self.traffic.ledger.errors[-5:]}

    def stop(self) -> None:
        if self.traffic is not None:
            self.traffic.close()
        while self._managers:
            self._managers.pop().__exit__(None, None, None)


@pytest.fixture
def migration(cell, cluster_pool, request, names) -> Iterator[Migration]:
    setup = Migration(cell, cluster_pool, request, names)
    yield setup
    setup.stop()


def assert_nothing_lost(counts: dict[str, Any]) -> None:
    assert counts["acknowledged"] > 0, counts
    assert counts["lost"] == 0, f"acknowledged messages never consumed: {counts}"
    assert counts["misplaced"] == 0, f"messages read at another partition/offset than acknowledged: {counts}"
    assert counts["overwritten"] == 0, f"offsets acknowledged for two messages (a truncated log): {counts}"
    assert counts["out_of_order"] == [], f"partitions whose order differs from the send order: {counts}"


def test_migration_to_kraft_keeps_every_acknowledged_message(migration):
    """ZooKeeper → KRaftMigration → KRaftDualWriting → KRaftPostMigration → PreKRaft → KRaft with clients running."""
    with allure.step(
        "a ZooKeeper cluster on node pools, users, ACLs, a topic and continuous clients → ZooKeeper"
    ):
        kafka = migration.start()
        assert kafka.resource["status"]["kafkaMetadataState"] == km.ZOOKEEPER
        migration.users_topics_and_traffic()
        assert list(migration.roles().values()) == [ZK_BROKER]
    with allure.step("apply a controller node pool and strimzi.io/kraft: migration → KRaftMigration"):
        migration.platform.apply(
            mr.controller_pool(
                migration.cell.profile, cluster=kafka.name, namespace=kafka.namespace, run_id=kafka.run_id
            )
        )
        migration.annotate(km.MIGRATION)
        migration.reach(km.KRAFT_MIGRATION)
        roles = migration.roles()
        assert CONTROLLER in roles.values(), roles
    # No annotation is changed while the migration runs: KRaftMigration and KRaftDualWriting are left by the
    # operator on its own, so a test of "enabled during the migration" races it. On a real Strimzi 0.45.2 the
    # reconciliation already under way moved to KRaftDualWriting, where `enabled` has no configuration state
    # (KafkaMetadataStateManager.java:129-140 fall through to :158): every reconciliation then failed with IllegalArgumentException
    # and the migration never went on. Refused annotations are checked in the states that wait for the user:
    # ZooKeeper, KRaftPostMigration (the rollback test) and KRaft (below).
    with allure.step("metadata migrated, brokers rolled with the migration flag → KRaftDualWriting"):
        migration.reach(km.KRAFT_DUAL_WRITING)
        roles = migration.roles()
        # The operator leaves KRaftDualWriting on its own: with `migration` the brokers' configuration there
        # is already the post-migration one (KafkaMetadataStateManager.java:129-140), so a real operator may
        # be rolling them out of ZooKeeper mode when this is read (it was, on Strimzi 0.45.2).
        brokers = [r for r in roles.values() if r != CONTROLLER]
        assert CONTROLLER in roles.values() and brokers in ([ZK_BROKER], [BROKER]), roles
        dual = migration.new_topic_works("dual")
        assert migration.in_zookeeper(dual), "a topic created during dual write is not in ZooKeeper"
    with allure.step("brokers rolled into KRaft, metadata still written to ZooKeeper → KRaftPostMigration"):
        migration.reach(km.KRAFT_POST_MIGRATION)
        roles = migration.roles()
        assert sorted(roles.values()) == [BROKER, CONTROLLER], roles
        post = migration.new_topic_works("post")
        assert migration.in_zookeeper(post), "a topic created in post-migration is not in ZooKeeper"
        migration.acls_still_enforced()
    with allure.step("strimzi.io/kraft: enabled → PreKRaft → KRaft, ZooKeeper removed"):
        migration.annotate(km.ENABLED)
        migration.reach(km.PRE_KRAFT)
        migration.reach(km.KRAFT)
        assert sorted(migration.roles().values()) == [BROKER, CONTROLLER]
    with allure.step("strimzi.io/kraft: rollback in KRaft → stays KRaft with a warning (no way back)"):
        migration.refused(km.ROLLBACK, km.KRAFT)
        migration.annotate(km.ENABLED)
    with allure.step("remove spec.zookeeper → the cluster keeps serving"):
        migration.apply_kafka(mr.without_zookeeper(migration.documents[0]))
        migration.platform.wait_ready("Kafka", kafka.namespace, kafka.name, STATE_TIMEOUT)
        migration.new_topic_works("kraft")
        migration.acls_still_enforced()
    with allure.step("stop the clients → every acknowledged message consumed, in its partition's order"):
        assert_nothing_lost(migration.finish())


def test_rollback_from_post_migration_returns_to_zookeeper(migration):
    """KRaftPostMigration → rollback → KRaftDualWriting → controller pool deleted → disabled → ZooKeeper."""
    with allure.step("a ZooKeeper cluster with users, a topic and continuous clients"):
        kafka = migration.start()
        migration.users_topics_and_traffic()
    with allure.step("strimzi.io/kraft: enabled on a ZooKeeper cluster → stays ZooKeeper with a warning"):
        migration.refused(km.ENABLED, km.ZOOKEEPER)
    with allure.step(
        "controller pool and migration → KRaftMigration → KRaftDualWriting → KRaftPostMigration"
    ):
        migration.platform.apply(
            mr.controller_pool(
                migration.cell.profile, cluster=kafka.name, namespace=kafka.namespace, run_id=kafka.run_id
            )
        )
        migration.annotate(km.MIGRATION)
        for state in (km.KRAFT_MIGRATION, km.KRAFT_DUAL_WRITING, km.KRAFT_POST_MIGRATION):
            migration.reach(state)
    # Not checked: `disabled` refused in KRaftPostMigration. The operator warns there for every value but
    # `enabled` and `rollback`, so `migration`, the documented value of that state, carries the same warning
    # (KafkaMetadataStateManager.java onKRaftPostMigration); a check could not tell the two apart.
    with allure.step("strimzi.io/kraft: rollback → brokers back on ZooKeeper → KRaftDualWriting"):
        migration.annotate(km.ROLLBACK)
        migration.reach(km.KRAFT_DUAL_WRITING)
        assert sorted(migration.roles().values()) == [CONTROLLER, ZK_BROKER]
    with allure.step("delete the controller pool, strimzi.io/kraft: disabled → ZooKeeper, controllers gone"):
        migration.platform.delete("KafkaNodePool", kafka.namespace, mr.CONTROLLER_POOL)
        migration.annotate(km.DISABLED)
        migration.reach(km.ZOOKEEPER)
        assert list(migration.roles().values()) == [ZK_BROKER]
    with allure.step("the ZooKeeper cluster keeps working: new topics land in ZooKeeper, ACLs still hold"):
        topic = migration.new_topic_works("back")
        assert migration.in_zookeeper(topic)
        migration.acls_still_enforced()
    with allure.step("stop the clients → every acknowledged message consumed, in its partition's order"):
        assert_nothing_lost(migration.finish())
