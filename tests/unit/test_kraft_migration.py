"""The ZooKeeper-to-KRaft migration contract (kconform.kraft_migration) against Strimzi 0.45.2's own rules:
`api/.../kafka/KafkaMetadataState.java`, `cluster-operator/.../assembly/KafkaMetadataStateManager.java`,
`cluster-operator/.../model/KafkaMetadataConfigurationState.java`, `.../resource/KRaftMigrationState.java`,
and the 0.45.2 Kafka CRD's `status.kafkaMetadataState` enum."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kconform import kraft_migration as km
from kconform.kraft_migration import ConfigState
from kconform.paths import shared_crd_root

CRD = (shared_crd_root() or Path("/nonexistent")) / "0.45.2" / "040-Crd-kafka.yaml"


def _kafka(annotation: str | None = None, state: str | None = None) -> dict:
    meta = {"name": "c", "annotations": {km.ANNOTATION: annotation} if annotation is not None else {}}
    return {"metadata": meta, "status": {"kafkaMetadataState": state} if state else {}}


@pytest.mark.skipif(not CRD.is_file(), reason="the shared 0.45.2 CRDs are not beside the project")
def test_states_are_the_crds_enum() -> None:
    """The six values, in order, are the 0.45.2 CRD's enum for status.kafkaMetadataState."""
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta2")
    enum = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["kafkaMetadataState"][
        "enum"
    ]
    assert list(km.STATES) == enum


def test_annotation_is_read_lower_cased_and_defaults_to_disabled() -> None:
    """KafkaMetadataStateManager.java:334-336."""
    assert km.annotation_of(_kafka()) == km.DISABLED
    assert km.annotation_of(_kafka("Migration")) == km.MIGRATION


def test_initial_state_without_status_follows_the_annotation() -> None:
    """KafkaMetadataStateManager.java:65-71: KRaft for `enabled`, else ZooKeeper; the status wins when set."""
    assert km.initial_state(_kafka(km.ENABLED)) == km.KRAFT
    assert km.initial_state(_kafka(km.MIGRATION)) == km.ZOOKEEPER
    assert km.initial_state(_kafka(km.ENABLED, km.KRAFT_MIGRATION)) == km.KRAFT_MIGRATION


# (state, annotation, migration done) -> (next state, warning?) — KafkaMetadataStateManager.java:175-303
TRANSITIONS = [
    (km.ZOOKEEPER, km.DISABLED, False, km.ZOOKEEPER, False),
    (km.ZOOKEEPER, km.MIGRATION, False, km.KRAFT_MIGRATION, False),  # :203
    (km.ZOOKEEPER, km.ENABLED, False, km.ZOOKEEPER, True),  # :192-195
    (km.ZOOKEEPER, km.ROLLBACK, False, km.ZOOKEEPER, True),  # :196-199
    (km.KRAFT_MIGRATION, km.MIGRATION, False, km.KRAFT_MIGRATION, False),  # :219
    (km.KRAFT_MIGRATION, km.MIGRATION, True, km.KRAFT_DUAL_WRITING, False),  # :216-217
    (km.KRAFT_MIGRATION, km.DISABLED, False, km.ZOOKEEPER, False),  # :223-224
    (km.KRAFT_MIGRATION, km.ENABLED, True, km.KRAFT_MIGRATION, True),  # :226-229
    (km.KRAFT_MIGRATION, km.ROLLBACK, True, km.KRAFT_MIGRATION, True),  # :231-234
    (km.KRAFT_DUAL_WRITING, km.MIGRATION, False, km.KRAFT_POST_MIGRATION, False),  # :247-248
    (km.KRAFT_DUAL_WRITING, km.DISABLED, False, km.ZOOKEEPER, False),  # :251-252
    (km.KRAFT_DUAL_WRITING, km.ENABLED, False, km.KRAFT_DUAL_WRITING, True),  # :254-257
    (km.KRAFT_DUAL_WRITING, km.ROLLBACK, False, km.KRAFT_DUAL_WRITING, True),  # :259-262
    (km.KRAFT_POST_MIGRATION, km.ENABLED, False, km.PRE_KRAFT, False),  # :275-276
    (km.KRAFT_POST_MIGRATION, km.ROLLBACK, False, km.KRAFT_DUAL_WRITING, False),  # :279-280
    (km.KRAFT_POST_MIGRATION, km.MIGRATION, False, km.KRAFT_POST_MIGRATION, True),  # :283-285
    (km.KRAFT_POST_MIGRATION, km.DISABLED, False, km.KRAFT_POST_MIGRATION, True),  # :283-285
    (km.PRE_KRAFT, km.ENABLED, False, km.KRAFT, False),  # :296-297
    (km.PRE_KRAFT, km.ROLLBACK, False, km.PRE_KRAFT, True),  # :300-302
    (km.KRAFT, km.ENABLED, False, km.KRAFT, False),  # :180
    (km.KRAFT, km.ROLLBACK, False, km.KRAFT, True),  # :176-178
    (km.KRAFT, km.MIGRATION, False, km.KRAFT, True),
    (km.KRAFT, km.DISABLED, False, km.KRAFT, True),
]


@pytest.mark.parametrize(("state", "annotation", "done", "expected", "warns"), TRANSITIONS)
def test_next_state_follows_the_state_manager(state, annotation, done, expected, warns) -> None:
    transition = km.next_state(state, annotation, done)
    assert transition.state == expected
    assert (transition.warning is not None) == warns


# (state, annotation) -> configuration state — KafkaMetadataStateManager.java:110-159
CONFIGURATIONS = [
    (km.ZOOKEEPER, km.DISABLED, ConfigState.ZK),
    (km.ZOOKEEPER, km.MIGRATION, ConfigState.PRE_MIGRATION),  # :114-115
    (km.KRAFT_MIGRATION, km.MIGRATION, ConfigState.MIGRATION),  # :121-123
    (km.KRAFT_MIGRATION, km.ENABLED, ConfigState.ZK),  # :124-126: an invalid value rolls brokers back
    (km.KRAFT_DUAL_WRITING, km.DISABLED, ConfigState.ZK),  # :130-132
    (km.KRAFT_DUAL_WRITING, km.MIGRATION, ConfigState.POST_MIGRATION),  # :133-135
    (km.KRAFT_DUAL_WRITING, km.ROLLBACK, ConfigState.MIGRATION),  # :136-138
    (km.KRAFT_POST_MIGRATION, km.ENABLED, ConfigState.KRAFT),  # :142-143
    (km.KRAFT_POST_MIGRATION, km.ROLLBACK, ConfigState.MIGRATION),  # :145-147
    (km.KRAFT_POST_MIGRATION, km.DISABLED, ConfigState.POST_MIGRATION),  # :148-150
    (km.PRE_KRAFT, km.ENABLED, ConfigState.KRAFT),  # :153-154
    (km.KRAFT, km.ROLLBACK, ConfigState.KRAFT),
]


@pytest.mark.parametrize(("state", "annotation", "expected"), CONFIGURATIONS)
def test_configuration_state_follows_the_state_manager(state, annotation, expected) -> None:
    assert km.config_state(state, annotation) is expected


def test_dual_writing_with_enabled_has_no_configuration() -> None:
    """The KRaftDualWriting case ends without a return for `enabled`; Java arrow cases do not fall through,
    so the operator throws (KafkaMetadataStateManager.java:129-140, :157-158)."""
    with pytest.raises(km.InvalidMetadataState):
        km.config_state(km.KRAFT_DUAL_WRITING, km.ENABLED)


def test_configuration_ordinals_are_strimzis() -> None:
    """The ordinal is what the per-node ConfigMap's metadata.state carries (KafkaCluster.java:1906) and
    what the comparisons use (KafkaMetadataConfigurationState.java:79-109)."""
    assert [c.name for c in ConfigState] == ["ZK", "PRE_MIGRATION", "MIGRATION", "POST_MIGRATION", "KRAFT"]
    assert [c.value for c in ConfigState] == [0, 1, 2, 3, 4]


def test_zookeeper_is_removed_only_from_pre_kraft_with_enabled() -> None:
    """shouldDestroyZooKeeperNodes (:164-166) and isRollingBack (:324-326)."""
    assert km.destroys_zookeeper(km.PRE_KRAFT, km.ENABLED)
    assert not km.destroys_zookeeper(km.KRAFT_POST_MIGRATION, km.ENABLED)
    assert km.rolling_back(km.KRAFT_DUAL_WRITING, km.DISABLED)
    assert not km.rolling_back(km.KRAFT_DUAL_WRITING, km.ROLLBACK)


def test_migration_is_done_when_a_controller_reports_migration() -> None:
    """KRaftMigrationState.java:28-48 (Kafka's ZkMigrationState: NONE 0, MIGRATION 1, PRE_MIGRATION 2,
    POST_MIGRATION 3, ZK 4) and :79-81 (done only at MIGRATION); the gauge's MBean as the Kafka agent matches
    it (KafkaAgent.java:229-233)."""
    assert [km.migration_done(v) for v in range(5)] == [False, True, False, False, False]
    assert km.ZK_MIGRATION_STATE_METRIC == "kafka.controller:type=KafkaController,name=ZkMigrationState"


def test_the_documented_path_passes_every_state_once() -> None:
    """Walking the procedure's annotations through next_state visits the documented states in order
    (proc-deploy-migrate-kraft.adoc:143-151, :201-211)."""
    state, seen = km.ZOOKEEPER, [km.ZOOKEEPER]
    for annotation, states in km.MIGRATION_STEPS:
        for expected in states:
            state = km.next_state(state, annotation, migration_done=True).state
            assert state == expected
            seen.append(state)
    assert seen == list(km.STATES)


def test_reached_and_the_summary_name_state_and_latest_condition() -> None:
    kafka = _kafka(km.MIGRATION, km.KRAFT_MIGRATION)
    kafka["status"]["conditions"] = [
        {"type": "NotReady", "status": "True", "reason": "PlatformError", "message": "controller 100 exited"}
    ]
    assert km.reached(kafka, km.KRAFT_MIGRATION)
    assert not km.reached(kafka, km.KRAFT_MIGRATION, km.WARNING_REASON)
    assert km.summary(kafka) == (
        "metadata state KRaftMigration; latest condition: NotReady True PlatformError controller 100 exited"
    )
    kafka["status"]["conditions"].append({"type": "Warning", "status": "True", "reason": km.WARNING_REASON})
    assert km.reached(kafka, km.KRAFT_MIGRATION, km.WARNING_REASON)


def test_zookeeper_listing_is_read_from_the_shells_last_bracket_line() -> None:
    output = "Connecting to localhost:12181\n\nWATCHER::\n\n[__consumer_offsets, orders]\n"
    assert km.parse_listing(output, "/brokers/topics") == ["__consumer_offsets", "orders"]
    assert km.parse_listing("[]", "/brokers/topics") == []
    with pytest.raises(ValueError, match="no listing"):
        km.parse_listing("Node does not exist: /brokers/topics", "/brokers/topics")
