"""One frozen RunConfig: command line > environment (KCONFORM_*) > defaults, validated with clear errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from kconform import options, versions
from kconform import workflows as workflow_table
from kconform.errors import InvalidCombination, UsageError
from kconform.platforms import registry
from kconform.runconfig import RunConfig, new_run_id

__all__ = ["RunConfig", "build", "new_run_id"]


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
    given = dict(
        platform=platform,
        profiles=profiles,
        modes=modes,
        provider=provider,
        kubernetes=kubernetes,
        reports=reports,
        keep=keep,
        crd_dir=crd_dir,
        install=install,
        context=context,
        workflows=workflows,
        external_host=external_host,
        cluster_concurrency=cluster_concurrency,
        image_registry=image_registry,
    )
    values = options.resolve(given, env)
    chosen_platform = values["platform"]
    kind = registry.get(chosen_platform)  # its option defaults; an unknown name is one line
    chosen_profiles = values["profiles"] or kind.default_profiles()
    chosen_modes = values["modes"]
    chosen_provider = values["provider"] or kind.default_provider
    if chosen_provider is not None and chosen_provider not in options.PROVIDERS:
        raise InvalidCombination(
            f"unknown provider {chosen_provider!r}; choose one of: {', '.join(options.PROVIDERS)}"
        )
    if chosen_provider is not None and not kind.providers:
        raise InvalidCombination(
            f"--provider applies to --platform {', '.join(registry.with_providers())} only"
        )
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
        cluster_concurrency=_concurrency(values["cluster_concurrency"], kind.cluster_concurrency),
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
