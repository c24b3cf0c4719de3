"""A cluster's KafkaNodePools are applied before its Kafka.

Strimzi's Kafka reconcile lists the cluster's node pools and, when there are none yet, ends NotReady with
reason InvalidConfigurationException "No KafkaNodePools found for Kafka cluster ..."
(cluster-operator KafkaAssemblyOperator.java kafkaReconciler at 1.2.0; "KafkaNodePools are enabled, but no
KafkaNodePools found" at 0.45.2), a reason kconform's wait treats as final (strimzi_contract.FINAL_REASONS).
Strimzi's own examples list the pools first (packaging/examples/kafka/kafka-single-node.yaml at both tags).
`Recorder` stands in for a platform and only records the order of applies.
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform import resources, strimzi_contract
from kconform.versions import KRAFT, KRAFT_DEDICATED, profile
from kconform_fixtures.cluster import start


class Recorder:
    def __init__(self) -> None:
        self.applied: list[str] = []

    def create_namespace(self, namespace: str) -> None:
        pass

    def apply(self, resource: dict[str, Any]) -> None:
        self.applied.append(resource["kind"])

    def wait_ready(self, kind: str, namespace: str, name: str, timeout: float) -> dict[str, Any]:
        return {"kind": kind, "metadata": {"name": name}}


@pytest.mark.parametrize(("prof", "mode"), [("0.45.2", KRAFT), ("1.2.0", KRAFT), ("1.2.0", KRAFT_DEDICATED)])
def test_pools_go_first(prof: str, mode: str) -> None:
    documents = resources.kafka_cluster(
        profile(prof),
        mode,
        name="c1",
        namespace="ns1",
        listeners=[resources.internal_listener("plain", 9092, tls=False, authentication=None)],
        run_id="r1",
    )
    recorder = Recorder()
    start(recorder, documents, profile=profile(prof), mode=mode, namespace="ns1", run_id="r1")  # type: ignore[arg-type]
    assert recorder.applied[-1] == "Kafka" and set(recorder.applied[:-1]) == {"KafkaNodePool"}
    assert "InvalidConfigurationException" in strimzi_contract.FINAL_REASONS  # why the order matters
