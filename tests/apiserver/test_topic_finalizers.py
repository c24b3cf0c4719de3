"""Releasing the Topic Operator's finalizer through a real API server (tests/unit/platforms/kubernetes/test_kube_topic_finalizers.py
has the why, from topic-operator KubernetesHandler.java and con-removing-topic-finalizers.adoc).

No Topic Operator runs here: the KafkaTopic is applied carrying `strimzi.io/topic-operator` in
metadata.finalizers, as the Topic Operator leaves it (the test plays that part). The API server itself removes a
deleted object once its last finalizer goes; kconform deletes in the foreground, whose `foregroundDeletion`
finalizer is the garbage collector's to remove (none runs here), so what is checked is that only that one is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kconform import resources
from kconform.platforms.kubernetes import kube_platform, topic_finalizers
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.versions import PROFILES
from tests.apiserver.conftest import ServerPool, make_platform

pytestmark = pytest.mark.apiserver
PROFILE = PROFILES["1.2.0"]


@pytest.fixture
def platform(servers: ServerPool) -> Iterator[KubernetesPlatform]:
    yield make_platform(servers, PROFILE, "kraft", f"f{uuid.uuid4().hex[:8]}")


def _held_topic(namespace: str, name: str) -> dict[str, Any]:
    topic = resources.kafka_topic(PROFILE, name=name, namespace=namespace, cluster="c1", run_id="r")
    topic["metadata"]["finalizers"] = [topic_finalizers.FINALIZER]  # the Topic Operator's part
    return topic


def test_a_deleted_namespace_is_not_held_by_a_topic_the_operator_never_finishes(
    platform: KubernetesPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kube_platform, "TOPICS_FINALIZED_TIMEOUT_S", 1.0)
    monkeypatch.setattr(kube_platform, "DELETION_POLL_S", 0.1)
    namespace = f"tf-{platform.settings.run_id}"
    platform.create_namespace(namespace)
    platform.apply(_held_topic(namespace, "orders"))
    platform.delete_namespace(namespace)
    left = platform.get("KafkaTopic", namespace, "orders")
    assert left is None or left["metadata"]["finalizers"] == ["foregroundDeletion"]  # only the GC's own


def test_release_keeps_other_finalizers_and_topics_not_being_deleted(platform: KubernetesPlatform) -> None:
    namespace = f"tf-{platform.settings.run_id}"
    platform.create_namespace(namespace)
    both = _held_topic(namespace, "both")
    both["metadata"]["finalizers"].append("example.com/keep")
    platform.apply(both)
    platform.apply(_held_topic(namespace, "alive"))
    platform.delete("KafkaTopic", namespace, "both")
    assert topic_finalizers.release(platform.kube, PROFILE.api_version, namespace) == ["both"]
    left = platform.get("KafkaTopic", namespace, "both")
    assert left is not None and left["metadata"]["finalizers"] == ["example.com/keep", "foregroundDeletion"]
    alive = platform.get("KafkaTopic", namespace, "alive")
    assert alive is not None and alive["metadata"]["finalizers"] == [topic_finalizers.FINALIZER]
