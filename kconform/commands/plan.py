"""`kconform plan`: print every command and manifest a kubernetes run would execute, touching no cluster."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import yaml

from kconform import versions
from kconform.errors import UsageError
from kconform.platforms.kubernetes import runplan
from kconform.platforms.kubernetes.settings import INSTALLED, KubeSettings, client_image_from
from kconform.schemas import SchemaSet


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan", help="print what a run would do (commands and validated manifests), without running it"
    )
    parser.add_argument("--platform", default="kubernetes", choices=versions.PLATFORMS)
    parser.add_argument("--provider", default="kind", choices=versions.PROVIDERS)
    parser.add_argument("--profile", default=versions.DEFAULT_PROFILE, help="Strimzi version")
    parser.add_argument("--mode", default=None, help="metadata mode (default: the profile's first)")
    parser.add_argument(
        "--install",
        default=None,
        choices=("helm", "yaml"),
        help="how kconform installs Strimzi (default: helm; on provider existing the installed one is tested)",
    )
    parser.add_argument("--context", default=None, help="kubeconfig context (provider existing)")
    parser.add_argument(
        "--kubernetes",
        "--kubernetes-version",
        dest="kubernetes_version",
        default=None,
        help="Kubernetes version of a created cluster (default: the profile's newest pinned one)",
    )
    parser.add_argument(
        "--image-registry",
        default=None,
        help="pull every image from this registry mirror (env KCONFORM_IMAGE_REGISTRY)",
    )
    parser.add_argument("--run-id", default="plan")
    parser.add_argument("--format", default="text", choices=("text", "json"))
    return parser


def settings_from(args: argparse.Namespace) -> KubeSettings:
    """The settings a run with these options and this environment would use (the client pod's image and
    the mirror from KCONFORM_* as `kconform run` reads them)."""
    profile = versions.profile(args.profile)
    mode = args.mode or profile.modes[0]
    versions.check_mode(profile, mode)
    registry = getattr(args, "image_registry", None) or os.environ.get("KCONFORM_IMAGE_REGISTRY") or None
    return KubeSettings(
        profile=profile,
        run_id=args.run_id,
        provider=args.provider,
        mode=mode,
        install=args.install or (INSTALLED if args.provider == "existing" else "helm"),
        context=args.context or ("plan-context" if args.provider == "existing" else None),
        kubernetes_version=args.kubernetes_version,
        image_registry=registry,
        client_image=client_image_from(os.environ, registry),
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
    if args.platform != "kubernetes":
        raise UsageError("plan describes kubernetes runs; use --platform kubernetes")
    settings = settings_from(args)
    steps = validated(runplan.build(settings), SchemaSet.for_profile(settings.profile))
    if args.format == "json":
        print(json.dumps([s.as_dict() for s in steps], indent=1))
    else:
        print(render_text(steps), end="")
    return 0
