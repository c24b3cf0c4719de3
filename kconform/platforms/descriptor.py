"""What a platform is, as the registry (kconform.platforms.registry) hands it out: the `PlatformKind`
protocol each platform package's `PLATFORM` object meets, and the shapes its answers take.

The platform packages import this module, never the registry (which imports them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kconform.checks import Check
from kconform.platforms.protocol import Cell, Platform
from kconform.runconfig import RunConfig
from kconform.versions import Profile


class PlanStep(Protocol):
    """One step of `kconform plan`: a command (argv), a manifest, or a URL whose documents are applied."""

    describe: str
    argv: list[str] | None
    manifest: dict[str, Any] | None
    url: str | None
    notes: tuple[str, ...]
    images: dict[str, str] | None

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DoctorNeeds:
    """What `kconform doctor` shows for a platform: its own checks (all required), which of the common
    checks (docker engine, kind, kubectl, helm, minikube, java, memory, kubeconfig) it requires, and which
    of them its own checks replace."""

    own: list[Check] = field(default_factory=list)
    required: frozenset[str] = frozenset()
    replaced: frozenset[str] = frozenset()


class PlatformKind(Protocol):
    """What one platform is, as the CLI, the plugin and the run's config need to know it."""

    name: str
    providers: tuple[str, ...]  # the --provider choices it takes; () when --provider does not apply
    default_provider: str | None
    cluster_concurrency: int  # --cluster-concurrency when not given
    terminate_grace_s: float  # after SIGTERM, how long pytest may take to remove what the run created
    setup_before_tests: bool  # each profile's platform set up once before the first test, outside its timeout
    fixture_setup_budgeted: bool  # a cluster's setup has its own budgets: pytest-timeout counts the test only
    fixed_node_ports: bool  # clusters share a fixed set of node ports (a block each), not free ports per call
    has_plan: bool  # `kconform plan` describes its runs

    def default_profiles(self) -> tuple[str, ...]:
        """The Strimzi versions a run covers when --profile is not given."""
        ...

    def check_run(
        self, config: RunConfig, *, workers: str | None, profile_asked: bool, checked_before: bool = False
    ) -> RunConfig:
        """Before any test: what this platform checks once per run; the config to run with. `workers` is the
        -n value when more than one worker would run; `checked_before` when `kconform run` already did this
        for the same run id (pytest started by it)."""
        ...

    def check_selection(self, profiles: Sequence[Profile], *, bridge: bool, crd_dir: Path | None) -> None:
        """What the selected tests of these profiles need (raise MissingPrerequisite, one line each)."""
        ...

    def clean_stale(self) -> None:
        """Remove what earlier runs left behind that this run would collide with."""
        ...

    def create(self, config: RunConfig, prof: Profile, mode: str, worker: str) -> Platform:
        """The platform of one profile; its `close` removes what this setup made (unless --keep)."""
        ...

    def planned_cell(self, config: RunConfig, prof: Profile, mode: str) -> Cell:
        """The cell a run meant to test, for a record written before the platform answered."""
        ...

    def plan(self, config: RunConfig) -> list[PlanStep] | None:
        """Every command and validated manifest a run would execute, or None when this platform has no plan."""
        ...

    def doctor(self, provider: str | None, *, fetch_missing: bool) -> DoctorNeeds: ...
