"""Strimzi install details: release YAML rewrite, watch env, operator availability, clean selection."""

from __future__ import annotations

from typing import Any

from kconform.commands.clean import kind_clusters_to_delete
from kconform.platforms.kubernetes import install
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import profile

RELEASE_YAML = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: strimzi-cluster-operator}
subjects: [{kind: ServiceAccount, name: strimzi-cluster-operator, namespace: myproject}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: strimzi-cluster-operator, namespace: myproject}
spec:
  template:
    spec:
      containers:
        - name: strimzi-cluster-operator
          env:
            - name: STRIMZI_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
            - {name: STRIMZI_FULL_RECONCILIATION_INTERVAL_MS, value: "120000"}
"""


def test_release_yaml_moves_to_operator_namespace_and_watches_all() -> None:
    settings = KubeSettings(profile=profile("0.45.2"), run_id="i1", operator_namespace="op-ns")
    docs = install.watch_env(
        install.rewrite_namespace(install.parse_documents(RELEASE_YAML), "op-ns"), settings
    )
    binding, deployment = docs
    assert "namespace" not in binding["metadata"]  # cluster-scoped
    assert binding["subjects"][0]["namespace"] == "op-ns"
    assert deployment["metadata"]["namespace"] == "op-ns"
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "STRIMZI_NAMESPACE", "value": "*"}
    assert [e["name"] for e in env].count("STRIMZI_NAMESPACE") == 1


def test_helm_watches_listed_namespaces() -> None:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="i2", watch_namespaces=("a", "b"))
    argv = install.helm_command(settings, "kind-x")
    assert argv[argv.index("--set-json") + 1] == 'watchNamespaces=["a","b"]'
    assert "--skip-crds" in argv and argv[-2:] == ["--kube-context", "kind-x"]


def deployment(generation: int, observed: int, ready: int, available: str) -> dict[str, Any]:
    return {
        "metadata": {"name": install.DEPLOYMENT, "generation": generation},
        "spec": {"replicas": 1},
        "status": {
            "observedGeneration": observed,
            "readyReplicas": ready,
            "conditions": [{"type": "Available", "status": available, "reason": "MinimumReplicasAvailable"}],
        },
    }


def test_operator_available_needs_current_generation_and_ready_replica() -> None:
    assert install.deployment_available(deployment(1, 1, 1, "True"))
    assert not install.deployment_available(deployment(2, 1, 1, "True"))
    assert not install.deployment_available(deployment(1, 1, 0, "False"))
    assert not install.deployment_available(None)


def test_clean_only_touches_kconform_kind_clusters() -> None:
    assert kind_clusters_to_delete(["kconform", "kconform-abc", "kind", "kconformx", "dev"]) == [
        "kconform",
        "kconform-abc",
    ]
