"""The local platform dispatches wait_ready and delete through one reconciler per kind, and writes the Ready or
NotReady condition itself (no Kafka process is started here: these are the paths before or without one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kconform import errors, resources
from kconform.platforms.local.local_platform import KAFKA_KINDS, LocalPlatform
from kconform.platforms.local.reconciler import KindReconciler
from kconform.platforms.local.sidecar_reconciler import SidecarPod, SidecarReconciler
from kconform.schemas import SchemaSet
from kconform.versions import KRAFT_DEDICATED, PROFILES

PROFILE = PROFILES["1.2.0"]
RUN = "run-reconcilers-1"
PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalPlatform]:
    platform = LocalPlatform(PROFILE, run_id=RUN, log_dir=tmp_path, schemas=SchemaSet.for_profile(PROFILE))
    platform.create_namespace("ns")
    try:
        yield platform
    finally:
        platform.close()


def test_one_reconciler_per_kind(local: LocalPlatform) -> None:
    table: dict[str, KindReconciler] = local._reconcilers
    assert sorted(table) == sorted(KAFKA_KINDS)
    assert all(reconciler.kind == kind for kind, reconciler in table.items())
    assert [kind for kind, r in table.items() if not r.ready_condition] == ["KafkaNodePool"]
    assert isinstance(local._sidecar, SidecarReconciler)


def test_a_node_pool_is_ready_without_a_ready_condition(local: LocalPlatform) -> None:
    kafka, *pools = resources.kafka_cluster(
        PROFILE, KRAFT_DEDICATED, name="c", namespace="ns", listeners=[PLAIN], run_id=RUN
    )
    for resource in (kafka, *pools):
        local.apply(resource)
    pool = local.wait_ready("KafkaNodePool", "ns", pools[0]["metadata"]["name"], 5)
    assert "conditions" not in pool["status"]
    assert local.get("Kafka", "ns", "c")["status"] == {}  # awaiting a pool starts nothing


def test_a_user_of_a_kafka_not_running_is_not_ready(local: LocalPlatform) -> None:
    local.apply(resources.kafka_user(PROFILE, name="u", namespace="ns", cluster="c", run_id=RUN))
    with pytest.raises(errors.ResourceFailed, match="Kafka ns/c is not ready"):
        local.wait_ready("KafkaUser", "ns", "u", 5)
    status = local.get("KafkaUser", "ns", "u")["status"]
    assert [c["type"] for c in status["conditions"]] == ["NotReady"]
    assert status["observedGeneration"] == 1


def test_deleting_a_topic_without_its_kafka_forgets_it(local: LocalPlatform) -> None:
    local.apply(resources.kafka_topic(PROFILE, name="t", namespace="ns", cluster="c", run_id=RUN))
    local.delete("KafkaTopic", "ns", "t")
    assert local.get("KafkaTopic", "ns", "t") is None
    local.delete("KafkaTopic", "ns", "t")  # twice is fine


def test_a_deleted_namespace_is_gone_for_the_reconcilers_too(local: LocalPlatform) -> None:
    local.apply(resources.kafka_topic(PROFILE, name="t", namespace="ns", cluster="c", run_id=RUN))
    local.apply(resources.password_secret(name="p", namespace="ns", key="k", password="Pw1234", run_id=RUN))
    local.delete_namespace("ns")
    with pytest.raises(errors.UsageError, match="never applied"):
        local.wait_ready("KafkaTopic", "ns", "t", 5)
    with pytest.raises(errors.PlatformError):
        local.state.read_secret("ns", "p")


def test_stopping_a_sidecar_that_never_started_is_a_no_op(local: LocalPlatform) -> None:
    local.stop_sidecar("ns", "nothing")
    local._sidecar.delete(SidecarPod("ns", {"metadata": {"name": "nothing"}}, {}))
    assert local._sidecar.running == {}
