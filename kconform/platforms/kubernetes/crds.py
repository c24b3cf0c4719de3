"""Whether the CRDs about to be applied can replace the ones a cluster already has.

Kubernetes refuses a CRD update that drops a version still listed in `status.storedVersions`; Strimzi's
1.x CRDs serve and store only `v1` (0.45.2 and earlier store `v1beta2`; `packaging/install/cluster-operator/
040-Crd-kafka.yaml` at both tags). Strimzi's upgrade documentation asks to convert every custom resource to
`v1` with its API conversion tool (0.49–0.51) and to leave only `v1` in `storedVersions` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kconform.errors import UsageError


def _served(crd: Mapping[str, Any]) -> set[str]:
    return {str(v.get("name")) for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served")}


def check_crd_upgrade(
    installed_crds: Iterable[Mapping[str, Any]], new_crd_documents: Iterable[Mapping[str, Any]]
) -> None:
    """Refuse, with one line, new CRDs that no longer serve a version an installed CRD still stores."""
    stored = {
        str((crd.get("metadata") or {}).get("name")): set(
            (crd.get("status") or {}).get("storedVersions") or []
        )
        for crd in installed_crds
    }
    for document in new_crd_documents:
        if document.get("kind") != "CustomResourceDefinition":
            continue
        name = str((document.get("metadata") or {}).get("name"))
        dropped = sorted(stored.get(name, set()) - _served(document))
        if dropped:
            raise UsageError(
                f"CRD {name} still stores {', '.join(dropped)}, which the new Strimzi CRDs no longer serve: "
                "convert every Strimzi resource to v1 and remove "
                f"{', '.join(dropped)} from its status.storedVersions first, as Strimzi's upgrade "
                "documentation asks (its v1 API conversion tool, Strimzi 0.49-0.51)"
            )
