"""`kconform plan`: print every command and manifest a kubernetes run would execute, touching no cluster."""

from __future__ import annotations

import argparse
import json
from typing import Any

import yaml

from kconform import config as run_config
from kconform import options, versions
from kconform.errors import UsageError
from kconform.platforms.kubernetes import runplan
from kconform.platforms.kubernetes.settings import INSTALLED, KubeSettings, client_image_from
from kconform.schemas import SchemaSet


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan", help="print what a run would do (commands and validated manifests), without running it"
    )
    options.add_arguments(parser, "plan")
    parser.add_argument("--run-id", default="plan")
    parser.add_argument("--format", default="text", choices=("text", "json"))
    return parser


def settings_from(args: argparse.Namespace) -> KubeSettings:
    """The one cluster the options describe (option table: command line > environment > default), with the
    client pod's image and the mirror a run with this environment would use."""
    config = run_config.build(**options.given(args, "plan"), run_id=args.run_id)
    if len(config.profiles) != 1:
        raise UsageError(f"plan describes one cluster: pass one --profile ({', '.join(versions.PROFILES)})")
    profile, mode = config.cells()[0]
    provider = config.provider or "kind"
    return KubeSettings(
        profile=profile,
        run_id=config.run_id,
        provider=provider,
        mode=mode,
        install=config.install or (INSTALLED if provider == "existing" else "helm"),
        context=config.context or ("plan-context" if provider == "existing" else None),
        kubernetes_version=config.kubernetes,
        image_registry=config.image_registry,
        client_image=client_image_from(None, config.image_registry),
    )


def validated(steps: list[runplan.Step], schemas: SchemaSet) -> list[runplan.Step]:
    """Raise ManifestError on the first Strimzi manifest that does not match the profile's CRDs."""
    for step in steps:
        if step.manifest is not None and schemas.covers(step.manifest):
            schemas.validate(step.manifest)
    return steps


def render_text(steps: list[runplan.Step]) -> str:
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
    if platform != "kubernetes":
        raise UsageError(f"plan describes kubernetes runs, not {platform} ones: add --platform kubernetes")
    settings = settings_from(args)
    steps = validated(runplan.build(settings), SchemaSet.for_profile(settings.profile))
    if args.format == "json":
        print(json.dumps([s.as_dict() for s in steps], indent=1))
    else:
        print(render_text(steps), end="")
    return 0
