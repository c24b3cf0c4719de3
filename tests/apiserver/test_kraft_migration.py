"""The kubernetes platform's side of the `kraft-migration` workflow against a real kube-apiserver with the real
Strimzi 0.45.2 CRDs: the workflow's manifests are admitted (strict field validation), the annotation steps are
server-side applies owned by kconform's field manager, and the waits follow status.kafkaMetadataState.

Nothing here runs Strimzi. `MigrationOperatorDouble` writes the status the Cluster Operator would write
(KafkaMetadataState.java values, KafkaMetadataStateManager.java's KafkaMetadataStateWarning condition); it
proves the harness reads and drives Strimzi's shapes, never that Strimzi migrates.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kconform import kraft_migration as km
from kconform import migration_resources as mr
from kconform import resources
from kconform.errors import WaitTimeout
from kconform.platforms.kubernetes.kube import FIELD_MANAGER
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.versions import PROFILES
from tests.apiserver.conftest import ServerPool, make_platform

pytestmark = pytest.mark.apiserver
PROFILE = PROFILES["0.45.2"]
NAME = "cluster"


class MigrationOperatorDouble:
    """A test double playing the Strimzi Cluster Operator's part: on each read of the Kafka by the platform
    it writes the next scripted status through the status subresource (state and conditions in Strimzi's
    shapes). It proves the harness, never conformance."""

    def __init__(self, platform: KubernetesPlatform, namespace: str, script: list[dict[str, Any]]) -> None:
        self.platform, self.namespace, self.script = platform, namespace, list(script)
        real_get = platform.kube.get

        def get(*args: Any, **kwargs: Any) -> dict[str, Any] | None:
            seen = real_get(*args, **kwargs)
            if self.script and args[1] == "Kafka":
                self.write(self.script.pop(0))
            return seen

        platform.kube.get = get  # type: ignore[method-assign]

    def write(self, status: dict[str, Any]) -> None:
        api = self.platform.kube.dynamic.resources.get(api_version=PROFILE.api_version, kind="Kafka")
        api.status.patch(
            name=NAME,
            namespace=self.namespace,
            body={"status": status},
            content_type="application/merge-patch+json",
        )


def _status(state: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"kafkaMetadataState": state, "conditions": list(conditions) or [_condition("Ready")]}


def _condition(kind: str, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    condition = {"type": kind, "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    if reason:
        condition.update(reason=reason, message=message or "")
    return condition


@pytest.fixture
def platform(servers: ServerPool) -> Iterator[KubernetesPlatform]:
    yield make_platform(servers, PROFILE, "zookeeper", f"m{uuid.uuid4().hex[:8]}")


@pytest.fixture
def namespace(platform: KubernetesPlatform) -> str:
    name = f"ns-{platform.settings.run_id}"
    platform.create_namespace(name)
    return name


@pytest.fixture
def kafka(platform: KubernetesPlatform, namespace: str) -> dict[str, Any]:
    """The workflow's ZooKeeper cluster on node pools and its controller pool, admitted by the real CRDs."""
    documents = mr.zookeeper_cluster_on_pools(
        PROFILE,
        name=NAME,
        namespace=namespace,
        run_id=platform.settings.run_id,
        listeners=[
            resources.internal_listener("tls", 9093, tls=True, authentication="tls"),
            resources.internal_listener("scram", 9094, tls=False, authentication=resources.SCRAM_SHA_512),
        ],
        super_users=["CN=admin"],
    )
    for document in reversed(documents):  # the pool first, as fixtures.cluster.start applies them
        platform.apply(document)
    for storage in (mr.PERSISTENT, mr.EPHEMERAL):
        pool = mr.controller_pool(
            PROFILE, cluster=NAME, namespace=namespace, run_id=platform.settings.run_id, storage=storage
        )
        platform.apply(pool)
        assert (platform.get("KafkaNodePool", namespace, mr.CONTROLLER_POOL) or {})["spec"]["storage"][
            "volumes"
        ][0]["type"] == storage
    return documents[0]


def _owner_of_annotation(found: dict[str, Any]) -> list[str]:
    """Field managers owning metadata.annotations[strimzi.io/kraft] (managedFields, fieldsV1)."""
    key = f"f:{km.ANNOTATION}"
    return [
        entry["manager"]
        for entry in found["metadata"].get("managedFields") or []
        if key in ((entry.get("fieldsV1") or {}).get("f:metadata") or {}).get("f:annotations", {})
    ]


def test_annotation_steps_are_server_side_applies_of_kconforms_field_manager(
    platform: KubernetesPlatform, namespace: str, kafka: dict[str, Any]
) -> None:
    """Each step sets strimzi.io/kraft with a server-side apply owned by kconform; removing spec.zookeeper
    from the applied document removes it from the stored Kafka (a field the manager owned)."""
    for value in (km.MIGRATION, km.ENABLED):
        platform.apply(mr.annotated(kafka, value))
        found = platform.get("Kafka", namespace, NAME) or {}
        assert found["metadata"]["annotations"][km.ANNOTATION] == value
        assert _owner_of_annotation(found) == [FIELD_MANAGER]
    platform.apply(mr.without_zookeeper(mr.annotated(kafka, km.ENABLED)))
    found = platform.get("Kafka", namespace, NAME) or {}
    assert "zookeeper" not in found["spec"]
    assert found["metadata"]["annotations"][resources.NODE_POOLS_ANNOTATION] == "enabled"


def test_the_wait_follows_the_states_the_operator_reports(
    platform: KubernetesPlatform, namespace: str, kafka: dict[str, Any]
) -> None:
    """KRaftMigration (twice: migration still running) then KRaftDualWriting ends the wait."""
    MigrationOperatorDouble(
        platform,
        namespace,
        [_status(km.KRAFT_MIGRATION), _status(km.KRAFT_MIGRATION), _status(km.KRAFT_DUAL_WRITING)],
    )
    platform.apply(mr.annotated(kafka, km.MIGRATION))
    found = platform.wait_metadata_state(namespace, NAME, km.KRAFT_DUAL_WRITING, timeout=60)
    assert found["status"]["kafkaMetadataState"] == km.KRAFT_DUAL_WRITING


def test_an_invalid_annotation_is_awaited_as_its_warning(
    platform: KubernetesPlatform, namespace: str, kafka: dict[str, Any]
) -> None:
    """`enabled` on a ZooKeeper cluster: the state stays ZooKeeper and the wait ends on the warning."""
    warning = _condition("Warning", km.WARNING_REASON, "enabled is not allowed on a ZooKeeper cluster")
    MigrationOperatorDouble(
        platform, namespace, [_status(km.ZOOKEEPER), _status(km.ZOOKEEPER, _condition("Ready"), warning)]
    )
    platform.apply(mr.annotated(kafka, km.ENABLED))
    found = platform.wait_metadata_state(namespace, NAME, km.ZOOKEEPER, timeout=60, reason=km.WARNING_REASON)
    assert km.has_condition(found, km.WARNING_REASON)


def test_a_migration_stuck_in_a_state_ends_in_a_timeout_naming_it_and_its_condition(
    platform: KubernetesPlatform, namespace: str, kafka: dict[str, Any]
) -> None:
    """The operator keeps the cluster in KRaftMigration with a NotReady condition (controllers that cannot
    reach ZooKeeper): the wait ends at its bound with the state and that condition in the message."""
    stuck = _condition("NotReady", "TimeoutException", "controllers cannot reach ZooKeeper")
    MigrationOperatorDouble(platform, namespace, [_status(km.KRAFT_MIGRATION, stuck)])
    platform.apply(mr.annotated(kafka, km.MIGRATION))
    bound = 6.0
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as timed_out:
        platform.wait_metadata_state(namespace, NAME, km.KRAFT_DUAL_WRITING, timeout=bound)
    elapsed = time.monotonic() - started
    assert bound <= elapsed < bound + 10
    message = str(timed_out.value)
    assert "to be KRaftDualWriting" in message
    assert "metadata state KRaftMigration" in message
    assert "NotReady True TimeoutException controllers cannot reach ZooKeeper" in message


def test_node_roles_are_read_from_each_pool_pods_configuration(
    platform: KubernetesPlatform, namespace: str, kafka: dict[str, Any]
) -> None:
    """Pods of node pools (strimzi.io/pool-name) and their per-node ConfigMaps in Strimzi's shape
    (`server.config`, KafkaCluster.java:187): a broker in ZooKeeper mode has no process.roles."""
    configs = {
        f"{NAME}-kafka-0": "broker.id=0\nzookeeper.connect=cluster-zookeeper-client:2181\n",
        f"{NAME}-controller-100": "node.id=100\nprocess.roles=controller\n",
    }
    for pod, config in configs.items():
        pool = pod.split("-")[1]
        labels = {resources.CLUSTER_LABEL: NAME, "strimzi.io/pool-name": pool}
        platform.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": pod, "namespace": namespace, "labels": labels},
                "data": {"server.config": config, "metadata.state": "1"},
            }
        )
        platform.apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": pod, "namespace": namespace, "labels": labels},
                "spec": {"containers": [{"name": "kafka", "image": "kafka:never-pulled"}]},
            }
        )
    assert platform.node_roles(namespace, NAME) == {
        f"{NAME}-controller-100": ["controller"],
        f"{NAME}-kafka-0": ["zookeeper-broker"],
    }
