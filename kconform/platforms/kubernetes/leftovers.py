"""Strimzi's cluster-scoped objects that someone else left on an existing cluster: refused before an install.

`--install yaml|helm` applies Strimzi's ClusterRoles and ClusterRoleBindings by their fixed names and removes
them at the end of the run. An object of such a name that kconform did not create (a Strimzi uninstalled
without its RBAC, another team's install) would be overwritten and then deleted, so the preflight stops with
one line instead. What counts as kconform's: the owner label it puts on what it applies from the release YAML
(install.OWNER_LABELS), or Helm's ownership annotations naming kconform's release in a namespace kconform
created. CRDs are not checked here: kconform never deletes a CRD (deleting it deletes every resource of its
kind in the cluster), and applying the profile's own CRDs over the same CRDs changes nothing; CRDs that still
store a version the profile drops are refused by crds.check_crd_upgrade.
"""

from __future__ import annotations

import re
from typing import Any

from kconform.errors import UsageError
from kconform.platforms.kubernetes import install, ownership, strimzi_files
from kconform.platforms.kubernetes.settings import KubeSettings

RBAC = "rbac.authorization.k8s.io/v1"
CLUSTER_RBAC_KINDS = ("ClusterRole", "ClusterRoleBinding")

# packaging/helm-charts/helm3/strimzi-kafka-operator/templates/ at 0.45.2 and 1.2.0: the same 020-033
# ClusterRoles and ClusterRoleBindings as the release YAML, plus (watchAnyNamespace) the 020, 023 and 031
# bindings made ClusterRoleBindings. The chart's 070/080 aggregate roles are off unless createAggregateRoles.
HELM_CLUSTER_OBJECTS = (
    ("ClusterRole", "strimzi-cluster-operator-namespaced"),
    ("ClusterRole", "strimzi-cluster-operator-global"),
    ("ClusterRole", "strimzi-cluster-operator-leader-election"),
    ("ClusterRole", "strimzi-cluster-operator-watched"),
    ("ClusterRole", "strimzi-kafka-broker"),
    ("ClusterRole", "strimzi-entity-operator"),
    ("ClusterRole", "strimzi-kafka-client"),
    ("ClusterRoleBinding", "strimzi-cluster-operator"),
    ("ClusterRoleBinding", "strimzi-cluster-operator-kafka-broker-delegation"),
    ("ClusterRoleBinding", "strimzi-cluster-operator-kafka-client-delegation"),
    ("ClusterRoleBinding", "strimzi-cluster-operator-namespaced"),
    ("ClusterRoleBinding", "strimzi-cluster-operator-watched"),
    ("ClusterRoleBinding", "strimzi-cluster-operator-entity-operator-delegation"),
)
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"


def release_cluster_objects(documents: list[dict[str, Any]], settings: KubeSettings) -> list[tuple[str, str]]:
    """(kind, name) of every ClusterRole and ClusterRoleBinding the release YAML install applies."""
    return [
        (d["kind"], d["metadata"]["name"])
        for d in install.release_documents(documents, settings)
        if d.get("kind") in CLUSTER_RBAC_KINDS
    ]


def install_cluster_objects(settings: KubeSettings) -> list[tuple[str, str]]:
    """What this install would apply cluster-wide (besides the CRDs)."""
    if settings.install == "helm":
        return list(HELM_CLUSTER_OBJECTS)
    version = settings.profile.strimzi
    documents = install.parse_documents(strimzi_files.read(version, install.operator_yaml_url(version)))
    return release_cluster_objects(documents, settings)


def is_kconforms(obj: dict[str, Any], kube: Any) -> bool:
    """Made by an earlier kconform install: its owner label, or Helm's annotations for kconform's release in a
    namespace kconform created."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    if all(labels.get(k) == v for k, v in install.OWNER_LABELS.items()):
        return True
    annotations = meta.get("annotations") or {}
    namespace = annotations.get(HELM_RELEASE_NAMESPACE)
    if annotations.get(HELM_RELEASE_NAME) != install.RELEASE or not namespace:
        return False
    return ownership.is_owned(kube.get("v1", "Namespace", None, str(namespace)))


def check_no_leftovers(kube: Any, settings: KubeSettings) -> None:
    """One line naming the first cluster-scoped Strimzi object kconform would take over; nothing changed."""
    for kind, name in install_cluster_objects(settings):
        found = kube.get(RBAC, kind, None, name)
        if found is not None and not is_kconforms(found, kube):
            raise UsageError(
                f"{kind} {name} already exists and kconform did not create it (a Strimzi installed or left "
                "behind by someone else); kconform never overwrites or deletes it: remove the leftover Strimzi "
                "RBAC, or drop --install to test the Strimzi installed there"
            )


# Helm's refusal to adopt an object without its ownership metadata (helm pkg/action/validate.go:
# `<Kind> "<name>" in namespace "<ns>" exists and cannot be imported into the current release: ...`).
_HELM_REFUSAL = re.compile(r'(\w+) "([^"]+)" in namespace "([^"]*)" exists and cannot be imported')


def helm_refusal(output: str) -> UsageError | None:
    """Helm's "cannot be imported into the current release" as the same one line as the preflight's."""
    found = _HELM_REFUSAL.search(output)
    if found is None:
        return None
    kind, name, namespace = found.groups()
    where = f"{namespace}/{name}" if namespace else name
    return UsageError(
        f"{kind} {where} already exists and Helm refuses to take it over (kconform did not create it); "
        "remove the leftover Strimzi objects, or drop --install to test the Strimzi installed there"
    )
