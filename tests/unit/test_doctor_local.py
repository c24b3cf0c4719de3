"""`kconform doctor --platform local` checks what the local platform really needs, per profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from kconform.commands.doctor import checks_for
from kconform.versions import PROFILES


def test_local_requires_maven_javas_and_bridges(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path))  # an empty cache: no bridge distribution
    monkeypatch.delenv("KCONFORM_BRIDGE_HOME", raising=False)
    checks = {check.name: (check, required) for check, required in checks_for("local", "kind", None)}
    for prof in PROFILES.values():
        bridge, required = checks[f"bridge {prof.bridge_version}"]
        assert required and not bridge.ok
        assert "not on Maven Central" in bridge.fix and str(tmp_path) in bridge.fix
        assert checks[f"java {prof.bridge_java}+ (bridge {prof.bridge_version})"][1]
    assert checks["maven"][1]
    assert not checks["docker engine"][1]  # the local platform never needs Docker


def test_a_bridge_distribution_in_the_cache_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path))
    monkeypatch.delenv("KCONFORM_BRIDGE_HOME", raising=False)
    prof = next(iter(PROFILES.values()))
    home = tmp_path / "bridge" / prof.bridge_version
    (home / "bin").mkdir(parents=True)
    (home / "libs").mkdir()
    (home / "bin" / "kafka_bridge_run.sh").write_text("#!/bin/sh\n")
    checks = {check.name: check for check, _ in checks_for("local", "kind", None)}
    assert checks[f"bridge {prof.bridge_version}"].ok
