"""`kconform doctor`: what this machine has and lacks for each platform, with how to fix it."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from typing import Any

from kconform import config as run_config
from kconform import options
from kconform.checks import Check
from kconform.errors import KconformError
from kconform.platforms import registry
from kconform.platforms.kubernetes import shell, tools

MIN_MEMORY_GB = 8


def _tool(name: str) -> Check:
    path = shutil.which(name)
    if path:
        return Check(name, True, path)
    version = tools.PINNED_VERSIONS.get(name)
    cached = tools.cached_path(name, version) if version else None
    if cached is not None and cached.is_file():
        return Check(name, True, f"{cached} (kconform's tool cache)")
    system, arch = tools.host_platform()
    if (name, system, arch) in tools.DOWNLOADS:
        return Check(name, True, "not on PATH; a pinned, checksum-verified copy is downloaded on first use")
    return Check(name, False, "not on PATH", f"install it: {tools.INSTALL_HINTS.get(name, '')}")


def _docker() -> Check:
    try:
        tools.check_docker()
    except KconformError as err:
        return Check("docker engine", False, "not usable", str(err))
    return Check("docker engine", True, "`docker info` answers")


def _java() -> Check:
    path = shutil.which("java")
    if not path:
        return Check(
            "java",
            False,
            "not on PATH",
            "install a JDK 17+ (local platform) e.g. apt-get install openjdk-21-jre",
        )
    return Check("java", True, path)


def _memory() -> Check:
    try:
        total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return Check("memory", True, "unknown")
    ok = total_gb >= MIN_MEMORY_GB
    return Check(
        "memory",
        ok,
        f"{total_gb:.1f} GiB",
        "" if ok else f"a kind cluster with Kafka wants {MIN_MEMORY_GB} GiB",
    )


def _kubeconfig(context: str | None) -> Check:
    argv = ["kubectl", "config", "get-contexts", "-o", "name"]
    if not shutil.which("kubectl"):
        return Check("kubeconfig", False, "kubectl missing, cannot list contexts", "install kubectl")
    try:
        names = shell.run(argv, timeout=20).split()
    except KconformError:
        names = []
    if context:
        ok = context in names
        return Check(
            "kubeconfig",
            ok,
            f"context {context} {'found' if ok else 'missing'}",
            "" if ok else "kubectl config get-contexts",
        )
    return Check(
        "kubeconfig",
        bool(names),
        f"{len(names)} context(s)",
        "" if names else "only needed for --provider existing",
    )


def checks_for(
    platform: str, provider: str, context: str | None, *, fetch_missing: bool = False
) -> list[tuple[Check, bool]]:
    """(check, required for the chosen platform) pairs: the platform's own checks, then the common ones it
    requires or not; `fetch_missing` downloads what the platform fetches on first use (the local platform:
    CRDs, bridge, Kafka jars) instead of only saying it will."""
    needs: dict[str, Callable[[], Check]] = {
        "docker engine": _docker,
        "kind": lambda: _tool("kind"),
        "kubectl": lambda: _tool("kubectl"),
        "helm": lambda: _tool("helm"),
        "minikube": lambda: _tool("minikube"),
        "java": _java,
        "memory": _memory,
        "kubeconfig": lambda: _kubeconfig(context),
    }
    wanted = registry.get(platform).doctor(provider or None, fetch_missing=fetch_missing)
    for tool in sorted(wanted.required - needs.keys()):  # a provider's own tool
        needs[tool] = lambda tool=tool: _tool(tool)  # type: ignore[misc]
    common = [
        (make(), name in wanted.required) for name, make in needs.items() if name not in wanted.replaced
    ]
    return [(check, True) for check in wanted.own] + common


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "doctor", help="check this machine's prerequisites"
    )
    options.add_arguments(parser, "doctor")
    parser.add_argument(
        "--fetch",
        action="store_true",
        help="download now what the local platform fetches on first use (CRDs, bridge, Kafka jars)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    config = run_config.build(**options.given(args, "doctor"))
    results = checks_for(config.platform, config.provider or "", config.context, fetch_missing=args.fetch)
    width = max(len(c.name) for c, _ in results)
    for check, required in results:
        state = "OK" if check.ok else ("MISSING" if required else "missing (optional)")
        line = f"{check.name:<{width}}  {state:<18}  {check.detail}"
        if not check.ok and check.fix:
            line += f"  -> {check.fix}"
        print(line)
    can_run = all(check.ok for check, required in results if required)
    where = f"{config.platform}/{config.provider}" if config.provider else config.platform
    print(f"\n{where}: {'ready' if can_run else 'cannot run here (see MISSING above)'}")
    return 0 if can_run else 2
