"""A newcomer's first run: a copy of the project with nothing beside it, an empty HOME (so an empty cache)
and no KCONFORM_* settings. Whatever cannot be fetched stops `kconform run` before any test, with exit 2
and at most three lines naming it and the variable that overrides it, well within a minute.

The download URLs point at a closed port on 127.0.0.1, so the check means the same on a machine that can
reach GitHub and Maven Central as on one that cannot.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from kconform.paths import PROJECT_ROOT
from tests.support.cli import run_module

PROJECT_FILES = (
    "kconform",
    "fixtures",
    "scenarios",
    "manifests",
    "conftest.py",
    "pyproject.toml",
    "setup.py",
)
UNREACHABLE = "http://127.0.0.1:9"


def test_a_first_run_without_prerequisites_stops_within_a_minute_naming_the_fixes(tmp_path: Path) -> None:
    clone = tmp_path / "fresh-clone" / "kconform"
    for name in PROJECT_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            clone.parent.mkdir(parents=True, exist_ok=True)
            clone.mkdir(exist_ok=True)
            shutil.copy2(source, clone / name)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCONFORM_") and k != "XDG_CACHE_HOME"}
    env.update(
        HOME=str(home),
        PYTHONPATH=str(clone),
        KCONFORM_STRIMZI_URL=UNREACHABLE,
        KCONFORM_BRIDGE_URL=UNREACHABLE,
    )
    started = time.monotonic()
    result = run_module("kconform", "run", "--platform", "local", env=env, cwd=clone)
    elapsed = time.monotonic() - started
    print(f"first run stopped after {elapsed:.1f} s")
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert elapsed < 60
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3, lines
    assert result.stdout == ""  # pytest never started
    crd_line = next(line for line in lines if "Strimzi CRDs" in line)
    assert UNREACHABLE in crd_line and "KCONFORM_CRD_DIR" in crd_line
    bridge_line = next(line for line in lines if "HTTP bridge" in line)
    assert UNREACHABLE in bridge_line and "KCONFORM_BRIDGE_HOME" in bridge_line
    assert not (home / ".cache" / "kconform" / "crds" / "1.2.0" / "040-Crd-kafka.yaml").exists()
