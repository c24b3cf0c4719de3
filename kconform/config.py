"""One frozen RunConfig: command line > environment (KCONFORM_*) > defaults, validated with clear errors."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kconform import options, versions
from kconform import workflows as workflow_table
from kconform.errors import InvalidCombination, UsageError

# How many of a cell's clusters start ahead of their tests (README, "Performance"). On kubernetes every
# cluster of the largest cell (4) at once: the operator reconciles them in parallel, and 4 single-node Kafkas
# (~1 GiB each) fit a 7 GiB runner beside the operator. On the local platform the JVMs' start is CPU-bound:
# 4 at once on 2 cores (8 with -n 2) took longer than 2, whose starts overlap the first cluster's tests.
DEFAULT_CLUSTER_CONCURRENCY = 4
LOCAL_CLUSTER_CONCURRENCY = 2


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


def build(
    *,
    platform: str | None = None,
    profiles: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    provider: str | None = None,
    kubernetes: str | None = None,
    reports: str | Path | None = None,
    keep: bool | None = None,
    run_id: str | None = None,
    crd_dir: str | Path | None = None,
    install: str | None = None,
    context: str | None = None,
    workflows: Sequence[str] | None = None,
    external_host: str | None = None,
    cluster_concurrency: int | str | None = None,
    image_registry: str | None = None,
    env: Mapping[str, str] | None = None,
) -> RunConfig:
    """Merge explicit values over KCONFORM_* environment variables over defaults (kconform.options, the
    one table of options), and validate."""
    values = options.resolve(
        {
            "platform": platform,
            "profiles": profiles,
            "modes": modes,
            "provider": provider,
            "kubernetes": kubernetes,
            "reports": reports,
            "keep": keep,
            "crd_dir": crd_dir,
            "install": install,
            "context": context,
            "workflows": workflows,
            "external_host": external_host,
            "cluster_concurrency": cluster_concurrency,
            "image_registry": image_registry,
        },
        env,
    )
    chosen_platform = values["platform"]
    # One cluster runs one Strimzi: kubernetes defaults to the default profile, local to every profile.
    every = (versions.DEFAULT_PROFILE,) if chosen_platform == "kubernetes" else tuple(versions.PROFILES)
    chosen_profiles = values["profiles"] or every
    chosen_modes = values["modes"]
    chosen_provider = values["provider"]
    if chosen_platform == "kubernetes" and chosen_provider is None:
        chosen_provider = "kind"
    versions.check_platform(chosen_platform, chosen_provider)
    if chosen_platform == "local" and chosen_provider is not None:
        raise InvalidCombination("--provider applies to --platform kubernetes only")
    profiles_checked = [versions.profile(name) for name in chosen_profiles]
    if chosen_modes:
        for mode in chosen_modes:
            if mode not in versions.ALL_MODES:
                raise InvalidCombination(
                    f"unknown mode {mode!r}; choose one of: {', '.join(versions.ALL_MODES)}"
                )
        for prof in profiles_checked:
            if not any(mode in prof.modes for mode in chosen_modes):
                versions.check_mode(prof, chosen_modes[0])
    chosen_install = values["install"]
    if chosen_install is not None and chosen_install not in ("helm", "yaml"):
        raise UsageError(f"unknown install method {chosen_install!r}; choose helm or yaml")
    chosen_workflows = values["workflows"]
    crd = values["crd_dir"]
    return RunConfig(
        platform=chosen_platform,
        profiles=tuple(p.strimzi for p in profiles_checked),
        modes=chosen_modes or None,
        provider=chosen_provider,
        kubernetes=values["kubernetes"],
        reports=Path(values["reports"]),
        keep=bool(values["keep"]),
        run_id=run_id or options.run_id_from_environment(env) or new_run_id(),
        crd_dir=Path(crd) if crd else None,
        install=chosen_install,
        context=values["context"],
        workflows=workflow_table.check(chosen_workflows) if chosen_workflows else None,
        external_host=values["external_host"],
        cluster_concurrency=_concurrency(
            values["cluster_concurrency"],
            LOCAL_CLUSTER_CONCURRENCY if chosen_platform == "local" else DEFAULT_CLUSTER_CONCURRENCY,
        ),
        image_registry=values["image_registry"],
    )


def _concurrency(value: int | str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise UsageError(f"cluster concurrency {value!r}: give a whole number of clusters, 1 or more")
    return number
