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


def _binding(kind: str, name: str, role: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": {"app": "strimzi"}},
        "subjects": [
            {"kind": "ServiceAccount", "name": "strimzi-cluster-operator", "namespace": "myproject"}
        ],
        "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"},
    }


# The CRD-free RBAC subset of strimzi-cluster-operator-<v>.yaml, as packaging/install/cluster-operator/ holds it
# at 0.45.2 and 1.2.0 (the same names at both tags): which objects, their kinds, subjects and roleRefs.
RELEASE_RBAC = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "strimzi-cluster-operator"}},  # 010
    _binding("RoleBinding", "strimzi-cluster-operator", "strimzi-cluster-operator-namespaced"),  # 020
    _binding("ClusterRoleBinding", "strimzi-cluster-operator", "strimzi-cluster-operator-global"),  # 021
    _binding(
        "RoleBinding", "strimzi-cluster-operator-leader-election", "strimzi-cluster-operator-leader-election"
    ),  # 022
    _binding("RoleBinding", "strimzi-cluster-operator-watched", "strimzi-cluster-operator-watched"),  # 023
    _binding(
        "ClusterRoleBinding",
        "strimzi-cluster-operator-kafka-broker-delegation",
        "strimzi-kafka-broker",
    ),  # 030
    _binding(
        "RoleBinding", "strimzi-cluster-operator-entity-operator-delegation", "strimzi-entity-operator"
    ),  # 031
    _binding(
        "ClusterRoleBinding", "strimzi-cluster-operator-kafka-client-delegation", "strimzi-kafka-client"
    ),  # 033
    *install.parse_documents(RELEASE_YAML.split("---", 1)[1]),  # 060: the Deployment
]


def test_release_yaml_watching_every_namespace_gets_cluster_role_bindings() -> None:
    """packaging/install/cluster-operator/020-, 023- and 031-RoleBinding are namespaced to the operator's
    namespace; with STRIMZI_NAMESPACE="*" the operator needs them cluster-wide, as the Helm chart's templates
    020/023/031 make them with watchAnyNamespace (ClusterRoleBindings to the same ClusterRoles)."""
    settings = KubeSettings(profile=profile("1.2.0"), run_id="i3", operator_namespace="op-ns")
    docs = install.release_documents(RELEASE_RBAC, settings)
    # What kconform adds: after the release's own RBAC, before its Deployment (applied in this order).
    added = docs[len(RELEASE_RBAC) - 1 : -1]
    assert docs[-1]["kind"] == "Deployment"
    assert {d["roleRef"]["name"] for d in added} == {
        "strimzi-cluster-operator-namespaced",
        "strimzi-cluster-operator-watched",
        "strimzi-entity-operator",
    }
    for binding in added:
        assert binding["kind"] == "ClusterRoleBinding" and "namespace" not in binding["metadata"]
        assert binding["metadata"]["name"].startswith("kconform-op-ns-")  # never a name a user's install has
        assert binding["metadata"]["labels"][install.OPERATOR_NAMESPACE_LABEL] == "op-ns"
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "strimzi-cluster-operator", "namespace": "op-ns"}
        ]
    # Every ClusterRole the operator holds in its own namespace through a RoleBinding (but leader election)
    # is now held in every namespace.
    namespaced = {
        d["roleRef"]["name"]
        for d in docs
        if d["kind"] == "RoleBinding" and d["metadata"]["name"] != "strimzi-cluster-operator-leader-election"
    }
    cluster_wide = {d["roleRef"]["name"] for d in docs if d["kind"] == "ClusterRoleBinding"}
    assert namespaced <= cluster_wide
    assert "strimzi-cluster-operator-leader-election" not in cluster_wide
    env = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0][
        "env"
    ]
    assert env[0] == {"name": "STRIMZI_NAMESPACE", "value": "*"}


def test_release_yaml_watching_listed_namespaces_gets_role_bindings_there() -> None:
    settings = KubeSettings(
        profile=profile("0.45.2"), run_id="i4", operator_namespace="op-ns", watch_namespaces=("op-ns", "t1")
    )
    docs = install.release_documents(RELEASE_RBAC, settings)
    in_t1 = [d for d in docs if d["metadata"].get("namespace") == "t1"]
    assert {(d["kind"], d["roleRef"]["name"]) for d in in_t1} == {
        ("RoleBinding", "strimzi-cluster-operator-namespaced"),
        ("RoleBinding", "strimzi-cluster-operator-watched"),
        ("RoleBinding", "strimzi-entity-operator"),
    }
    assert not [
        d for d in docs if d["kind"] == "ClusterRoleBinding" and d["metadata"]["name"].startswith("kconform")
    ]
