"""Kafka: the cluster (with its node pools) becomes processes when it is first awaited, and its status and its
pools' status are written in Strimzi's shape once the admin API serves every broker."""

from __future__ import annotations

from typing import Any

from kconform.platforms.local.java import find_java
from kconform.platforms.local.kafka_cluster import LocalKafka, start_cluster
from kconform.platforms.local.reconciler import LocalState, admin
from kconform.waits import wait_until


class KafkaReconciler:
    kind = "Kafka"
    ready_condition = True

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def reconcile(self, kafka: dict[str, Any], timeout: float) -> None:
        state = self.state
        namespace, name = kafka["metadata"]["namespace"], kafka["metadata"]["name"]
        if (namespace, name) in state.clusters:
            state.clusters[(namespace, name)].ensure_alive()
            return
        with state.lock:
            pools = state.pools_of(namespace, name)
        java = find_java(state.profile.kafka_java)
        cluster = start_cluster(
            kafka,
            pools,
            profile=state.profile,
            java=java,
            supervisor=state.supervisor,
            work_dir=state.work_dir,
            timeout=timeout,
        )
        with state.lock:
            state.clusters[(namespace, name)] = cluster

        last_error: list[str] = []

        def answers() -> bool:
            cluster.ensure_alive()  # a node that exited or logged its fatal end stops the wait: no retry
            try:
                with admin(cluster, timeout=10) as client:
                    brokers = client.describe_cluster().get("brokers", [])
            except Exception as err:  # not serving yet: asked again until the bound
                last_error[:] = [f"{type(err).__name__}: {err}"]
                return False
            return len(brokers) >= len(cluster.topology.brokers)

        def diagnose() -> str:
            logs = "\n".join(f"--- {p.name}\n{p.tail(20)}" for p in cluster.processes)
            return (f"last admin error: {last_error[0]}\n" if last_error else "") + logs

        wait_until(
            answers,
            describe=f"Kafka {namespace}/{name} to serve its admin API",
            timeout=timeout,
            diagnose=diagnose,
        )
        with state.lock:
            self._write_status(kafka, pools, cluster)

    def _write_status(self, kafka: dict[str, Any], pools: list[dict[str, Any]], cluster: LocalKafka) -> None:
        kafka["status"].update(
            {
                "clusterId": cluster.cluster_id,
                "kafkaVersion": cluster.kafka_version,
                "listeners": cluster.status_listeners(),
                "kafkaNodePools": [{"name": p["metadata"]["name"]} for p in pools] or None,
            }
        )
        if self.state.profile.strimzi.startswith("0."):
            kafka["status"]["kafkaMetadataState"] = (
                "ZooKeeper" if cluster.topology.mode == "zookeeper" else "KRaft"
            )
        kafka["status"] = {k: v for k, v in kafka["status"].items() if v is not None}
        for pool in pools:
            ids = [n.node_id for n in cluster.topology.nodes if n.pool == pool["metadata"]["name"]]
            pool["status"] = {
                "nodeIds": ids,
                "roles": pool["spec"]["roles"],
                "replicas": len(ids),
                "clusterId": cluster.cluster_id,
            }

    def delete(self, kafka: dict[str, Any]) -> None:
        key = (kafka["metadata"]["namespace"], kafka["metadata"]["name"])
        with self.state.lock:
            cluster = self.state.clusters.pop(key, None)
            self.state.migrations.pop(key, None)
        if cluster:
            cluster.stop()
