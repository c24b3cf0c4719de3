"""The Strimzi resources of the `kraft-migration` workflow, after Strimzi 0.45.2's documented procedure.

- `documentation/modules/deploying/proc-deploy-migrate-kraft.adoc`: a ZooKeeper cluster on node pools
  (`strimzi.io/node-pools: enabled`, a broker pool named `kafka`, :36-41) gets a dedicated controller pool
  (:53-86; dual-role pools cannot migrate, :18 and :86), then `strimzi.io/kraft` goes `migration` (:94-114),
  `enabled` (:174-192), and `spec.zookeeper` is removed (:221-227). Rollback from KRaftPostMigration:
  `rollback`, delete the controller pool (and its storage), `disabled` (:239-334).
- A single ephemeral controller loses the metadata synced from ZooKeeper on a restart (:43-45): the
  controller pool here has one node with `persistent-claim` storage (on Kubernetes: the default
  StorageClass, which kind, minikube and k3s have), or three ephemeral nodes when asked.
- The broker pool is one `persistent-claim` node too. Ephemeral storage is an emptyDir, and Strimzi rolls a
  broker by deleting its pod (KafkaRoller), so a single ephemeral broker starts every roll of the migration
  with an empty log: every message before it gone. Strimzi's own MigrationST (0.45.2) migrates persistent
  broker pools (`brokerPoolPersistentStorage`, MigrationST.java:409).
"""

from __future__ import annotations

import copy
from typing import Any

from kconform import kraft_migration as km
from kconform import resources
from kconform.versions import ZOOKEEPER, Profile

BROKER_POOL = "kafka"  # the documented name for the brokers' pool (proc-deploy-migrate-kraft.adoc:40)
CONTROLLER_POOL = "controller"  # the documented name for the controllers' pool (:48)
CONTROLLER_IDS = "[100-199]"  # the brokers keep 0, 1, ... (as in manifests/strimzi/nodepool-controller.yaml)
PERSISTENT = "persistent-claim"
EPHEMERAL = "ephemeral"


def zookeeper_cluster_on_pools(
    profile: Profile,
    *,
    name: str,
    namespace: str,
    run_id: str,
    listeners: list[dict[str, Any]],
    super_users: list[str],
) -> list[dict[str, Any]]:
    """A ZooKeeper-based Kafka whose broker comes from a `kafka` KafkaNodePool, simple authorization."""
    (kafka,) = resources.kafka_cluster(
        profile,
        ZOOKEEPER,
        name=name,
        namespace=namespace,
        run_id=run_id,
        listeners=listeners,
        authorization={"type": "simple"},
        super_users=super_users,
    )
    kafka["metadata"]["annotations"][resources.NODE_POOLS_ANNOTATION] = "enabled"
    kafka["metadata"]["annotations"][km.ANNOTATION] = km.DISABLED
    # With node pools the pool sizes the brokers; spec.kafka.replicas/storage would only draw a warning.
    kafka["spec"]["kafka"].pop("replicas", None)
    kafka["spec"]["kafka"].pop("storage", None)
    pool = _pool(profile, BROKER_POOL, name, namespace, run_id, ["broker"], 1, PERSISTENT, "[0-99]")
    return [kafka, pool]


def controller_pool(
    profile: Profile, *, cluster: str, namespace: str, run_id: str, storage: str = PERSISTENT
) -> dict[str, Any]:
    """The controllers the migration adds: one persistent node, or three ephemeral ones (never one ephemeral)."""
    replicas = 1 if storage == PERSISTENT else 3
    return _pool(
        profile,
        CONTROLLER_POOL,
        cluster,
        namespace,
        run_id,
        ["controller"],
        replicas,
        storage,
        CONTROLLER_IDS,
    )


def _pool(
    profile: Profile,
    name: str,
    cluster: str,
    namespace: str,
    run_id: str,
    roles: list[str],
    replicas: int,
    storage: str,
    node_ids: str,
) -> dict[str, Any]:
    volume: dict[str, Any] = {"id": 0, "type": storage}
    if storage == PERSISTENT:
        volume.update(
            size="1Gi", deleteClaim=True
        )  # deleteClaim: the rollback's pool deletion frees it (:267-283)
    pool = {
        "apiVersion": profile.api_version,
        "kind": "KafkaNodePool",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {resources.CLUSTER_LABEL: cluster},
            "annotations": {resources.NEXT_NODE_IDS_ANNOTATION: node_ids},
        },
        "spec": {"replicas": replicas, "roles": roles, "storage": {"type": "jbod", "volumes": [volume]}},
    }
    return resources.labelled(resources.render_for_profile(pool, profile), run_id)


def annotated(kafka: dict[str, Any], value: str) -> dict[str, Any]:
    """The Kafka with `strimzi.io/kraft: <value>` (applied with server-side apply, as `kubectl annotate` would
    set it), without the status the platform keeps."""
    out = copy.deepcopy({k: v for k, v in kafka.items() if k != "status"})
    out["metadata"].setdefault("annotations", {})[km.ANNOTATION] = value
    for key in ("generation", "resourceVersion", "uid", "creationTimestamp", "managedFields"):
        out["metadata"].pop(key, None)
    return out


def without_zookeeper(kafka: dict[str, Any]) -> dict[str, Any]:
    """The Kafka with `spec.zookeeper` removed (the procedure's last step)."""
    out = annotated(kafka, km.annotation_of(kafka))
    out["spec"].pop("zookeeper", None)
    return out
