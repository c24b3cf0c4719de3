"""Every Debian package a test tier asks for by name is one .ci/run installs: a fresh CI machine has only
what .ci/apt-packages.txt lists (a package installed here by hand once hid the node tier's `conntrack`)."""

from __future__ import annotations

from pathlib import Path

from tests.node import build as node_build

ROOT = Path(__file__).resolve().parents[2]
ESSENTIAL = {"util-linux"}  # Debian's Essential: yes packages, on every Debian or Ubuntu machine


def listed_packages() -> set[str]:
    lines = (ROOT / ".ci" / "apt-packages.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_the_node_tiers_host_packages_are_installed_by_ci() -> None:
    wanted = set(node_build.HOST_COMMANDS.values()) | {"containernetworking-plugins"}
    assert wanted - ESSENTIAL - listed_packages() == set()
