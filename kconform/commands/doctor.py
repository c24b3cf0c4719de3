"""`kconform doctor`: what this machine has and lacks for each platform, with how to fix it."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from kconform import versions
from kconform.errors import KconformError, MissingPrerequisite
from kconform.platforms.kubernetes import shell, tools
from kconform.versions import PROFILES

MIN_MEMORY_GB = 8


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


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


def _maven() -> Check:
    path = shutil.which("mvn")
    if path:
        return Check("maven", True, path)
    return Check("maven", False, "mvn not on PATH", "apt-get install maven (it fetches the Kafka jars once)")


def _java_for(what: str, major: int) -> Check:
    from kconform.platforms.local.java import find_java

    try:
        found = find_java(major)
    except MissingPrerequisite as err:
        return Check(f"java {major}+ ({what})", False, "none found", str(err))
    return Check(f"java {major}+ ({what})", True, f"{found.executable} (Java {found.major})")


def _bridge(version: str) -> Check:
    from kconform.platforms.local.sidecar import bridge_home

    try:
        return Check(f"bridge {version}", True, str(bridge_home(version)))
    except MissingPrerequisite as err:
        return Check(f"bridge {version}", False, "distribution not found", str(err))


def _local_checks() -> dict[str, Callable[[], Check]]:
    """What the local platform needs for every pinned profile: Maven, the Javas, the bridge distributions."""
    needs: dict[str, Callable[[], Check]] = {"maven": _maven}
    for prof in PROFILES.values():
        needs[f"java-kafka-{prof.strimzi}"] = partial(
            _java_for, f"Kafka {prof.kafka_version}", prof.kafka_java
        )
        needs[f"java-bridge-{prof.strimzi}"] = partial(
            _java_for, f"bridge {prof.bridge_version}", prof.bridge_java
        )
        needs[f"bridge-{prof.strimzi}"] = partial(_bridge, prof.bridge_version)
    return needs


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


def checks_for(platform: str, provider: str, context: str | None) -> list[tuple[Check, bool]]:
    """(check, required for the chosen platform) pairs."""
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
    required: set[str] = set()
    if platform == "local":
        local = _local_checks()
        needs.update(local)
        required = {"java", *local}
    elif provider in ("kind", "minikube", "k3s"):
        required = {"docker engine", "helm"} | ({provider} if provider != "k3s" else set())
    else:
        required = {"kubeconfig", "helm"}
    return [(make(), name in required) for name, make in needs.items()]


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "doctor", help="check this machine's prerequisites"
    )
    parser.add_argument("--platform", default="kubernetes", choices=versions.PLATFORMS)
    parser.add_argument("--provider", default="kind", choices=versions.PROVIDERS)
    parser.add_argument("--context", default=None)
    return parser


def run(args: argparse.Namespace) -> int:
    results = checks_for(args.platform, args.provider, args.context)
    width = max(len(c.name) for c, _ in results)
    for check, required in results:
        state = "OK" if check.ok else ("MISSING" if required else "missing (optional)")
        line = f"{check.name:<{width}}  {state:<18}  {check.detail}"
        if not check.ok and check.fix:
            line += f"  -> {check.fix}"
        print(line)
    can_run = all(check.ok for check, required in results if required)
    where = args.platform if args.platform == "local" else f"{args.platform}/{args.provider}"
    print(f"\n{where}: {'ready' if can_run else 'cannot run here (see MISSING above)'}")
    return 0 if can_run else 2
