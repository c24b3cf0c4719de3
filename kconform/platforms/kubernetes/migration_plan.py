"""The `kraft-migration` workflow's part of `kconform plan`: its resources, each annotation step (a server-side
apply of the Kafka under kconform's field manager) and each wait on status.kafkaMetadataState, in order.

Only the cells that have a ZooKeeper cluster to migrate (0.45.x, mode `zookeeper`) plan it.
"""

from __future__ import annotations

from typing import Any

from kconform import kraft_migration as km
from kconform import migration_resources as mr
from kconform import resources
from kconform.platforms.kubernetes.kube import FIELD_MANAGER
from kconform.platforms.kubernetes.plan_step import Step
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import ZOOKEEPER, Profile

WORKFLOW = "kraft-migration"
CLUSTER = "migration"
STORAGE_NOTE = (
    "controller storage: one node with persistent-claim storage (the cluster's default StorageClass; kind, "
    "minikube and k3s have one) - a single ephemeral controller loses the migrated metadata on a restart"
)


def runs_in(profile: Profile, mode: str) -> bool:
    """Whether the cell has a ZooKeeper cluster to migrate (the scenario is marked for mode zookeeper)."""
    return mode == ZOOKEEPER and profile.kraft_annotations


def applies(settings: KubeSettings) -> bool:
    return runs_in(settings.profile, settings.mode)


def _apply(describe: str, manifest: dict[str, Any], *notes: str) -> Step:
    return Step(
        describe, manifest=manifest, notes=(f"server-side apply, field manager {FIELD_MANAGER}", *notes)
    )


def _wait(state: str, *, reason: str | None = None) -> Step:
    what = f"{state} with a {reason} condition (the state does not move)" if reason else state
    return Step(f"[{WORKFLOW}] wait until status.kafkaMetadataState is {what}")


def steps(settings: KubeSettings, namespace: str) -> list[Step]:
    """Migration then rollback, each on its own cluster (the test's namespaces are per test at run time)."""
    profile, run_id = settings.profile, settings.run_id
    kafka, brokers = mr.zookeeper_cluster_on_pools(
        profile,
        name=CLUSTER,
        namespace=namespace,
        run_id=run_id,
        listeners=[
            resources.internal_listener("tls", 9093, tls=True, authentication="tls"),
            resources.internal_listener("scram", 9094, tls=False, authentication=resources.SCRAM_SHA_512),
        ],
        super_users=["CN=<the run's admin user>"],
    )
    controllers = mr.controller_pool(profile, cluster=CLUSTER, namespace=namespace, run_id=run_id)
    tag = f"[{WORKFLOW}]"
    out = [
        _apply(f"{tag} KafkaNodePool {mr.BROKER_POOL} (brokers of the ZooKeeper cluster)", brokers),
        _apply(f"{tag} Kafka {CLUSTER}: ZooKeeper-based, strimzi.io/node-pools: enabled", kafka),
        Step(f"{tag} wait for Kafka {CLUSTER} Ready, then users, ACLs, a topic and continuous clients"),
        _wait(km.ZOOKEEPER),
        _apply(
            f"{tag} KafkaNodePool {mr.CONTROLLER_POOL} (dedicated controllers)", controllers, STORAGE_NOTE
        ),
        _apply(
            f"{tag} annotate Kafka {CLUSTER} {km.ANNOTATION}={km.MIGRATION}",
            mr.annotated(kafka, km.MIGRATION),
        ),
        _wait(km.KRAFT_MIGRATION),
        *(_wait(state) for state in (km.KRAFT_DUAL_WRITING, km.KRAFT_POST_MIGRATION)),
        _apply(
            f"{tag} annotate Kafka {CLUSTER} {km.ANNOTATION}={km.ENABLED}", mr.annotated(kafka, km.ENABLED)
        ),
        _wait(km.PRE_KRAFT),
        _wait(km.KRAFT),
        _apply(
            f"{tag} annotate {km.ANNOTATION}={km.ROLLBACK} in KRaft (refused)",
            mr.annotated(kafka, km.ROLLBACK),
        ),
        _wait(km.KRAFT, reason=km.WARNING_REASON),
        _apply(
            f"{tag} Kafka {CLUSTER} without spec.zookeeper",
            mr.without_zookeeper(mr.annotated(kafka, km.ENABLED)),
        ),
        Step(
            f"{tag} rollback, on a second cluster of the same shape: migrate to {km.KRAFT_POST_MIGRATION} as above"
        ),
        _apply(f"{tag} annotate {km.ANNOTATION}={km.ROLLBACK}", mr.annotated(kafka, km.ROLLBACK)),
        _wait(km.KRAFT_DUAL_WRITING),
        Step(f"{tag} delete KafkaNodePool {mr.CONTROLLER_POOL} (deleteClaim: true removes its PVC)"),
        _apply(f"{tag} annotate {km.ANNOTATION}={km.DISABLED}", mr.annotated(kafka, km.DISABLED)),
        _wait(km.ZOOKEEPER),
    ]
    return out
