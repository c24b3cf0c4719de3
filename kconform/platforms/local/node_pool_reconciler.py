"""KafkaNodePool: realised with its Kafka (kafka_reconciler writes its status); it reports no Ready condition,
so an existing pool is ready, and it is removed with its Kafka."""

from __future__ import annotations

from typing import Any


class NodePoolReconciler:
    kind = "KafkaNodePool"
    ready_condition = False  # pools have no Ready condition; existing is ready

    def reconcile(self, pool: dict[str, Any], timeout: float) -> None:
        return None

    def delete(self, pool: dict[str, Any]) -> None:
        return None
