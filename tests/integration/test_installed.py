"""kconform as users install it: the wheel (built from the sdist) in a fresh venv outside the checkout, every
command run from an unrelated folder, and a user's own project on the entry-point plugin.

The venv is built once per session and shared by these tests (one xdist group). Its dependencies come from
a wheelhouse in kconform's cache (`~/.cache/kconform/wheelhouse`, filled from PyPI the first time, then
offline), so a warm run installs in seconds; nothing of the checkout is on the venv's sys.path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from kconform import options, paths, versions
from kconform.report import read_conformance

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("installed-wheel")]

CHECKOUT = Path(__file__).resolve().parents[2]
README = CHECKOUT / "README.md"
SOURCE_FILES = ("pyproject.toml", "setup.py", "README.md", "kconform", "fixtures", "scenarios", "manifests")
BUILD_TIMEOUT_S = 600.0
INSTALL_TIMEOUT_S = 900.0
RUN_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path
    sdist: Path
    env: Mapping[str, str]
    home: Path  # an unrelated folder the commands run in

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(
        self, *argv: str, cwd: Path | None = None, timeout: float = 300.0
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            cwd=cwd or self.home,
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _wheelhouse_install(python: str, wheel: Path) -> None:
    """Install the wheel with its dependencies from the wheelhouse; fill the wheelhouse from PyPI first
    when it lacks something (pip's own cache may be off on a CI machine)."""
    house = paths.cache_dir() / "wheelhouse"
    house.mkdir(parents=True, exist_ok=True)
    offline = [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(house), str(wheel)]
    with FileLock(str(house) + ".lock", timeout=INSTALL_TIMEOUT_S):
        first = subprocess.run(
            offline, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
        if first.returncode == 0:
            return
        _run([python, "-m", "pip", "wheel", "-q", "--wheel-dir", str(house), str(wheel)], INSTALL_TIMEOUT_S)
        for own in house.glob("kconform-*.whl"):
            own.unlink()  # only dependencies are kept: each run installs the wheel it just built
    _run(offline, INSTALL_TIMEOUT_S)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("installed")
    # Built from a copy of what the sdist is made of, so the build writes nothing into the checkout.
    source = work / "source"
    for name in SOURCE_FILES:
        if (CHECKOUT / name).is_dir():
            shutil.copytree(CHECKOUT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(CHECKOUT / name, source / name)
    dist = work / "dist"
    # sdist first, then the wheel built from the sdist: both carry what a run needs
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], BUILD_TIMEOUT_S)
    (wheel,) = dist.glob("kconform-*.whl")
    (sdist,) = dist.glob("kconform-*.tar.gz")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], 120)
    _wheelhouse_install(str(venv / "bin" / "python"), wheel)
    home = work / "elsewhere"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KCONFORM_", "PYTHON", "PYTEST_", "VIRTUAL_ENV"))
    }
    crds = paths.default_crd_root()
    assert crds is not None, (
        "no Strimzi CRDs: ../shared/strimzi-crds or `kconform doctor --platform local --fetch`"
    )
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        KCONFORM_CACHE=str(paths.cache_dir()),  # the Kafka jars (and bridge, tools) already fetched
        KCONFORM_CRD_DIR=str(crds),
        KUBECONFIG=str(work / "no-kubeconfig"),  # nothing here may reach a real cluster
    )
    return Installed(venv=venv, wheel=wheel, sdist=sdist, env=env, home=home)


def test_the_wheel_carries_everything_and_no_generic_name(installed: Installed) -> None:
    import zipfile

    names = zipfile.ZipFile(installed.wheel).namelist()
    top = {name.split("/", 1)[0] for name in names if not name.startswith("kconform-")}
    assert top == {"kconform", "kconform_fixtures", "kconform_scenarios", "kconform_manifests"}
    for needed in (
        "kconform_fixtures/plugin.py",
        "kconform_scenarios/kconform-run.ini",
        "kconform_manifests/kind/cluster.yaml",
        "kconform_manifests/clients/entry.py",
        "kconform_manifests/sidecar/bridge.properties",
        "kconform/clients/remote.py",  # the client pod's shipped code
        "kconform/py.typed",
    ):
        assert needed in names
    scenarios = {Path(n).name for n in names if n.startswith("kconform_scenarios/test_")}
    assert scenarios == {p.name for p in (CHECKOUT / "scenarios").glob("test_*.py")}
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert "[pytest11]\nkconform = kconform_fixtures.plugin" in text


def test_nothing_of_the_checkout_is_imported_and_fixtures_is_not_a_name(installed: Installed) -> None:
    probe = installed.run(
        installed.bin("python"),
        "-c",
        "import json, sys, kconform, kconform_fixtures.plugin, kconform_scenarios, kconform_manifests\n"
        "from kconform import paths\n"
        "print(json.dumps({'files': [m.__file__ for m in (kconform, kconform_fixtures, kconform_scenarios, "
        "kconform_manifests)], 'checkout': str(paths.CHECKOUT_ROOT), 'path': sys.path}))",
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert all(f.startswith(str(installed.venv)) for f in found["files"]), found["files"]
    assert found["checkout"] == "None"
    assert not [p for p in found["path"] if p and str(CHECKOUT) in p]
    for generic in ("fixtures", "scenarios", "manifests"):
        refused = installed.run(installed.bin("python"), "-c", f"import {generic}")
        assert refused.returncode == 1 and f"No module named '{generic}'" in refused.stderr


def test_every_command_works_from_an_unrelated_folder(installed: Installed) -> None:
    version = installed.run(installed.bin("kconform"), "--version")
    assert version.returncode == 0 and version.stdout.startswith("kconform ")
    for prof in versions.PROFILES.values():
        assert f"strimzi {prof.strimzi}" in version.stdout and prof.kafka_version in version.stdout

    for provider in options.PROVIDERS:
        for strimzi in versions.PROFILES:
            plan = installed.run(
                installed.bin("kconform"),
                *("plan", "--platform", "kubernetes", "--provider", provider, "--profile", strimzi),
                *("--format", "json"),
            )
            assert plan.returncode == 0, f"{provider} {strimzi}: {plan.stderr}"
            kinds = [step.get("manifest", {}).get("kind") for step in json.loads(plan.stdout)]
            assert "Kafka" in kinds, (provider, strimzi)

    matrix = installed.run(installed.bin("kconform"), "matrix")
    assert matrix.returncode == 0 and re.search(r"^\d+ cells; kind v", matrix.stdout, re.MULTILINE)

    doctor = installed.run(installed.bin("kconform"), "doctor", "--platform", "local")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "local: ready" in doctor.stdout

    clean = installed.run(installed.bin("kconform"), "clean", "--run-id", "installed-test")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "namespaces: skipped" in clean.stdout  # no cluster reachable: nothing touched
    assert sorted(p.name for p in installed.home.iterdir()) == []  # no stray files in the user's folder


def test_kconform_run_writes_its_reports_in_the_users_folder(installed: Installed, tmp_path: Path) -> None:
    """Real Kafka processes: one workflow in one cell, from a folder that is not the checkout."""
    folder = tmp_path / "team"
    folder.mkdir()
    run = installed.run(
        installed.bin("kconform"),
        *(
            "run",
            "--platform",
            "local",
            "--profile",
            "1.2.0",
            "--mode",
            "kraft",
            "--workflow",
            "tls-listener",
        ),
        cwd=folder,
        timeout=RUN_TIMEOUT_S,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    reports = folder / "reports"
    for name in ("conformance.json", "junit.xml", "index.html", "badge.svg", "badge.json"):
        assert (reports / name).is_file(), name
    record = read_conformance(reports / "conformance.json")
    assert record.results and {r.status.value for r in record.results} == {"passed"}
    assert {r.workflow for r in record.results} == {"tls-listener"}
    assert all(r.nodeid.startswith("kconform_scenarios/test_tls_listener.py::") for r in record.results)
    assert {(r.cell["platform"], r.cell["strimzi"], r.cell["mode"]) for r in record.results} == {
        ("local", "1.2.0", "kraft")
    }

    merged = installed.run(
        installed.bin("kconform"), "report", "reports", "--out", "merged", "--format", "markdown", cwd=folder
    )
    assert merged.returncode == 0, merged.stderr
    assert "| tls-listener | ✅" in merged.stdout and (folder / "merged" / "index.html").is_file()


def _readme_example() -> str:
    """The plugin example of README.md (the python block that starts `# tests/test_payments_rules.py`)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    (example,) = [b for b in blocks if b.startswith("# tests/test_payments_rules.py\n")]
    return str(example)


def test_a_users_project_runs_the_readme_example_on_plain_pytest(
    installed: Installed, tmp_path: Path
) -> None:
    """A user's repository: one test module on kconform's fixtures, no conftest, only the installed
    plugin; plain `pytest` with kconform's options on the local platform (real Kafka)."""
    project = tmp_path / "payments"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_payments_rules.py").write_text(_readme_example())
    assert not list(project.rglob("conftest.py"))
    run = installed.run(
        installed.bin("pytest"),
        *("tests", "--platform", "local", "--profile", "1.2.0", "--mode", "kraft", "-p", "no:cacheprovider"),
        cwd=project,
        timeout=RUN_TIMEOUT_S,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert re.search(r"\b2 passed\b", run.stdout), run.stdout[-2000:]
    record = read_conformance(project / "reports" / "conformance.json")
    assert [(r.workflow, r.status.value) for r in record.results] == [("payments-rules", "passed")] * 2
    assert (project / "reports" / "junit.xml").is_file()
    assert shutil.which("kconform", path=installed.env["PATH"]) == installed.bin("kconform")
