"""`kconform doctor --platform local` reports the preflight's checks: what the local platform needs, per
profile, from the same code that stops `kconform run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from kconform.commands.doctor import checks_for
from kconform.versions import PROFILES


def test_local_requires_maven_javas_crds_and_bridges(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path))  # an empty cache: no bridge distribution
    monkeypatch.delenv("KCONFORM_BRIDGE_HOME", raising=False)
    checks = {check.name: (check, required) for check, required in checks_for("local", "kind", None)}
    bridges = ", ".join(p.bridge_version for p in PROFILES.values())
    bridge, required = checks[f"HTTP bridge {bridges}"]
    # Not downloaded yet, but downloadable: doctor says where it will go; `--fetch` fetches it now.
    assert required and bridge.ok and str(tmp_path / "bridge") in bridge.detail
    assert any(name.startswith("java 21+") and "HTTP bridge 1.1.0" in name for name in checks)
    assert checks["maven"][1]
    assert any(name.startswith("Strimzi CRDs") for name in checks)
    assert not checks["docker engine"][1]  # the local platform never needs Docker


def test_an_explicit_bridge_home_without_the_version_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path))
    monkeypatch.setenv("KCONFORM_BRIDGE_HOME", str(tmp_path / "nowhere"))
    checks = [check for check, _ in checks_for("local", "kind", None)]
    bridge = next(check for check in checks if check.name.startswith("HTTP bridge"))
    assert not bridge.ok and "KCONFORM_BRIDGE_HOME" in bridge.fix


def test_a_bridge_distribution_in_the_cache_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path))
    monkeypatch.delenv("KCONFORM_BRIDGE_HOME", raising=False)
    for prof in PROFILES.values():
        home = tmp_path / "bridge" / prof.bridge_version
        (home / "bin").mkdir(parents=True)
        (home / "libs").mkdir()
        (home / "bin" / "kafka_bridge_run.sh").write_text("#!/bin/sh\n")
    checks = [check for check, _ in checks_for("local", "kind", None)]
    bridge = next(check for check in checks if check.name.startswith("HTTP bridge"))
    assert bridge.ok and bridge.detail == ", ".join(
        str(tmp_path / "bridge" / p.bridge_version) for p in PROFILES.values()
    )
