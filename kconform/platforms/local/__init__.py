"""The local platform: real Kafka (and ZooKeeper) and the real HTTP bridge as processes on this machine.

`PLATFORM` is what the registry (kconform.platforms.registry) knows of it. This module stays light: what
runs Kafka is imported when a platform is created.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kconform import versions
from kconform.platforms.descriptor import DoctorNeeds, PlanStep
from kconform.platforms.protocol import Cell, Platform
from kconform.runconfig import RunConfig


class LocalPlatformKind:
    name = "local"
    providers: tuple[str, ...] = ()
    default_provider: str | None = None
    # The JVMs' start is CPU-bound: 4 at once on 2 cores (8 with -n 2) took longer than 2, whose starts
    # overlap the first cluster's tests (README, "Performance").
    cluster_concurrency = 2
    terminate_grace_s = 30.0  # local processes stop in seconds
    setup_before_tests = False
    fixture_setup_budgeted = False
    fixed_node_ports = False  # free ports of this machine, handed out per call
    has_plan = False

    def default_profiles(self) -> tuple[str, ...]:
        return tuple(versions.PROFILES)  # processes of every profile fit one machine

    def check_run(
        self, config: RunConfig, *, workers: str | None, profile_asked: bool, checked_before: bool = False
    ) -> RunConfig:
        return config  # what a local run needs depends on the selected tests: check_selection

    def check_selection(
        self, profiles: Sequence[versions.Profile], *, bridge: bool, crd_dir: Path | None
    ) -> None:
        from kconform.platforms.local.local_preflight import require_local

        require_local(profiles, bridge=bridge, crd_dir=crd_dir)

    def clean_stale(self) -> None:
        from kconform.platforms.local.processes import sweep_stale

        sweep_stale(log=lambda _line: None)

    def create(self, config: RunConfig, prof: versions.Profile, mode: str, worker: str) -> Platform:
        from kconform.platforms.local.local_platform import LocalPlatform
        from kconform.schemas import SchemaSet

        schemas = SchemaSet.for_profile(prof, config.crd_dir)
        log_dir = Path(config.reports).resolve() / "logs" / f"strimzi-{prof.strimzi}-{worker}"
        return LocalPlatform(prof, run_id=config.run_id, log_dir=log_dir, schemas=schemas, keep=config.keep)

    def planned_cell(self, config: RunConfig, prof: versions.Profile, mode: str) -> Cell:
        return Cell(
            config.platform, config.provider, config.kubernetes, prof.strimzi, prof.kafka_version, mode
        )

    def plan(self, config: RunConfig) -> list[PlanStep] | None:
        return None

    def doctor(self, provider: str | None, *, fetch_missing: bool) -> DoctorNeeds:
        from kconform.platforms.local import local_preflight as preflight

        profiles = list(versions.PROFILES.values())
        checks = preflight.local_checks(profiles, bridge=True, fetch_missing=fetch_missing)
        if fetch_missing and all(check.ok for check in checks):
            checks += preflight.fetch_jars(profiles)
        # The preflight names each Java version the local platform needs; the other checks are optional.
        return DoctorNeeds(own=checks, replaced=frozenset({"java"}))


PLATFORM = LocalPlatformKind()
