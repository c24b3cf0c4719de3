"""The ClusterRoleBinding Strimzi makes for each Kafka with rack awareness or node port listeners.

Shape from Strimzi's cluster-operator at 0.45.2 and 1.2.0: `KafkaResources.initContainerClusterRoleBindingName`
names it `strimzi-<namespace>-<cluster>-kafka-init`; `KafkaCluster.generateClusterRoleBinding` creates it
(ClusterRole `strimzi-kafka-broker`, subject the brokers' ServiceAccount in the Kafka's namespace) only when
`rack` uses a topology key or a listener is of type nodeport, with `Labels.generateDefaultLabels` of the Kafka
(`strimzi.io/cluster: <cluster>`, `strimzi.io/kind: Kafka`, `app.kubernetes.io/managed-by:
strimzi-cluster-operator`, ...). Being cluster-scoped it has no owner reference to the Kafka: the operator
deletes it itself when it reconciles the Kafka's deletion (`KafkaAssemblyOperator.delete`). When the operator is
gone before that (uninstalled, never kconform's, a killed run), it stays behind, so kconform removes the one of
a Kafka in a namespace it owns, and only when every mark above says it is Strimzi's binding for that Kafka.
"""

from __future__ import annotations

from typing import Any

RBAC = "rbac.authorization.k8s.io/v1"
KIND = "ClusterRoleBinding"
CLUSTER_LABEL = "strimzi.io/cluster"
STRIMZI_LABELS = {
    "strimzi.io/kind": "Kafka",
    "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
}
SELECTOR = ",".join(f"{k}={v}" for k, v in STRIMZI_LABELS.items())


def binding_name(namespace: str, cluster: str) -> str:
    return f"strimzi-{namespace}-{cluster}-kafka-init"


def is_kafka_init_of(binding: dict[str, Any], namespace: str) -> bool:
    """Strimzi's kafka-init binding of a Kafka in `namespace`: its name, labels and subject all agree."""
    meta = binding.get("metadata") or {}
    labels = meta.get("labels") or {}
    cluster = labels.get(CLUSTER_LABEL)
    if not cluster or any(labels.get(k) != v for k, v in STRIMZI_LABELS.items()):
        return False
    if meta.get("name") != binding_name(namespace, str(cluster)):
        return False
    subjects = binding.get("subjects") or []
    return bool(subjects) and all(s.get("namespace") == namespace for s in subjects)


def delete_for(kube: Any, namespaces: list[str]) -> list[str]:
    """Delete the kafka-init bindings of Kafkas in `namespaces` (namespaces kconform owns); their names."""
    if not namespaces:
        return []
    deleted = []
    for binding in kube.list_objects(RBAC, KIND, label_selector=SELECTOR):
        for namespace in namespaces:
            if is_kafka_init_of(binding, namespace):
                name = binding["metadata"]["name"]
                if kube.delete(RBAC, KIND, None, name):
                    deleted.append(name)
    return deleted
