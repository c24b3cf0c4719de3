"""Strimzi 0.45's ZooKeeper-to-KRaft migration as a state machine: the contract both platforms meet.

Facts from Strimzi 0.45.2 (cited by file:line; pinned in tests/unit/test_kraft_migration.py):

- `status.kafkaMetadataState` takes the values of `api/.../kafka/KafkaMetadataState.java` (ZooKeeper,
  KRaftMigration, KRaftDualWriting, KRaftPostMigration, PreKRaft, KRaft).
- The `strimzi.io/kraft` annotation is read lower-cased, `disabled` when missing
  (`KafkaMetadataStateManager.java:334-336`); with no state in the status yet, the state is KRaft when the
  annotation is `enabled`, else ZooKeeper (`:65-71`).
- Every reconciliation first derives the nodes' configuration state from (state, annotation)
  (`getMetadataConfigurationState`, `:110-159`), realises it, asks a controller for Kafka's
  `ZkMigrationState` while that configuration is MIGRATION (`KafkaReconciler.java:1193-1223`), and last
  computes the next state (`computeNextMetadataState`, `:85-101`, called at `KafkaReconciler.java:1181`).
- An annotation that is invalid for the state adds a Warning condition with reason
  `KafkaMetadataStateWarning` and keeps the state (`:372-375`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

ANNOTATION = "strimzi.io/kraft"

# The annotation's values (KafkaMetadataStateManager.java:29-44).
ENABLED = "enabled"
MIGRATION = "migration"
DISABLED = "disabled"
ROLLBACK = "rollback"

# status.kafkaMetadataState values (KafkaMetadataState.java).
ZOOKEEPER = "ZooKeeper"
KRAFT_MIGRATION = "KRaftMigration"
KRAFT_DUAL_WRITING = "KRaftDualWriting"
KRAFT_POST_MIGRATION = "KRaftPostMigration"
PRE_KRAFT = "PreKRaft"
KRAFT = "KRaft"
STATES = (ZOOKEEPER, KRAFT_MIGRATION, KRAFT_DUAL_WRITING, KRAFT_POST_MIGRATION, PRE_KRAFT, KRAFT)

WARNING_REASON = "KafkaMetadataStateWarning"  # KafkaMetadataStateManager.java:373

# The documented path (proc-deploy-migrate-kraft.adoc:143-151 and :201-211): annotation -> states passed.
MIGRATION_STEPS = (
    (MIGRATION, (KRAFT_MIGRATION, KRAFT_DUAL_WRITING, KRAFT_POST_MIGRATION)),
    (ENABLED, (PRE_KRAFT, KRAFT)),
)


class ConfigState(Enum):
    """KafkaMetadataConfigurationState.java: how the nodes are configured; ordinals matter (`:79-109`)."""

    ZK = 0
    PRE_MIGRATION = 1
    MIGRATION = 2
    POST_MIGRATION = 3
    KRAFT = 4

    def at_most(self, other: ConfigState) -> bool:
        return self.value <= other.value

    def at_least(self, other: ConfigState) -> bool:
        return self.value >= other.value


class InvalidMetadataState(Exception):
    """Strimzi's IllegalArgumentException for a (state, annotation) pair without a configuration
    (KafkaMetadataStateManager.java:157-158): e.g. KRaftDualWriting with `enabled`."""


def annotation_of(kafka: dict) -> str:
    """The annotation as the state manager reads it: lower-cased, `disabled` when missing (`:334-336`)."""
    value = ((kafka.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)
    return str(value if value is not None else DISABLED).lower()


def initial_state(kafka: dict) -> str:
    """The state the manager starts from: the status's, else from the annotation (`:65-71`)."""
    current = (kafka.get("status") or {}).get("kafkaMetadataState")
    if current:
        return str(current)
    return KRAFT if annotation_of(kafka) == ENABLED else ZOOKEEPER


def config_state(state: str, annotation: str) -> ConfigState:
    """getMetadataConfigurationState (`:110-159`). Java arrow cases do not fall through: KRaftDualWriting
    with `enabled` has no configuration and the reconciliation fails."""
    if state == ZOOKEEPER:
        return ConfigState.PRE_MIGRATION if annotation == MIGRATION else ConfigState.ZK
    if state == KRAFT_MIGRATION:
        return ConfigState.MIGRATION if annotation == MIGRATION else ConfigState.ZK
    if state == KRAFT_DUAL_WRITING:
        if annotation == DISABLED:
            return ConfigState.ZK
        if annotation == MIGRATION:
            return ConfigState.POST_MIGRATION
        if annotation == ROLLBACK:
            return ConfigState.MIGRATION
        raise InvalidMetadataState(f"no node configuration for state {state} with {ANNOTATION}: {annotation}")
    if state == KRAFT_POST_MIGRATION:
        if annotation == ENABLED:
            return ConfigState.KRAFT
        if annotation == ROLLBACK:
            return ConfigState.MIGRATION
        return ConfigState.POST_MIGRATION
    if state in (PRE_KRAFT, KRAFT):
        return ConfigState.KRAFT
    raise InvalidMetadataState(f"unknown metadata state {state!r}")


@dataclass(frozen=True)
class Transition:
    state: str
    warning: str | None = None  # the message of a KafkaMetadataStateWarning condition, if any


def next_state(state: str, annotation: str, migration_done: bool) -> Transition:
    """computeNextMetadataState (`:85-101`) with its per-state rules (`:175-303`). The warning texts are
    kconform's own words for Strimzi's."""
    if state == KRAFT:  # :175-181
        if annotation in (MIGRATION, ROLLBACK, DISABLED):
            return Transition(KRAFT, f"{annotation!r} is not allowed: the cluster is already KRaft")
        return Transition(KRAFT)
    if state == ZOOKEEPER:  # :190-204
        if annotation == MIGRATION:
            return Transition(KRAFT_MIGRATION)
        if annotation in (ENABLED, ROLLBACK):
            return Transition(
                ZOOKEEPER, f"{annotation!r} is not allowed on a ZooKeeper cluster; use 'migration'"
            )
        return Transition(ZOOKEEPER)
    if state == KRAFT_MIGRATION:  # :213-237
        if annotation == MIGRATION:
            return Transition(KRAFT_DUAL_WRITING if migration_done else KRAFT_MIGRATION)
        if annotation == DISABLED:
            return Transition(ZOOKEEPER)
        return Transition(KRAFT_MIGRATION, f"{annotation!r} is not allowed while the migration runs")
    if state == KRAFT_DUAL_WRITING:  # :246-265
        if annotation == MIGRATION:
            return Transition(KRAFT_POST_MIGRATION)
        if annotation == DISABLED:
            return Transition(ZOOKEEPER)
        return Transition(KRAFT_DUAL_WRITING, f"{annotation!r} is not allowed during dual writing")
    if state == KRAFT_POST_MIGRATION:  # :274-286
        if annotation == ENABLED:
            return Transition(PRE_KRAFT)
        if annotation == ROLLBACK:
            return Transition(KRAFT_DUAL_WRITING)
        return Transition(
            KRAFT_POST_MIGRATION,
            f"{annotation!r} is not allowed in post-migration; use 'rollback' or 'enabled'",
        )
    if state == PRE_KRAFT:  # :295-303
        if annotation == ENABLED:
            return Transition(KRAFT)
        return Transition(PRE_KRAFT, f"{annotation!r} is not allowed in pre-KRaft; use 'enabled'")
    raise InvalidMetadataState(f"unknown metadata state {state!r}")


def destroys_zookeeper(state: str, annotation: str) -> bool:
    """shouldDestroyZooKeeperNodes (`:164-166`): PreKRaft with `enabled` removes the ZooKeeper ensemble."""
    return state == PRE_KRAFT and annotation == ENABLED


def rolling_back(state: str, annotation: str) -> bool:
    """isRollingBack (`:324-326`): KRaftDualWriting with `disabled`; the operator then deletes the
    /controller and /migration znodes (KRaftMigrationUtils.java:34-88) before the brokers go back to ZooKeeper."""
    return state == KRAFT_DUAL_WRITING and annotation == DISABLED


# Kafka's ZkMigrationState gauge values, as the operator reads them (KRaftMigrationState.java:21-48): the
# metadata migration is done when a controller reports MIGRATION (1) (`:79-81`).
ZK_MIGRATION_STATE_METRIC = "kafka.controller:type=KafkaController,name=ZkMigrationState"
ZK_MIGRATION_STATE_MIGRATION = 1


def migration_done(zk_migration_state: int) -> bool:
    return zk_migration_state == ZK_MIGRATION_STATE_MIGRATION


def summary(kafka: dict[str, Any] | None) -> str:
    """`metadata state KRaftMigration; latest condition: Ready True` (what a wait reports and ends with)."""
    status = (kafka or {}).get("status") or {}
    conditions = status.get("conditions") or []
    latest = conditions[-1] if conditions else {}
    parts = (latest.get("type"), latest.get("status"), latest.get("reason"), latest.get("message"))
    text = " ".join(str(part) for part in parts if part)
    return f"metadata state {status.get('kafkaMetadataState')}; latest condition: {' '.join(text.split())[:400] or 'none'}"


def parse_listing(output: str, path: str) -> list[str]:
    """The children of `path` from zookeeper-shell's `ls` output (its last `[a, b]` line)."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            return [item.strip() for item in line[1:-1].split(",") if item.strip()]
    raise ValueError(f"ZooKeeper ls {path} gave no listing: {output[-300:]}")


def has_condition(kafka: dict[str, Any] | None, reason: str) -> bool:
    """Whether the status carries a condition with this reason: a Warning (StatusUtils.buildWarningCondition)
    such as KafkaMetadataStateWarning, or a NotReady naming the exception (e.g. InvalidResourceException)."""
    conditions = ((kafka or {}).get("status") or {}).get("conditions") or []
    return any(c.get("reason") == reason and c.get("status") == "True" for c in conditions)


def reached(kafka: dict[str, Any] | None, state: str, reason: str | None = None) -> bool:
    """status.kafkaMetadataState is `state` (and, when asked, a condition with `reason` is there)."""
    current = ((kafka or {}).get("status") or {}).get("kafkaMetadataState")
    return current == state and (reason is None or has_condition(kafka, reason))
