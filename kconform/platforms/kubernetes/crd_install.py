"""The Strimzi CRDs of a profile as documents, and the check that installing them cannot break a cluster.

Strimzi 1.x serves only `kafka.strimzi.io/v1`. A cluster that ran Strimzi before 1.0 stores its custom
resources as `v1beta2` (listed in each CRD's `status.storedVersions`); the API server refuses a CRD update that
drops a stored version, and Strimzi's upgrade documentation (1.2.0 `documentation/modules/upgrading/
con-api-conversion-v1.adoc`, `proc-upgrade-cluster-operator-olm-no-upgrade-path.adoc`) asks to convert the
custom resources and the CRDs to `v1` first — with the `v1-api-conversion` tool of Strimzi 0.49–1.0
(`convert-resource`, then `crd-upgrade`). kconform says so in one line before touching anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from kconform import crds as strimzi_crds
from kconform.errors import MissingPrerequisite, UsageError
from kconform.platforms.kubernetes.kube import Kube
from kconform.versions import Profile
from kconform.waits import wait_until

CRD_API = "apiextensions.k8s.io/v1"

CONVERSION_HINT = (
    "convert the custom resources and CRDs to the v1 API first, as Strimzi's upgrade documentation asks "
    "(Strimzi 0.49-1.0 bin/v1-api-conversion.sh convert-resource, then crd-upgrade)"
)


def crd_folder(profile: Profile) -> Path:
    """The profile's CRD files, found (or fetched and checked) the way the whole project finds them."""
    return strimzi_crds.crd_folder(profile.strimzi)


def crd_documents(folder: Path) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition in the folder's YAML files, in file order."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: list[dict[str, Any]] = []
    for file in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
        for document in yaml.load_all(file.read_text(encoding="utf-8"), Loader=loader):
            if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                out.append(document)
    if not out:
        raise MissingPrerequisite(f"no CustomResourceDefinition found in {folder}")
    return out


def _versions(crd: Mapping[str, Any]) -> set[str]:
    return {v.get("name") for v in (crd.get("spec") or {}).get("versions") or () if v.get("name")}


def check_crd_upgrade(
    installed_crds: Iterable[Mapping[str, Any]], new_crd_documents: Iterable[Mapping[str, Any]]
) -> None:
    """UsageError (one line) when a new CRD drops a version an installed CRD still stores.

    `installed_crds` are the CRD objects as the API server returns them (with `status.storedVersions`).
    """
    new_by_name = {(d.get("metadata") or {}).get("name"): d for d in new_crd_documents}
    stranded: list[str] = []
    dropped: set[str] = set()
    for installed in installed_crds:
        name = (installed.get("metadata") or {}).get("name")
        new = new_by_name.get(name)
        if new is None:
            continue
        stored = set((installed.get("status") or {}).get("storedVersions") or ())
        missing = sorted(stored - _versions(new))
        if missing:
            stranded.append(str(name))
            dropped.update(missing)
    if stranded:
        raise UsageError(
            f"the cluster's Strimzi CRDs still store {', '.join(sorted(dropped))} "
            f"(status.storedVersions of {', '.join(sorted(stranded))}), which the CRDs to install no longer "
            f"define: {CONVERSION_HINT}"
        )


def established(crd: Mapping[str, Any] | None) -> bool:
    conditions = ((crd or {}).get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def apply_crds(kube: Kube, documents: list[dict[str, Any]], timeout: float = 60.0) -> None:
    """Refuse an upgrade that strands stored versions, apply every CRD, wait until each is Established."""
    group = {(d.get("spec") or {}).get("group") for d in documents}
    installed = [crd for g in sorted(str(x) for x in group) for crd in kube.crds(g)]
    check_crd_upgrade(installed, documents)
    for document in documents:
        kube.apply(document)
    names = [d["metadata"]["name"] for d in documents]

    def all_established() -> bool:
        return all(established(kube.get(CRD_API, "CustomResourceDefinition", None, n)) for n in names)

    wait_until(
        all_established,
        describe=f"CRDs {', '.join(names)} to be Established",
        timeout=timeout,
        interval=0.2,
    )
