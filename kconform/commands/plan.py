"""`kconform plan`: print every command and manifest a run would execute (on a platform that plans its
runs, the kubernetes one), touching no cluster."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

import yaml

from kconform import config as run_config
from kconform import options, versions
from kconform.errors import UsageError
from kconform.platforms import registry
from kconform.platforms.descriptor import PlanStep
from kconform.schemas import SchemaSet


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan", help="print what a run would do (commands and validated manifests), without running it"
    )
    options.add_arguments(parser, "plan")
    parser.add_argument("--run-id", default="plan")
    parser.add_argument("--format", default="text", choices=("text", "json"))
    return parser


def _config(args: argparse.Namespace) -> run_config.RunConfig:
    """The run the options describe (option table: command line > environment > default)."""
    config = run_config.build(**options.given(args, "plan"), run_id=args.run_id)
    if len(config.profiles) != 1:
        raise UsageError(f"plan describes one cluster: pass one --profile ({', '.join(versions.PROFILES)})")
    return config


def validated(steps: Sequence[PlanStep], schemas: SchemaSet) -> list[PlanStep]:
    """Raise ManifestError on the first Strimzi manifest that does not match the profile's CRDs."""
    for step in steps:
        if step.manifest is not None and schemas.covers(step.manifest):
            schemas.validate(step.manifest)
    return list(steps)


def render_text(steps: Sequence[PlanStep]) -> str:
    blocks = []
    for number, step in enumerate(steps, 1):
        lines = [f"# {number}. {step.describe}"] + [f"#    {note}" for note in step.notes]
        if step.argv is not None:
            lines.append("$ " + " ".join(step.argv))
        if step.url is not None:
            lines.append(f"# apply every document of {step.url}")
        for role, reference in (step.images or {}).items():
            lines.append(f"#    {reference}    ({role})")
        if step.manifest is not None:
            lines.append(yaml.safe_dump(step.manifest, sort_keys=False).rstrip())
        blocks.append("\n".join(lines))
    return "\n---\n".join(blocks) + "\n"


def run(args: argparse.Namespace) -> int:
    platform = options.resolve(options.given(args, "plan"))["platform"]
    planned = registry.with_plan()
    if platform not in planned:
        raise UsageError(
            f"plan describes {' or '.join(planned)} runs, not {platform} ones: add --platform {planned[0]}"
        )
    config = _config(args)
    steps = registry.get(config.platform).plan(config) or []
    steps = validated(steps, SchemaSet.for_profile(versions.profile(config.profiles[0])))
    if args.format == "json":
        print(json.dumps([s.as_dict() for s in steps], indent=1))
    else:
        print(render_text(steps), end="")
    return 0
