"""A deleted test namespace must not stay Terminating forever because of its KafkaTopics' finalizer.

The Topic Operator adds `strimzi.io/topic-operator` to every KafkaTopic it manages and removes it only after
deleting the topic in Kafka (topic-operator KubernetesHandler.java FINALIZER_STRIMZI_IO_TO, TopicOperatorConfig
STRIMZI_USE_FINALIZERS default "true", at 0.45.2 and 1.2.0). Deleting the Kafka (and so the Entity Operator)
before that leaves the KafkaTopic and its namespace Terminating; Strimzi's documentation asks to remove the
finalizer by hand (documentation/modules/operators/con-removing-topic-finalizers.adoc).

`ApiServer` below plays the API server's part (finalizers hold a deleted object until a patch removes the last
one) and, when `operator_alive`, the Topic Operator's (it removes its finalizer from a deleted topic after a
few reads); it proves kconform's deletion order and release, not Kubernetes or Strimzi.
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform.commands import clean
from kconform.platforms.kubernetes import kube_platform, ownership, topic_finalizers
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import profile

API = "kafka.strimzi.io/v1"
NS = "kc-r1-w0-1"


def topic_as_the_operator_leaves_it(name: str) -> dict[str, Any]:
    """A KafkaTopic the Topic Operator has reconciled: its finalizer in metadata.finalizers."""
    return {
        "apiVersion": API,
        "kind": "KafkaTopic",
        "metadata": {
            "name": name,
            "namespace": NS,
            "resourceVersion": "42",
            "finalizers": [topic_finalizers.FINALIZER],
            "labels": {"strimzi.io/cluster": "c1"},
        },
        "spec": {"partitions": 1, "replicas": 1},
    }


class ApiServer:
    def __init__(self, *, operator_alive: bool, reads_to_finalize: int = 2) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.operator_alive = operator_alive
        self.reads_to_finalize = reads_to_finalize
        self.calls: list[tuple[str, str, str]] = []

    def add(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = obj

    def _topic_operator_step(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if self.operator_alive and obj["kind"] == "KafkaTopic" and meta.get("deletionTimestamp"):
            self.reads_to_finalize -= 1
            if self.reads_to_finalize <= 0:
                self._set_finalizers(obj, [f for f in meta["finalizers"] if f != topic_finalizers.FINALIZER])

    def _set_finalizers(self, obj: dict[str, Any], finalizers: list[str] | None) -> None:
        meta = obj["metadata"]
        meta["finalizers"] = finalizers or []
        if meta.get("deletionTimestamp") and not meta["finalizers"]:
            del self.objects[(obj["kind"], meta.get("namespace"), meta["name"])]

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        obj = self.objects.get((kind, namespace, name))
        if obj is not None:
            self._topic_operator_step(obj)
        return self.objects.get((kind, namespace, name))

    def list_objects(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        return [o for (k, ns, _), o in list(self.objects.items()) if k == kind and ns == namespace]

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.add(resource)
        return resource

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        self.calls.append(("delete", kind, name))
        obj = self.objects.get((kind, namespace, name))
        if obj is None:
            return False
        if obj["metadata"].get("finalizers"):
            obj["metadata"]["deletionTimestamp"] = "2026-11-22T19:30:00Z"
        else:
            del self.objects[(kind, namespace, name)]
        return True

    def merge_patch(
        self, api_version: str, kind: str, namespace: str | None, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append(("patch", kind, name))
        obj = self.objects[(kind, namespace, name)]
        assert body["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
        self._set_finalizers(obj, body["metadata"]["finalizers"])
        return obj

    def crds(self, group: str = "kafka.strimzi.io") -> list[dict[str, Any]]:
        versions = [{"name": "v1", "served": True, "storage": True}]
        return [
            {"metadata": {"name": topic_finalizers.CRD_NAME}, "spec": {"group": group, "versions": versions}}
        ]


@pytest.fixture(autouse=True)
def quick(monkeypatch) -> None:
    monkeypatch.setattr(kube_platform, "DELETION_POLL_S", 0.02)
    monkeypatch.setattr(kube_platform, "TOPICS_FINALIZED_TIMEOUT_S", 0.3)


def a_platform_with_a_topic(api: ApiServer) -> KubernetesPlatform:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r1")
    plat = KubernetesPlatform(
        settings, api, ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]
    plat.create_namespace(NS)
    api.objects[("Namespace", None, NS)]["metadata"]["labels"][ownership.CREATED_BY_LABEL] = "kconform"
    plat.apply({"apiVersion": API, "kind": "Kafka", "metadata": {"name": "c1", "namespace": NS}, "spec": {}})
    plat.apply(topic_as_the_operator_leaves_it("orders"))
    api.objects[("KafkaTopic", NS, "orders")]["metadata"]["finalizers"] = [topic_finalizers.FINALIZER]
    return plat


def test_the_kafka_goes_only_after_the_topic_operator_finished_the_topics() -> None:
    api = ApiServer(operator_alive=True)
    a_platform_with_a_topic(api).delete_namespace(NS)
    order = [c for c in api.calls if c[1] in ("KafkaTopic", "Kafka")]
    assert order == [("delete", "KafkaTopic", "orders"), ("delete", "Kafka", "c1")]  # nothing released
    assert ("KafkaTopic", NS, "orders") not in api.objects


def test_a_topic_the_operator_never_finishes_is_released_before_the_kafka_goes() -> None:
    api = ApiServer(operator_alive=False)
    a_platform_with_a_topic(api).delete_namespace(NS)
    order = [c for c in api.calls if c[1] in ("KafkaTopic", "Kafka")]
    assert order == [
        ("delete", "KafkaTopic", "orders"),
        ("patch", "KafkaTopic", "orders"),
        ("delete", "Kafka", "c1"),
    ]
    assert ("KafkaTopic", NS, "orders") not in api.objects  # nothing holds the namespace any more


def test_release_touches_only_held_topics_and_only_the_operators_finalizer() -> None:
    api = ApiServer(operator_alive=False)
    held = topic_as_the_operator_leaves_it("held")
    held["metadata"]["finalizers"].append("example.com/other")
    held["metadata"]["deletionTimestamp"] = "2026-11-22T19:30:00Z"
    api.add(held)
    api.add(topic_as_the_operator_leaves_it("alive"))  # not being deleted: the operator's to manage
    assert topic_finalizers.release(api, API, NS) == ["held"]
    assert api.objects[("KafkaTopic", NS, "held")]["metadata"]["finalizers"] == ["example.com/other"]
    assert api.objects[("KafkaTopic", NS, "alive")]["metadata"]["finalizers"] == [topic_finalizers.FINALIZER]


def test_clean_lets_a_deleted_namespace_go_when_its_topics_are_held() -> None:
    api = ApiServer(operator_alive=False)
    topic = topic_as_the_operator_leaves_it("orders")
    topic["metadata"]["deletionTimestamp"] = "2026-11-22T19:30:00Z"  # the namespace controller deleted it
    api.add(topic)
    clean.release_topics(api, [NS], timeout=0.5)
    assert api.list_objects(API, "KafkaTopic", NS) == []


def test_served_version_is_the_kafkatopic_crds_storage_version() -> None:
    v1beta2 = {
        "metadata": {"name": topic_finalizers.CRD_NAME},
        "spec": {
            "versions": [
                {"name": "v1beta2", "served": True, "storage": True},
                {"name": "v1beta1", "served": True, "storage": False},
            ]
        },
    }
    assert topic_finalizers.served_version([v1beta2]) == "kafka.strimzi.io/v1beta2"
    assert topic_finalizers.served_version([]) is None
