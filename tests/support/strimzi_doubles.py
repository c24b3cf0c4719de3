"""Objects a test creates in Strimzi's place, since no operator or kubelet runs them: each has the shape Strimzi
gives it at 0.45.2 and 1.2.0, as the docstring says where from."""

from __future__ import annotations

from typing import Any


def operator_deployment(namespace: str, image: str, watch: str | None = "*") -> dict[str, Any]:
    """Test double of the Cluster Operator Deployment: name, pod labels, container name and image
    `quay.io/strimzi/operator:<v>` and STRIMZI_NAMESPACE (`watch`, or the Deployment's own namespace when None)
    as in Strimzi's packaging/install/cluster-operator/060-Deployment-strimzi-cluster-operator.yaml (the Helm
    chart's template has the same name, pod labels and container)."""
    env: list[dict[str, Any]] = [
        {"name": "STRIMZI_NAMESPACE", "value": watch}
        if watch is not None
        else {"name": "STRIMZI_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "STRIMZI_DEFAULT_USER_OPERATOR_IMAGE", "value": image},
    ]
    labels = {"name": "strimzi-cluster-operator", "strimzi.io/kind": "cluster-operator"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "strimzi-cluster-operator",
            "namespace": namespace,
            "labels": {"app": "strimzi"},
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "strimzi-cluster-operator",
                    "containers": [{"name": "strimzi-cluster-operator", "image": image, "env": env}],
                },
            },
        },
    }


def kafka_init_binding(namespace: str, cluster: str, run_id: str | None = None) -> dict[str, Any]:
    """Test double of Strimzi's kafka-init ClusterRoleBinding of Kafka `cluster` in `namespace`, as the operator
    makes it (cluster-operator KafkaCluster.generateClusterRoleBinding, 0.45.2 and 1.2.0): name from
    KafkaResources.initContainerClusterRoleBindingName, Labels.generateDefaultLabels of the Kafka (its own labels
    too: kconform's run label when `run_id`), ClusterRole strimzi-kafka-broker, the brokers' ServiceAccount."""
    labels = {"kconform.io/run": run_id} if run_id else {}
    labels |= {
        "strimzi.io/cluster": cluster,
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": f"{cluster}-kafka",
        "strimzi.io/component-type": "kafka",
        "app.kubernetes.io/name": "kafka",
        "app.kubernetes.io/instance": cluster,
        "app.kubernetes.io/part-of": f"strimzi-{cluster}",
        "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
    }
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"strimzi-{namespace}-{cluster}-kafka-init", "labels": labels},
        "subjects": [{"kind": "ServiceAccount", "name": f"{cluster}-kafka", "namespace": namespace}],
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "strimzi-kafka-broker",
        },
    }


def kafka_status(generation: int, failure: str | None = None) -> dict[str, Any]:
    """Test double of the status the Cluster Operator writes on a Kafka after a reconciliation (1.2.0
    operator-common StatusUtils.setStatusConditionAndObservedGeneration): one condition, Ready, or NotReady
    with the exception's simple class name as reason when `failure` names it; status "True" either way."""
    condition: dict[str, Any] = {
        "type": "Ready",
        "status": "True",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    if failure is not None:
        condition.update(type="NotReady", reason=failure, message=f"{failure} (test double)")
    return {"conditions": [condition], "observedGeneration": generation}
