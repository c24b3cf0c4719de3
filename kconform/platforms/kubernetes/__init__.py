"""The kubernetes platform: the Strimzi resources applied to a real cluster with a pinned Strimzi operator.

`PLATFORM` is what the registry (kconform.platforms.registry) knows of it. This module stays light: the
Kubernetes client, the providers and the install are imported when they are used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kconform import options, versions
from kconform.errors import UsageError
from kconform.platforms.descriptor import DoctorNeeds, PlanStep
from kconform.platforms.protocol import Cell, Platform
from kconform.runconfig import RunConfig


class KubernetesPlatformKind:
    name = "kubernetes"
    providers: tuple[str, ...] = tuple(options.BY_DEST["provider"].choices or ())
    default_provider: str | None = "kind"  # KubeSettings' default
    # Every cluster of the largest cell (4) at once: the operator reconciles them in parallel, and 4
    # single-node Kafkas (~1 GiB each) fit a 7 GiB runner beside the operator (README, "Performance").
    cluster_concurrency = 4
    # A cluster's namespaces, the operator and its RBAC take API round trips and waits to remove.
    terminate_grace_s = 300.0
    setup_before_tests = True  # cluster, install and operator: per-phase budgets, before the first test
    fixture_setup_budgeted = True  # a Kafka cluster's setup waits with its own budgets
    fixed_node_ports = True  # kind maps a fixed set of NodePorts once: clusters that pin them share it
    has_plan = True

    def default_profiles(self) -> tuple[str, ...]:
        return (versions.DEFAULT_PROFILE,)  # one cluster runs one Strimzi

    def check_run(
        self, config: RunConfig, *, workers: str | None, profile_asked: bool, checked_before: bool = False
    ) -> RunConfig:
        """Tools, the context and its API server, Strimzi's install files, the installed Strimzi; on provider
        existing without --install the installed Strimzi's profile is the run's."""
        if workers is not None:
            raise UsageError(
                f"--platform {self.name} runs on one worker (one cluster, its NodePorts mapped once): "
                f"drop -n {workers}"
            )
        if len(config.profiles) != 1:
            raise UsageError(
                f"--platform {self.name} runs one Strimzi version per cluster: pass one --profile "
                f"({', '.join(versions.PROFILES)})"
            )
        if checked_before:
            return config
        from kconform.platforms.kubernetes.kube_preflight import installed_profile, preflight
        from kconform.platforms.kubernetes.providers import PROVIDERS

        finds_its_strimzi = not PROVIDERS[config.provider or "kind"].creates_cluster
        if finds_its_strimzi:
            config = with_context(config)
        if finds_its_strimzi and config.install is None and not profile_asked:
            config = dataclasses.replace(config, profiles=(installed_profile(run_settings(config)),))
        from kconform.platforms.kubernetes.storage_class import claiming_workflows

        preflight(run_settings(config), claiming_volumes=claiming_workflows(config))
        return config

    def check_selection(
        self, profiles: Sequence[versions.Profile], *, bridge: bool, crd_dir: Path | None
    ) -> None:
        """A cluster's prerequisites were checked by `check_run`."""

    def clean_stale(self) -> None:
        """What earlier runs left on a cluster is found by the preflight (leftovers) and `kconform clean`."""

    def create(self, config: RunConfig, prof: versions.Profile, mode: str, worker: str) -> Platform:
        """A ready platform; a cluster that cannot be reached or created raises MissingPrerequisite or
        InfrastructureFailure (the scenarios then error, they are never skipped)."""
        from kconform.platforms.kubernetes.connect import create_platform
        from kconform.platforms.kubernetes.settings import KubeSettings

        return create_platform(KubeSettings.from_run_config(config, prof, mode))

    def planned_cell(self, config: RunConfig, prof: versions.Profile, mode: str) -> Cell:
        """Before any cluster answered: a cluster kconform creates runs the profile's newest pinned Kubernetes."""
        from kconform.platforms.kubernetes.providers import PROVIDERS

        kubernetes = config.kubernetes
        provider = PROVIDERS.get(config.provider or "")
        if kubernetes is None and provider is not None and provider.creates_cluster and prof.kind_node_images:
            kubernetes = prof.kind_node_images[-1].kubernetes
        return Cell(config.platform, config.provider, kubernetes, prof.strimzi, prof.kafka_version, mode)

    def plan(self, config: RunConfig) -> list[PlanStep] | None:
        from kconform.platforms.kubernetes import runplan

        steps: list[Any] = runplan.build(runplan.plan_settings(config))
        return steps

    def doctor(self, provider: str | None, *, fetch_missing: bool) -> DoctorNeeds:
        """Helm always; a provider that creates its cluster needs the Docker engine and its own tool, one
        that uses the user's cluster a kubeconfig context."""
        from kconform.platforms.kubernetes.providers import PROVIDERS

        chosen = PROVIDERS.get(provider or "")
        if chosen is None or not chosen.docker:
            return DoctorNeeds(required=frozenset({"kubeconfig", "helm"}))
        return DoctorNeeds(required=frozenset({"docker engine", "helm", *chosen.tools}))


def with_context(config: RunConfig) -> RunConfig:
    """The run on the user's cluster with its kubeconfig context settled: --context, else the kubeconfig's
    current (or only) context. Passed on to pytest as --context; setup names it ("connect to the existing
    cluster of kubeconfig context ..."), so the run's output says which cluster it tested."""
    from kconform.platforms.kubernetes.kubeconfig import chosen_context

    return dataclasses.replace(config, context=chosen_context(config.context))


def run_settings(config: RunConfig) -> Any:
    """The settings of a run's cluster: its first profile, in its first selected mode."""
    from kconform.platforms.kubernetes.settings import KubeSettings

    prof = versions.profile(config.profiles[0])
    modes = [m for m in prof.modes if config.modes is None or m in config.modes] or list(prof.modes)
    return KubeSettings.from_run_config(config, prof, modes[0])


PLATFORM = KubernetesPlatformKind()
