"""The default StorageClass the selected workflows' PersistentVolumeClaims need, checked before any test.

The `kraft-migration` workflow's KafkaNodePools (brokers and controllers) use `persistent-claim` storage with
no class (migration_resources.py), so Strimzi's PersistentVolumeClaims name none and the API server's
DefaultStorageClass admission gives them the cluster's default. Without a default they stay Pending and the
operator reports the pool's pods unschedulable minutes later; the preflight says so at once. kind (`standard`),
minikube and k3s ship a default; an existing cluster may not. A StorageClass is the default when annotated
`storageclass.kubernetes.io/is-default-class: "true"`, or with the older beta annotation (the admission
plugin reads both). Reading them needs `list storageclasses` at cluster scope: without it the preflight says
it could not tell, and goes on.
"""

from __future__ import annotations

from typing import Any

from kconform import progress
from kconform.errors import MissingPrerequisite, PlatformError
from kconform.platforms.kubernetes import migration_plan
from kconform.runconfig import RunConfig

API_VERSION = "storage.k8s.io/v1"
DEFAULT_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
NAMES_SHOWN = 3


def claiming_workflows(config: RunConfig) -> list[str]:
    """The selected workflows whose clusters claim PersistentVolumes, each with its cells."""
    if config.workflows is not None and migration_plan.WORKFLOW not in config.workflows:
        return []
    cells = [f"strimzi {p.strimzi} {mode}" for p, mode in config.cells() if migration_plan.runs_in(p, mode)]
    return [f"{migration_plan.WORKFLOW} ({', '.join(cells)})"] if cells else []


def is_default(storage_class: dict[str, Any]) -> bool:
    """Marked the default and not being deleted (claims made from now on would find it gone)."""
    meta = storage_class.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    marked = any(annotations.get(name) == "true" for name in DEFAULT_ANNOTATIONS)
    return marked and not meta.get("deletionTimestamp")


def check_default(kube: Any, workflows: list[str]) -> None:
    """MissingPrerequisite (one line naming the fix) when the cluster has no default StorageClass and
    `workflows` claim volumes; a progress line when the user may not read StorageClasses."""
    if not workflows:
        return
    try:
        classes = kube.list_objects(API_VERSION, "StorageClass")
    except PlatformError as err:
        status = getattr(err.__cause__, "status", None)
        why = "your credentials may not list storageclasses" if status == 403 else str(err).splitlines()[0]
        progress.report(
            f"cannot tell whether the cluster has a default StorageClass ({why[:200]}); {', '.join(workflows)} "
            "claims PersistentVolumes, which stay Pending without one"
        )
        return
    if any(is_default(c) for c in classes):
        return
    names = [str((c.get("metadata") or {}).get("name")) for c in classes]
    found = ", ".join(names[:NAMES_SHOWN]) + (
        f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    )
    mark = (
        f"mark one the default (kubectl annotate storageclass {names[0]} {DEFAULT_ANNOTATIONS[0]}=true)"
        if names
        else "install a volume provisioner with a default StorageClass (e.g. rancher local-path-provisioner)"
    )
    raise MissingPrerequisite(
        f"{', '.join(workflows)} claims PersistentVolumes, and this cluster has no default StorageClass "
        f"({f'StorageClasses {found}, none annotated {DEFAULT_ANNOTATIONS[0]}=true' if names else 'none at all'}): "
        f"{mark}, or leave the workflow out (--workflow for the others, or --mode kraft)"
    )
