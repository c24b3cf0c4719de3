"""The Strimzi already running on a cluster: where its operator is, which version, which CRD versions.

Shapes from Strimzi's install files at 0.45.2 and 1.2.0 (`packaging/install/cluster-operator/
060-Deployment-strimzi-cluster-operator.yaml`, the Helm chart's `templates/060-Deployment-...yaml`):
the Deployment is `strimzi-cluster-operator`, its pods carry `strimzi.io/kind: cluster-operator`, the
container `strimzi-cluster-operator` runs `quay.io/strimzi/operator:<version>`, and its env
`STRIMZI_DEFAULT_USER_OPERATOR_IMAGE` names the same operator image (kept when the operator image is
mirrored under another tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kconform import versions
from kconform.errors import UsageError

DEPLOYMENT = "strimzi-cluster-operator"
POD_LABEL = ("strimzi.io/kind", "cluster-operator")
CONTAINER = "strimzi-cluster-operator"
VERSION_ENV = ("STRIMZI_DEFAULT_USER_OPERATOR_IMAGE", "STRIMZI_DEFAULT_TOPIC_OPERATOR_IMAGE")
_VERSION = re.compile(r"^\d+\.\d+\.\d+(?:-rc\d+)?$")
KAFKA_CRD = "kafkas.kafka.strimzi.io"


@dataclass(frozen=True)
class InstalledOperator:
    namespace: str
    name: str
    image: str
    version: str | None  # None when neither the image tag nor the env names a release version

    def describe(self) -> str:
        return f"Deployment {self.namespace}/{self.name} ({self.image})"


def _tag(image: str) -> str | None:
    name = image.split("@", 1)[0]
    if ":" not in name.rsplit("/", 1)[-1]:
        return None
    tag = name.rsplit(":", 1)[1]
    return tag if _VERSION.match(tag) else None


def is_operator(deployment: dict[str, Any]) -> bool:
    labels = (
        (((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
    ) or {}
    name = (deployment.get("metadata") or {}).get("name")
    return labels.get(POD_LABEL[0]) == POD_LABEL[1] or name == DEPLOYMENT


def operator_of(deployment: dict[str, Any]) -> InstalledOperator:
    meta = deployment.get("metadata") or {}
    containers = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers"
    ) or []
    container = next(
        (c for c in containers if c.get("name") == CONTAINER), containers[0] if containers else {}
    )
    image = str(container.get("image") or "")
    version = _tag(image)
    if version is None:
        env = {e.get("name"): e.get("value") for e in container.get("env") or []}
        version = next((v for n in VERSION_ENV if (v := _tag(str(env.get(n) or ""))) is not None), None)
    return InstalledOperator(str(meta.get("namespace")), str(meta.get("name")), image, version)


def find_operators(deployments: list[dict[str, Any]]) -> list[InstalledOperator]:
    """Every Strimzi Cluster Operator Deployment among `deployments` (all namespaces)."""
    return [operator_of(d) for d in deployments if is_operator(d)]


def served_versions(crds: list[dict[str, Any]], name: str = KAFKA_CRD) -> tuple[str, ...]:
    for crd in crds:
        if (crd.get("metadata") or {}).get("name") == name:
            return tuple(v["name"] for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served"))
    return ()


def profile_for(operators: list[InstalledOperator], crds: list[dict[str, Any]]) -> versions.Profile:
    """The profile of the one installed operator, or one line saying why there is none."""
    if not operators:
        raise UsageError(
            "no Strimzi Cluster Operator runs on this cluster: install Strimzi, or pass --install helm|yaml "
            "to let kconform install it into a namespace it creates"
        )
    if len(operators) > 1:
        found = ", ".join(o.describe() for o in operators)
        raise UsageError(
            f"more than one Strimzi Cluster Operator runs on this cluster ({found}); kconform "
            "tests one: use a cluster (context) with one operator"
        )
    operator = operators[0]
    if operator.version is None:
        raise UsageError(
            f"cannot tell the Strimzi version of {operator.describe()}: its image carries no "
            "release tag; kconform tests released versions only"
        )
    if operator.version not in versions.PROFILES:
        raise UsageError(
            f"Strimzi {operator.version} is installed ({operator.describe()}); kconform has profiles for "
            f"{', '.join(versions.PROFILES)} only"
        )
    prof = versions.PROFILES[operator.version]
    served = served_versions(crds)
    if prof.crd_api not in served:
        raise UsageError(
            f"Strimzi {operator.version} is installed but its Kafka CRD serves {', '.join(served) or 'nothing'}, "
            f"not {prof.crd_api}: the CRDs do not match the operator; apply the CRDs of Strimzi {operator.version}"
        )
    return prof


# What an operator watching every namespace needs there, one permission per binding Strimzi's install files
# make cluster-wide for it (packaging/install/cluster-operator/020-, 023-, 031-ClusterRole at 0.45.2 and 1.2.0;
# the Helm chart binds them with ClusterRoleBindings only with watchAnyNamespace): (verb, group, resource, role).
WATCH_ANY_NAMESPACE_RIGHTS = (
    ("create", "", "pods", "strimzi-cluster-operator-namespaced"),
    ("watch", "kafka.strimzi.io", "kafkas", "strimzi-cluster-operator-watched"),
    ("watch", "kafka.strimzi.io", "kafkatopics", "strimzi-entity-operator"),
)


def service_account(deployments: list[dict[str, Any]], operator: InstalledOperator) -> str:
    """The operator pod's ServiceAccount (`default` when the Deployment names none)."""
    for deployment in deployments:
        meta = deployment.get("metadata") or {}
        if (meta.get("namespace"), meta.get("name")) == (operator.namespace, operator.name):
            pod = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
            return str(pod.get("serviceAccountName") or pod.get("serviceAccount") or "default")
    return "default"


def missing_cluster_roles(kube: Any, operator: InstalledOperator, account: str) -> list[str]:
    """The ClusterRoles the operator's ServiceAccount lacks in every namespace ([] also when kconform may not
    ask the API server)."""
    missing = []
    for verb, group, resource, role in WATCH_ANY_NAMESPACE_RIGHTS:
        if kube.service_account_can(operator.namespace, account, verb, group, resource) is False:
            missing.append(role)
    return missing


def watched_namespaces(deployments: list[dict[str, Any]], operator: InstalledOperator) -> str | None:
    """The operator's STRIMZI_NAMESPACE value (`*` = every namespace); None when it is its own namespace."""
    for deployment in deployments:
        meta = deployment.get("metadata") or {}
        if meta.get("namespace") != operator.namespace or meta.get("name") != operator.name:
            continue
        containers = deployment["spec"]["template"]["spec"].get("containers") or []
        for container in containers:
            for env in container.get("env") or []:
                if env.get("name") == "STRIMZI_NAMESPACE":
                    return str(env["value"]) if env.get("value") is not None else None
    return None
