"""The platform registry: every place that asks "which platform?" asks here, never compares names.

Each platform package exports one object (`PLATFORM` in its `__init__`) that describes the platform: its
name, its option defaults, its checks before a run, how its Platform is created (the Platform's `close`
removes what its setup made), the cell a run meant to test, and its plan. The CLI, the pytest plugin and
`kconform.config` look the object up by the `--platform` value.

A new platform is a package with a `PLATFORM` object, one line in `KNOWN` below, its name among the
`--platform` choices in `kconform.options` (and any options of its own), and its package in the
"platforms do not know each other" contract in pyproject.toml.
"""

from __future__ import annotations

from kconform.errors import InvalidCombination
from kconform.platforms import kubernetes, local
from kconform.platforms.descriptor import DoctorNeeds, PlanStep, PlatformKind
from kconform.platforms.protocol import Cell
from kconform.runconfig import RunConfig
from kconform.versions import Profile

__all__ = ["DoctorNeeds", "PlanStep", "PlatformKind", "get", "names"]


KNOWN: tuple[PlatformKind, ...] = (local.PLATFORM, kubernetes.PLATFORM)
_BY_NAME = {kind.name: kind for kind in KNOWN}


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def get(name: str) -> PlatformKind:
    """The platform called `name`, or one line listing the valid choices."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InvalidCombination(f"unknown platform {name!r}; choose one of: {', '.join(_BY_NAME)}") from None


def with_providers() -> tuple[str, ...]:
    return tuple(kind.name for kind in KNOWN if kind.providers)


def with_plan() -> tuple[str, ...]:
    """Platforms whose runs `kconform plan` describes (it asks each whether it has a plan)."""
    return tuple(kind.name for kind in KNOWN if kind.has_plan)


def cell_of(config: RunConfig, prof: Profile, mode: str) -> Cell:
    """The cell of a run's test as the options describe it (before any platform answered)."""
    return Cell(config.platform, config.provider, config.kubernetes, prof.strimzi, prof.kafka_version, mode)
