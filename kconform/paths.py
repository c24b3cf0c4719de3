"""Where kconform finds its data and keeps its caches.

Installed (a wheel, pipx) and in a checkout alike, kconform's folders are found as the packages the wheel
installs them as (setup.py): `kconform_scenarios` and `kconform_manifests`. Nothing here assumes a source
tree; `CHECKOUT_ROOT` is set only when kconform runs from one.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from kconform import options

# The folder that holds the `kconform` package: site-packages when installed, the checkout otherwise.
PACKAGES_ROOT = Path(__file__).resolve().parent.parent
# The source checkout kconform runs from, or None when it is installed (developers' and CI's layout).
CHECKOUT_ROOT: Path | None = (
    PACKAGES_ROOT
    if (PACKAGES_ROOT / "pyproject.toml").is_file() and (PACKAGES_ROOT / "manifests").is_dir()
    else None
)
# Kept for the project's own tests, which run from the checkout.
PROJECT_ROOT = PACKAGES_ROOT


def _package_folder(package: str, checkout_folder: str) -> Path:
    """The folder of an installed data/test package; in a checkout on sys.path without an install, the
    folder it is installed from."""
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return PACKAGES_ROOT / checkout_folder


MANIFESTS_DIR = _package_folder("kconform_manifests", "manifests")
SCENARIOS_DIR = _package_folder("kconform_scenarios", "scenarios")
# `kconform run`'s pytest settings, shipped beside the scenarios (passed to pytest with -c).
RUN_INI = SCENARIOS_DIR / "kconform-run.ini"


def cache_dir() -> Path:
    """Per-user cache for jars, tools and bridge distributions (KCONFORM_CACHE overrides)."""
    override = options.setting("KCONFORM_CACHE")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kconform"


def default_crd_root() -> Path | None:
    """The CRDs used to validate manifests when no cluster is the truth.

    KCONFORM_CRD_DIR (a folder of <strimzi-version>/ subfolders) wins; else ../shared/strimzi-crds beside
    the checkout, where the project's CI and developers have it; else what kconform.crds downloaded.
    """
    override = options.from_environment().get("crd_dir")
    if override:
        return Path(override).expanduser()
    downloaded = cache_dir() / "crds"  # filled by kconform.crds on first use
    return shared_crd_root() or (downloaded if downloaded.is_dir() else None)


def shared_crd_root() -> Path | None:
    """../shared/strimzi-crds beside the checkout, when kconform runs from one that has it."""
    if CHECKOUT_ROOT is None:
        return None
    shared = CHECKOUT_ROOT.parent / "shared" / "strimzi-crds"
    return shared if shared.is_dir() else None
