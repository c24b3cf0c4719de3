"""Where kconform finds its data and keeps its caches."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFESTS_DIR = PROJECT_ROOT / "manifests"


def cache_dir() -> Path:
    """Per-user cache for jars, tools and bridge distributions (KCONFORM_CACHE overrides)."""
    override = os.environ.get("KCONFORM_CACHE")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kconform"


def default_crd_root() -> Path | None:
    """The CRDs used to validate manifests when no cluster is the truth.

    KCONFORM_CRD_DIR (a folder of <strimzi-version>/ subfolders) wins; else ../shared/strimzi-crds beside
    the project, where the project's CI and developers have it; else what kconform.crds downloaded.
    """
    override = os.environ.get("KCONFORM_CRD_DIR")
    if override:
        return Path(override).expanduser()
    downloaded = cache_dir() / "crds"  # filled by kconform.crds on first use
    return shared_crd_root() or (downloaded if downloaded.is_dir() else None)


def shared_crd_root() -> Path | None:
    """../shared/strimzi-crds beside the project, when it is there (a developer's or this CI's layout)."""
    shared = PROJECT_ROOT.parent / "shared" / "strimzi-crds"
    return shared if shared.is_dir() else None
