"""Cluster-scoped objects on an existing cluster: Strimzi RBAC left by someone else is refused before an install
(leftovers), and Strimzi's kafka-init ClusterRoleBinding of kconform's Kafkas is removed, nothing else
(kafka_init)."""

from __future__ import annotations

from typing import Any

import pytest

from kconform.errors import UsageError
from kconform.platforms.kubernetes import install, kafka_init, leftovers, ownership
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import profile
from tests.support.strimzi_doubles import kafka_init_binding

# Test double of the release YAML's cluster-scoped part: kinds and names of Strimzi's
# packaging/install/cluster-operator/ 020-ClusterRole (strimzi-cluster-operator-namespaced), 020-RoleBinding,
# 021-ClusterRoleBinding (-> strimzi-cluster-operator-global) and 030-ClusterRole at 0.45.2 and 1.2.0.
RELEASE_YAML = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: strimzi-cluster-operator-namespaced, labels: {app: strimzi}}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: strimzi-cluster-operator, namespace: myproject, labels: {app: strimzi}}
subjects: [{kind: ServiceAccount, name: strimzi-cluster-operator, namespace: myproject}]
roleRef: {kind: ClusterRole, name: strimzi-cluster-operator-namespaced, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: strimzi-cluster-operator, labels: {app: strimzi}}
subjects: [{kind: ServiceAccount, name: strimzi-cluster-operator, namespace: myproject}]
roleRef: {kind: ClusterRole, name: strimzi-cluster-operator-global, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: strimzi-kafka-broker, labels: {app: strimzi}}
rules: []
"""


class FakeKube:
    """Objects by (kind, name), as an API server returns them; records deletions."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        self.deleted: list[str] = []

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, name))

    def list_objects(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        wanted = dict(p.split("=", 1) for p in (label_selector or "").split(",") if p)
        return [
            o
            for (k, _), o in self.objects.items()
            if k == kind and all((o["metadata"].get("labels") or {}).get(a) == b for a, b in wanted.items())
        ]

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        self.deleted.append(name)
        return self.objects.pop((kind, name), None) is not None


def _settings(install_with: str = "yaml") -> KubeSettings:
    return KubeSettings(
        profile=profile("1.2.0"),
        run_id="r1",
        provider="existing",
        install=install_with,
        operator_namespace="strimzi",
        context="ctx",
    )


def _documents() -> list[dict[str, Any]]:
    return install.parse_documents(RELEASE_YAML)


def _role(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> dict:
    meta: dict[str, Any] = {"name": name, "labels": labels or {"app": "strimzi"}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": leftovers.RBAC, "kind": "ClusterRole", "metadata": meta}


def test_the_release_yaml_install_names_every_cluster_scoped_object_it_applies() -> None:
    found = leftovers.release_cluster_objects(_documents(), _settings())
    assert ("ClusterRole", "strimzi-cluster-operator-namespaced") in found
    assert ("ClusterRole", "strimzi-kafka-broker") in found
    assert ("ClusterRoleBinding", "strimzi-cluster-operator") in found
    assert (
        "ClusterRoleBinding",
        "kconform-strimzi-strimzi-cluster-operator",
    ) in found  # watching every namespace
    assert not any(kind == "RoleBinding" for kind, _ in found)


def test_what_the_release_yaml_install_applies_cluster_wide_carries_kconforms_mark() -> None:
    applied = install.release_documents(_documents(), _settings())
    cluster_wide = [d for d in applied if d["kind"] in leftovers.CLUSTER_RBAC_KINDS]
    assert cluster_wide and all(leftovers.is_kconforms(d, FakeKube()) for d in cluster_wide)
    assert all(d["metadata"]["labels"]["app"] == "strimzi" for d in cluster_wide)  # Strimzi's labels kept
    namespaced = [d for d in applied if d["kind"] == "RoleBinding"]
    assert all("app.kubernetes.io/managed-by" not in d["metadata"]["labels"] for d in namespaced)


def test_a_strimzi_cluster_role_kconform_did_not_create_stops_the_install_in_one_line() -> None:
    kube = FakeKube(_role("strimzi-kafka-broker"))
    with pytest.raises(UsageError) as caught:
        leftovers.check_no_leftovers(kube, _settings("helm"))
    message = str(caught.value)
    assert "ClusterRole strimzi-kafka-broker already exists" in message and "drop --install" in message
    assert "\n" not in message and kube.deleted == []


def test_a_cluster_role_an_earlier_kconform_install_made_is_reused() -> None:
    marked = install.release_documents(_documents(), _settings())[0]
    assert marked["metadata"]["name"] == "strimzi-cluster-operator-namespaced"
    leftovers.check_no_leftovers(FakeKube(marked), _settings("helm"))  # no error


def test_a_helm_release_counts_as_kconforms_only_in_a_namespace_kconform_created() -> None:
    helm = {
        "app.kubernetes.io/managed-by": "Helm",
    }
    annotations = {leftovers.HELM_RELEASE_NAME: "strimzi", leftovers.HELM_RELEASE_NAMESPACE: "strimzi"}
    ours = ownership.namespace_manifest("strimzi", "r0")
    users = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "strimzi"}}
    role = _role("strimzi-entity-operator", helm, annotations)
    leftovers.check_no_leftovers(FakeKube(role, ours), _settings("helm"))
    with pytest.raises(UsageError, match="ClusterRole strimzi-entity-operator"):
        leftovers.check_no_leftovers(FakeKube(role, users), _settings("helm"))


def test_helms_refusal_to_adopt_is_the_same_one_line() -> None:
    """Helm's message (helm pkg/action/validate.go: existing object without its ownership metadata)."""
    output = (
        "`helm upgrade --install strimzi ...` failed (exit 1):\nError: Unable to continue with install: ClusterRole "
        '"strimzi-kafka-client" in namespace "" exists and cannot be imported into the current release: invalid '
        'ownership metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to '
        '"Helm"'
    )
    refusal = leftovers.helm_refusal(output)
    assert refusal is not None and "\n" not in str(refusal)
    assert str(refusal).startswith("ClusterRole strimzi-kafka-client already exists")
    assert leftovers.helm_refusal("Error: context deadline exceeded") is None


def test_the_kafka_init_binding_name_is_strimzis() -> None:
    assert kafka_init.binding_name("kc-abc", "my-cluster") == "strimzi-kc-abc-my-cluster-kafka-init"


def test_only_strimzis_kafka_init_bindings_of_kconforms_namespaces_are_deleted() -> None:
    ours = kafka_init_binding("kc-1", "c1", run_id="r1")
    users = kafka_init_binding("team", "c1", run_id="r1")
    unlabelled = kafka_init_binding("kc-1", "c2", run_id="r1")
    unlabelled["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "someone"
    other_subject = kafka_init_binding("kc-1", "c3", run_id="r1")
    other_subject["subjects"][0]["namespace"] = "team"
    kube = FakeKube(ours, users, unlabelled, other_subject)
    assert kafka_init.delete_for(kube, ["kc-1"]) == ["strimzi-kc-1-c1-kafka-init"]
    assert kube.deleted == ["strimzi-kc-1-c1-kafka-init"]
    assert kafka_init.delete_for(kube, []) == []


def test_a_binding_whose_name_matches_but_whose_kafka_lives_elsewhere_is_kept() -> None:
    """`strimzi-kc-1-c1-kafka-init` is also the name for Kafka `1-c1` in namespace `kc`: its labels and subject
    say so, and it is not deleted for namespace kc-1."""
    lookalike = kafka_init_binding("kc", "1-c1", run_id="r1")
    kube = FakeKube(lookalike)
    assert lookalike["metadata"]["name"] == kafka_init.binding_name("kc-1", "c1")
    assert kafka_init.delete_for(kube, ["kc-1"]) == [] and kube.deleted == []
