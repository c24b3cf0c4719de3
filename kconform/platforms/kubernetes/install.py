"""Installing the pinned Strimzi Cluster Operator: Helm OCI chart (default) or the release YAML.

The CRDs are always applied first from the release's strimzi-crds-<v>.yaml, because `helm upgrade` never
updates CRDs (critical when moving between 0.45 and 1.x). The install is done once the Deployment
`strimzi-cluster-operator` reports Available.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from kconform.platforms.kubernetes import images
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.resources import RUN_LABEL

CHART = "oci://quay.io/strimzi-helm/strimzi-kafka-operator"
RELEASE = "strimzi"
DEPLOYMENT = "strimzi-cluster-operator"
# The operator's pod label in Strimzi's release YAML and Helm chart (060-Deployment-strimzi-cluster-operator.yaml,
# 0.45.2 and 1.2.0), the one installed.is_operator recognises an operator Deployment by, whatever its name.
OPERATOR_SELECTOR = "strimzi.io/kind=cluster-operator"
RELEASES_URL = "https://github.com/strimzi/strimzi-kafka-operator/releases/download/{v}/{file}"
YAML_DEFAULT_NAMESPACE = "myproject"  # what the release YAML hard-codes in its RoleBindings
CLUSTER_SCOPED = frozenset({"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"})


def crds_url(version: str) -> str:
    return RELEASES_URL.format(v=version, file=f"strimzi-crds-{version}.yaml")


def operator_yaml_url(version: str) -> str:
    return RELEASES_URL.format(v=version, file=f"strimzi-cluster-operator-{version}.yaml")


def helm_command(settings: KubeSettings, context: str | None, helm: str = "helm") -> list[str]:
    argv = [
        helm,
        "upgrade",
        "--install",
        RELEASE,
        CHART,
        "--version",
        settings.profile.strimzi,
        "--namespace",
        settings.operator_namespace,
        "--create-namespace",
        "--skip-crds",  # applied explicitly beforehand
    ]
    if settings.watch_namespaces:
        argv += ["--set-json", "watchNamespaces=" + _json_list(settings.watch_namespaces)]
    else:
        argv += ["--set", "watchAnyNamespace=true"]
    if settings.image_registry:
        # The chart's default registry of every image it names (values.yaml defaultImageRegistry; 0.45.2, 1.2.0).
        argv += ["--set", f"defaultImageRegistry={settings.image_registry}"]
    if context:
        argv += ["--kube-context", context]
    return argv


def _json_list(items: tuple[str, ...]) -> str:
    return "[" + ",".join(f'"{i}"' for i in items) + "]"


def rewrite_namespace(documents: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The release YAML for a namespace: namespaced objects and binding subjects moved off `myproject`."""
    out = []
    for doc in documents:
        doc = yaml.safe_load(yaml.safe_dump(doc))  # a deep copy
        if doc.get("kind") not in CLUSTER_SCOPED:
            doc.setdefault("metadata", {})["namespace"] = namespace
        for subject in doc.get("subjects") or []:
            if subject.get("namespace") == YAML_DEFAULT_NAMESPACE:
                subject["namespace"] = namespace
        out.append(doc)
    return out


def watch_env(documents: list[dict[str, Any]], settings: KubeSettings) -> list[dict[str, Any]]:
    """Point STRIMZI_NAMESPACE of the operator Deployment at the watched namespaces (or all: `*`)."""
    value = ",".join(settings.watch_namespaces) if settings.watch_namespaces else "*"
    for doc in documents:
        if doc.get("kind") == "Deployment" and doc["metadata"].get("name") == DEPLOYMENT:
            for container in doc["spec"]["template"]["spec"]["containers"]:
                env = [e for e in container.get("env", []) if e.get("name") != "STRIMZI_NAMESPACE"]
                container["env"] = [{"name": "STRIMZI_NAMESPACE", "value": value}, *env]
    return documents


# packaging/install/cluster-operator/020-, 023- and 031-RoleBinding (0.45.2 and 1.2.0): the bindings the operator
# needs in every namespace it watches. The release YAML makes them RoleBindings in its own namespace only; the
# Helm chart's templates of the same numbers make them ClusterRoleBindings with watchAnyNamespace, RoleBindings
# per watched namespace otherwise. (022, leader election, stays in the operator's namespace.)
WATCHED_NAMESPACE_BINDINGS = (
    "strimzi-cluster-operator",  # 020 -> ClusterRole strimzi-cluster-operator-namespaced
    "strimzi-cluster-operator-watched",  # 023 -> ClusterRole strimzi-cluster-operator-watched
    "strimzi-cluster-operator-entity-operator-delegation",  # 031 -> ClusterRole strimzi-entity-operator
)
OWNER_LABELS = {"app.kubernetes.io/managed-by": "kconform"}
OPERATOR_NAMESPACE_LABEL = "kconform.io/operator-namespace"


def watched_bindings(documents: list[dict[str, Any]], settings: KubeSettings) -> list[dict[str, Any]]:
    """The bindings that let the release YAML's operator work in the namespaces it watches.

    Watching every namespace (STRIMZI_NAMESPACE="*"): one ClusterRoleBinding per watched-namespace RoleBinding,
    named and labelled as kconform's own so it never collides with a user's. Watching a list: a copy of each
    RoleBinding in every listed namespace.
    """
    out: list[dict[str, Any]] = []
    namespace = settings.operator_namespace
    for doc in documents:
        meta = doc.get("metadata") or {}
        if doc.get("kind") != "RoleBinding" or meta.get("name") not in WATCHED_NAMESPACE_BINDINGS:
            continue
        labels = {**(meta.get("labels") or {}), **OWNER_LABELS, OPERATOR_NAMESPACE_LABEL: namespace}
        body = {"subjects": doc["subjects"], "roleRef": doc["roleRef"]}
        if not settings.watch_namespaces:
            name = f"kconform-{namespace}-{meta['name']}"
            out.append(
                {
                    "apiVersion": doc["apiVersion"],
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": name, "labels": labels},
                    **body,
                }
            )
            continue
        for watched in settings.watch_namespaces:
            if watched == namespace:
                continue  # the release YAML's own RoleBinding
            out.append(
                {
                    "apiVersion": doc["apiVersion"],
                    "kind": "RoleBinding",
                    "metadata": {"name": meta["name"], "namespace": watched, "labels": labels},
                    **body,
                }
            )
    return out


def bindings_selector(operator_namespace: str) -> str:
    """The label selector of the cluster-scoped bindings kconform made for an operator namespace it owns."""
    owner = ",".join(f"{k}={v}" for k, v in OWNER_LABELS.items())
    return f"{owner},{OPERATOR_NAMESPACE_LABEL}={operator_namespace}"


def delete_watched_bindings(kube: Any, operator_namespace: str) -> list[str]:
    """Delete kconform's ClusterRoleBindings for an operator namespace kconform created and deletes."""
    found = kube.list_objects(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        label_selector=bindings_selector(operator_namespace),
    )
    names = [b["metadata"]["name"] for b in found if b["metadata"]["name"].startswith("kconform-")]
    for name in names:
        kube.delete("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", None, name)
    return names


def run_selector(run_id: str) -> str:
    """The label selector of the cluster-scoped RBAC a run's --install yaml applied (release_documents)."""
    owner = ",".join(f"{k}={v}" for k, v in OWNER_LABELS.items())
    return f"{owner},{RUN_LABEL}={run_id}"


def delete_cluster_rbac(kube: Any, selector: str) -> list[str]:
    """Delete the ClusterRoles and ClusterRoleBindings kconform applied that `selector` picks (it always
    includes kconform's owner label); `Kind name` of each."""
    owner = ",".join(f"{k}={v}" for k, v in OWNER_LABELS.items())
    if not selector.startswith(owner):
        raise ValueError(f"refusing to delete cluster RBAC by {selector!r}: not limited to kconform's own")
    deleted = []
    for kind in ("ClusterRoleBinding", "ClusterRole"):  # bindings first: never one left naming a gone role
        for found in kube.list_objects("rbac.authorization.k8s.io/v1", kind, label_selector=selector):
            if kube.delete("rbac.authorization.k8s.io/v1", kind, None, found["metadata"]["name"]):
                deleted.append(f"{kind} {found['metadata']['name']}")
    return deleted


def release_documents(documents: list[dict[str, Any]], settings: KubeSettings) -> list[dict[str, Any]]:
    """The release YAML ready to apply: moved to the operator namespace, watching what the settings say, its
    images at --image-registry, with the bindings for the watched namespaces (before the operator Deployment)."""
    moved = watch_env(rewrite_namespace(documents, settings.operator_namespace), settings)
    images.mirror_release(moved, settings.image_registry)
    marked = [_marked(d, settings.operator_namespace, settings.run_id) for d in moved]
    bindings = [
        _marked(b, settings.operator_namespace, settings.run_id) for b in watched_bindings(moved, settings)
    ]
    # Before the operator Deployment: an operator that starts before its bindings exist fails its first
    # watches; and once the Deployment is there, everything the run applies for it is there too.
    deployment = next(
        (
            i
            for i, d in enumerate(marked)
            if d.get("kind") == "Deployment" and d["metadata"].get("name") == DEPLOYMENT
        ),
        len(marked),
    )
    return marked[:deployment] + bindings + marked[deployment:]


def _marked(document: dict[str, Any], operator_namespace: str, run_id: str) -> dict[str, Any]:
    """A cluster-scoped RBAC object with kconform's owner label: what tells a later preflight and the removal
    at the end of the run that kconform created it (leftovers.is_kconforms), and with the operator namespace
    and the run it was made for: what `kconform clean` finds it by when a run could not remove it."""
    if document.get("kind") not in ("ClusterRole", "ClusterRoleBinding"):
        return document
    meta = document.setdefault("metadata", {})
    meta["labels"] = {
        **(meta.get("labels") or {}),
        **OWNER_LABELS,
        OPERATOR_NAMESPACE_LABEL: operator_namespace,
        RUN_LABEL: run_id,
    }
    return document


# libyaml's safe loader where PyYAML has it: the same documents, an order of magnitude faster on the release
# YAML (20,000 lines of CRD schemas), which a run reads several times.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.load_all(text, Loader=_LOADER) if isinstance(d, dict) and d.get("kind")]


@dataclass(frozen=True)
class InstallStep:
    """One thing the install does: a command, or applying every document of a URL."""

    describe: str
    argv: list[str] | None = None
    url: str | None = None


def steps(settings: KubeSettings, context: str | None, helm: str = "helm") -> list[InstallStep]:
    v = settings.profile.strimzi
    out = [InstallStep(f"apply the Strimzi {v} CRDs (server-side)", url=crds_url(v))]
    if settings.install == "helm":
        out.append(
            InstallStep(f"install the Strimzi {v} operator chart", argv=helm_command(settings, context, helm))
        )
    else:
        out.append(
            InstallStep(
                f"apply the Strimzi {v} release YAML in namespace {settings.operator_namespace}",
                url=operator_yaml_url(v),
            )
        )
    return out


def deployment_available(deployment: dict[str, Any] | None) -> bool:
    """Available=True and every replica ready, at the current generation."""
    if not deployment:
        return False
    status = deployment.get("status") or {}
    spec_replicas = (deployment.get("spec") or {}).get("replicas", 1)
    if status.get("observedGeneration") != (deployment.get("metadata") or {}).get("generation"):
        return False
    available = any(
        c.get("type") == "Available" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    return available and (status.get("readyReplicas") or 0) >= spec_replicas


Fetch = Callable[[str], str]
