"""Deletion before reuse on kubernetes: a KafkaUser still terminating is not re-applied, and a deleted
namespace is gone before another cluster takes its fixed node ports.

`FakeKube` plays the API server's part (objects that carry `metadata.deletionTimestamp` for a while, then 404);
it proves the harness's waiting, not Kubernetes. The shapes are the API's: a KafkaUser whose Secret blocks its
foreground deletion stays readable with a deletionTimestamp (user-operator KafkaUserModel.java
createOwnerReference, blockOwnerDeletion true); a deleted Namespace is readable in phase Terminating until its
contents are gone.
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform import resources
from kconform.errors import WaitTimeout
from kconform.platforms.kubernetes import kube_platform, ownership
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import profile

OWNED = {ownership.CREATED_BY_LABEL: ownership.CREATED_BY_VALUE}


class FakeKube:
    def __init__(self, terminating_reads: int) -> None:
        self.terminating_reads = terminating_reads  # reads that still see the object being deleted
        self.applied: list[tuple[str, str]] = []
        self.reads: list[tuple[str, str]] = []
        self.owned: set[str] = set()

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        self.reads.append((kind, name))
        if kind == "Namespace" and name in self.owned:  # created by kconform (ownership marker)
            return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": OWNED}}
        if self.terminating_reads <= 0:
            return None
        self.terminating_reads -= 1
        meta = {"name": name, "namespace": namespace, "deletionTimestamp": "2026-11-22T18:00:00Z"}
        status = {"phase": "Terminating"} if kind == "Namespace" else {}
        return {"apiVersion": api_version, "kind": kind, "metadata": meta, "status": status}

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.applied.append((resource["kind"], resource["metadata"]["name"]))
        return resource

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        self.owned.discard(name)
        return True

    def list_objects(self, api_version: str, kind: str, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return []  # no Service holds a node port


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch) -> None:
    monkeypatch.setattr(kube_platform, "DELETION_POLL_S", 0.05)


def platform(kube: FakeKube) -> KubernetesPlatform:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r1")
    return KubernetesPlatform(
        settings, kube, ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]


def user(name: str = "admin-r1") -> dict[str, Any]:
    return resources.kafka_user(profile("1.2.0"), name=name, namespace="ns1", cluster="c1", run_id="r1")


def test_a_kafka_user_is_applied_only_after_its_terminating_namesake_is_gone() -> None:
    kube = FakeKube(terminating_reads=3)
    platform(kube).apply(user())
    assert kube.reads == [("KafkaUser", "admin-r1")] * 4  # three reads saw it terminating, the fourth 404
    assert kube.applied == [("KafkaUser", "admin-r1")]


def test_a_user_that_never_finishes_terminating_times_out_without_applying(monkeypatch) -> None:
    monkeypatch.setattr(kube_platform, "TERMINATING_TIMEOUT_S", 1.5)
    kube = FakeKube(terminating_reads=10**6)
    with pytest.raises(
        WaitTimeout, match="KafkaUser ns1/admin-r1 from an earlier test to finish terminating"
    ):
        platform(kube).apply(user())
    assert kube.applied == []


def _kafka_with(listener_type: str) -> dict[str, Any]:
    listener = {"name": "external", "port": 9094, "type": listener_type, "tls": True}
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "Kafka",
        "metadata": {"name": "c2", "namespace": "ns2"},
        "spec": {"kafka": {"listeners": [listener]}},
    }


def _after_deleting_its_namespace(namespace: str) -> tuple[FakeKube, KubernetesPlatform]:
    """A platform that created `namespace` (the platform deletes only namespaces it created) and has just
    deleted it; the reads made so far are forgotten."""
    kube = FakeKube(terminating_reads=0)
    kube.owned.add(namespace)
    kube_plat = platform(kube)
    kube_plat.create_namespace(namespace)
    kube_plat.delete_namespace(namespace)
    kube.reads.clear()
    return kube, kube_plat


def test_a_nodeport_cluster_waits_until_the_deleted_namespaces_are_gone() -> None:
    kube, kube_plat = _after_deleting_its_namespace("old-ns")
    kube.terminating_reads = 2  # the namespace still terminates for two reads
    kube_plat.apply(_kafka_with("nodeport"))
    assert ("Namespace", "old-ns") in kube.reads and kube.terminating_reads == 0
    assert kube.applied[-1] == ("Kafka", "c2")
    kube.reads.clear()
    kube_plat.apply(_kafka_with("nodeport"))  # nothing left to wait for
    assert ("Namespace", "old-ns") not in kube.reads


def test_an_internal_only_cluster_does_not_wait_for_namespaces() -> None:
    kube, kube_plat = _after_deleting_its_namespace("old-ns")
    kube_plat.apply(_kafka_with("internal"))
    assert ("Namespace", "old-ns") not in kube.reads


def test_a_namespace_kconform_did_not_create_is_neither_deleted_nor_awaited() -> None:
    kube = FakeKube(terminating_reads=0)
    kube_plat = platform(kube)
    kube_plat.delete_namespace("users-ns")  # not marked as kconform's
    kube.reads.clear()
    kube.terminating_reads = 5
    kube_plat.apply(_kafka_with("nodeport"))
    assert ("Namespace", "users-ns") not in kube.reads
