"""KafkaTopics whose finalizer would keep a deleted namespace Terminating forever, and their release.

The Topic Operator puts the finalizer `strimzi.io/topic-operator` on every KafkaTopic it manages
(topic-operator KubernetesHandler.java FINALIZER_STRIMZI_IO_TO; TopicOperatorConfig.java STRIMZI_USE_FINALIZERS
defaults to "true"; both at 0.45.2 and 1.2.0) and removes it only after deleting the topic in Kafka. When the
Kafka cluster, and with it the Entity Operator, goes first, nothing removes it: the KafkaTopic stays
Terminating, and so does its namespace. Strimzi's documentation says to remove the finalizer by hand then
(documentation/modules/operators/con-deleting-managed-topics.adoc, con-removing-topic-finalizers.adoc).

kconform therefore deletes its KafkaTopics first and waits (bounded) for the Topic Operator to finish them
before deleting the Kafka; a topic it did not finish in time, in a namespace kconform is deleting anyway,
is released by removing that one finalizer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from kconform.errors import PlatformError

FINALIZER = "strimzi.io/topic-operator"
KIND = "KafkaTopic"
CRD_NAME = "kafkatopics.kafka.strimzi.io"


class _Api(Protocol):
    def list_objects(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]: ...

    def merge_patch(
        self, api_version: str, kind: str, namespace: str | None, name: str, body: dict[str, Any]
    ) -> dict[str, Any]: ...


def held(topic: Mapping[str, Any]) -> bool:
    """A KafkaTopic being deleted that still waits for the Topic Operator's finalizer."""
    meta = topic.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) and FINALIZER in (meta.get("finalizers") or ())


def release_patch(topic: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch removing only the Topic Operator's finalizer; the resourceVersion makes it fail
    (409) rather than overwrite a list changed meanwhile."""
    meta = topic.get("metadata") or {}
    keep = [f for f in meta.get("finalizers") or () if f != FINALIZER]
    return {"metadata": {"finalizers": keep or None, "resourceVersion": meta.get("resourceVersion")}}


def release(kube: _Api, api_version: str, namespace: str, names: Iterable[str] | None = None) -> list[str]:
    """Remove the Topic Operator's finalizer from the held KafkaTopics of `namespace` (only `names`, when
    given); the names released. A patch that loses a race is left for the next call."""
    wanted = set(names) if names is not None else None
    released = []
    for topic in kube.list_objects(api_version, KIND, namespace):
        name = (topic.get("metadata") or {}).get("name")
        if not name or (wanted is not None and name not in wanted) or not held(topic):
            continue
        try:
            kube.merge_patch(api_version, KIND, namespace, name, release_patch(topic))
        except PlatformError:
            continue  # changed or gone meanwhile
        released.append(name)
    return released


def served_version(crds: Iterable[Mapping[str, Any]]) -> str | None:
    """`kafka.strimzi.io/<v>` of the installed KafkaTopic CRD's storage version; None without the CRD."""
    for crd in crds:
        if (crd.get("metadata") or {}).get("name") != CRD_NAME:
            continue
        for version in (crd.get("spec") or {}).get("versions") or ():
            if version.get("storage") and version.get("served"):
                return f"kafka.strimzi.io/{version['name']}"
    return None
