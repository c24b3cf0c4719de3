"""The RunConfig dataclass: what one run targets and where it writes. `kconform.config.build` makes one.

It sits below the platform registry (which `build` asks for each platform's defaults) so that the platforms
can read a RunConfig without importing the module that asks them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from kconform import options, versions

# How many of a cell's clusters start ahead of their tests when a RunConfig is made directly; `build` takes
# the platform's own default (PlatformKind.cluster_concurrency).
DEFAULT_CLUSTER_CONCURRENCY = 4


@dataclass(frozen=True)
class RunConfig:
    """What one run targets and where it writes.

    platform   local | kubernetes
    profiles   Strimzi versions (versions.PROFILES keys); every valid mode of each unless `modes` narrows it
    modes      metadata modes to run (None: all valid modes of each profile)
    provider   kubernetes cluster provider: kind | minikube | k3s | existing (None on local)
    kubernetes Kubernetes version for a created cluster (None: the profile's newest kind node image)
    reports    folder for conformance.json, junit.xml, allure-results/, index.html, badges, diagnostics/
    keep       keep clusters, namespaces and processes after the run (for debugging)
    run_id     unique per run; marks every process and resource of the run
    crd_dir    folder of <strimzi-version>/ CRDs used for validation (None: the default lookup)
    install    how kconform installs Strimzi on kubernetes: helm | yaml; None: helm on a cluster kconform
               creates, and on provider existing the Strimzi already installed is tested (nothing installed)
    context    kubeconfig context for provider existing
    workflows  run only these workflows (None: every workflow)
    external_host  where this machine reaches node ports on provider existing (None: a node's address)
    cluster_concurrency  how many of a cell's clusters start ahead of their tests and live at once
    image_registry kubernetes: the registry (mirror) every image kconform causes to be pulled comes from
    """

    platform: str = options.BY_DEST["platform"].default
    profiles: tuple[str, ...] = tuple(versions.PROFILES)
    modes: tuple[str, ...] | None = None
    provider: str | None = None
    kubernetes: str | None = None
    reports: Path = Path(options.BY_DEST["reports"].default)
    keep: bool = False
    run_id: str = field(default_factory=lambda: new_run_id())
    crd_dir: Path | None = None
    install: str | None = None
    context: str | None = None
    workflows: tuple[str, ...] | None = None
    external_host: str | None = None
    cluster_concurrency: int = DEFAULT_CLUSTER_CONCURRENCY
    image_registry: str | None = None

    def cells(self) -> list[tuple[versions.Profile, str]]:
        """Every (profile, mode) this run covers, in table order."""
        found = []
        for name in self.profiles:
            prof = versions.profile(name)
            for mode in prof.modes:
                if self.modes is None or mode in self.modes:
                    found.append((prof, mode))
        return found


def new_run_id() -> str:
    return secrets.token_hex(4)
