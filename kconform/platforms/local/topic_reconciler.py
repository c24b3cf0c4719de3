"""KafkaTopic: a topic with the spec's partitions, replicas and config, Ready once the cluster lists it."""

from __future__ import annotations

from typing import Any

from kconform.platforms.local.reconciler import LocalState, admin, cluster_of
from kconform.waits import wait_until


def topic_name(topic: dict[str, Any]) -> str:
    return str(topic["spec"].get("topicName") or topic["metadata"]["name"])


class TopicReconciler:
    kind = "KafkaTopic"
    ready_condition = True

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def reconcile(self, topic: dict[str, Any], timeout: float) -> None:
        cluster = self.state.running_cluster(topic)
        spec = topic["spec"]
        name = topic_name(topic)
        with admin(cluster) as client:
            if name not in client.list_topics():
                config = {k: str(v) for k, v in (spec.get("config") or {}).items()}
                # kafka-python 3.x's dict form (NewTopic is deprecated there).
                options = {
                    "num_partitions": int(spec.get("partitions", 1)),
                    "replication_factor": int(spec.get("replicas", 1)),
                    "configs": config,
                }
                client.create_topics({name: options})
            wait_until(
                lambda: name in client.list_topics(),
                describe=f"topic {name} to be listed",
                timeout=timeout,
            )
        topic["status"].update({"topicName": name})

    def delete(self, topic: dict[str, Any]) -> None:
        cluster = self.state.clusters.get((topic["metadata"]["namespace"], cluster_of(topic)))
        if cluster:
            with admin(cluster) as client:
                client.delete_topics([topic_name(topic)])
