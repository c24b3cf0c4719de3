"""Readiness on status shapes exactly as Strimzi writes them."""

from __future__ import annotations

from typing import Any

import pytest

from kconform.errors import ResourceFailed
from kconform.platforms.kubernetes import readiness


def kafka(generation: int, status: dict[str, Any] | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "Kafka",
        "metadata": {"name": "c1", "namespace": "ns1", "generation": generation},
        "spec": {},
    }
    if status is not None:
        resource["status"] = status
    return resource


READY = {
    "observedGeneration": 2,
    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-08-20T10:00:00.000Z"}],
    "listeners": [{"name": "plain", "bootstrapServers": "c1-kafka-bootstrap.ns1.svc:9092"}],
    "clusterId": "abc",
    "kafkaVersion": "4.3.1",
}
NOT_READY = {
    "observedGeneration": 2,
    "conditions": [
        {
            "type": "NotReady",
            "status": "True",
            "reason": "InvalidResourceException",
            "message": "Listener names must be unique",
            "lastTransitionTime": "2026-08-20T10:00:00.000Z",
        }
    ],
}
WARNING = {
    "observedGeneration": 2,
    "conditions": [
        {
            "type": "Warning",
            "status": "True",
            "reason": "KafkaStorage",
            "message": "ephemeral storage is lost",
        },
        {"type": "Ready", "status": "True"},
    ],
}


def test_ready_at_current_generation() -> None:
    state = readiness.evaluate(kafka(2, READY))
    assert state.ready and not state.stale and state.failed_message is None
    assert readiness.check(kafka(2, READY)) is not None


def test_stale_ready_condition_is_not_ready() -> None:
    state = readiness.evaluate(kafka(3, READY))
    assert not state.ready and state.stale
    assert readiness.check(kafka(3, READY)) is None
    assert "stale" in readiness.summary(kafka(3, READY))


def test_no_status_yet_is_not_ready() -> None:
    assert readiness.check(kafka(1, None)) is None


def test_not_ready_fails_at_once_with_strimzi_message() -> None:
    state = readiness.evaluate(kafka(2, NOT_READY))
    assert not state.ready
    assert state.failed_message == "InvalidResourceException: Listener names must be unique"
    with pytest.raises(ResourceFailed, match=r"Kafka ns1/c1 is NotReady: InvalidResourceException"):
        readiness.check(kafka(2, NOT_READY))


def test_warnings_are_collected_and_do_not_block_ready() -> None:
    state = readiness.evaluate(kafka(2, WARNING))
    assert state.ready
    assert state.warnings == ("KafkaStorage: ephemeral storage is lost",)
    assert "KafkaStorage" in readiness.summary(kafka(2, WARNING))


def test_node_pool_ready_once_node_ids_assigned() -> None:
    pool: dict[str, Any] = {"kind": "KafkaNodePool", "metadata": {"name": "dual-role", "generation": 1}}
    assert not readiness.evaluate(pool).ready
    pool["status"] = {"nodeIds": [0], "roles": ["controller", "broker"], "replicas": 1, "clusterId": "abc"}
    assert readiness.evaluate(pool).ready


def _not_ready(reason: str, message: str) -> dict[str, Any]:
    return {
        "observedGeneration": 2,
        "conditions": [{"type": "NotReady", "status": "True", "reason": reason, "message": message}],
    }


# Shapes of failed reconciles as KafkaAssemblyOperator.createOrUpdate writes them (0.45.2 and 1.2.0): the
# current observedGeneration, a NotReady condition whose reason is the exception's simple class name
# (StatusUtils.buildCondition). The operator retries each on its next periodic reconcile.
TRANSIENT = [
    # cluster-operator ServiceOperator under a NodePort still held by a namespace being deleted
    (
        "KubernetesClientException",
        'Service "c1-kafka-external-bootstrap" is invalid: provided port is already allocated',
    ),
    # operator-common StrimziTimeoutException (1.2.0) / TimeoutException (0.45.2) while images pull
    (
        "StrimziTimeoutException",
        "Exceeded timeout of 300000ms while waiting for Pods resource c1-dual-role-0",
    ),
    ("TimeoutException", "Exceeded timeout of 300000ms while waiting for Pods resource c1-kafka-0"),
]
FINAL = [
    ("InvalidResourceException", "Listener names must be unique"),
    ("UnsupportedKafkaVersionException", "Unsupported Kafka.spec.kafka.version: 3.1.0"),
    ("KafkaUpgradeException", "The current Kafka version 3.9.2 is not supported"),
    ("InvalidConfigParameterException", "log.dirs: Forbidden option"),
]


@pytest.mark.parametrize(("reason", "message"), TRANSIENT)
def test_transient_not_ready_keeps_waiting_with_the_message_as_evidence(reason: str, message: str) -> None:
    """Strimzi writes observedGeneration on a failed reconcile too and retries (KafkaAssemblyOperator.java)."""
    resource = kafka(2, _not_ready(reason, message))
    assert readiness.check(resource) is None
    state = readiness.evaluate(resource)
    assert state.failed_message is None and state.retrying_message == f"{reason}: {message}"
    assert message in readiness.summary(resource)


@pytest.mark.parametrize(("reason", "message"), FINAL)
def test_configuration_errors_fail_at_once(reason: str, message: str) -> None:
    """InvalidResourceException and its subclasses (operator-common model/InvalidResourceException.java,
    InvalidConfigParameterException.java; cluster-operator model/KafkaUpgradeException.java, KafkaVersion.java
    UnsupportedKafkaVersionException) are the user's spec: no retry clears them."""
    with pytest.raises(ResourceFailed, match=reason):
        readiness.check(kafka(2, _not_ready(reason, message)))
