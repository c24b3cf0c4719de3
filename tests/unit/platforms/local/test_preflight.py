"""The preflight's one line for each missing piece, and its exit 2 before any test from `kconform run`
and from plain pytest (with and without xdist workers)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kconform import paths
from kconform.errors import MissingPrerequisite
from kconform.paths import default_crd_root
from kconform.platforms.local import local_preflight as preflight
from kconform.versions import PROFILES
from tests.support.cli import environment, run_module

V1 = PROFILES["1.2.0"]
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A newcomer's machine: empty cache, nothing configured, no ../shared beside the project."""
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path / "cache"))
    for name in ("KCONFORM_CRD_DIR", "KCONFORM_BRIDGE_HOME", "KCONFORM_JAVA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KCONFORM_STRIMZI_URL", CLOSED_PORT_URL)
    monkeypatch.setenv("KCONFORM_BRIDGE_URL", CLOSED_PORT_URL)
    monkeypatch.setattr(paths, "CHECKOUT_ROOT", tmp_path / "fresh-clone")
    return tmp_path


def _lines(bridge: bool = True) -> list[str]:
    with pytest.raises(MissingPrerequisite) as caught:
        preflight.require_local([V1], bridge=bridge)
    return str(caught.value).splitlines()


def test_no_crds_reachable_is_one_line_naming_the_url_and_the_variable(fresh: Path) -> None:
    lines = [line for line in _lines(bridge=False) if line.startswith("Strimzi CRDs")]
    assert len(lines) == 1
    assert f"{CLOSED_PORT_URL}/1.2.0/packaging/install/cluster-operator/" in lines[0]
    assert "KCONFORM_CRD_DIR" in lines[0]


def test_no_bridge_is_one_line_naming_the_url_the_cache_folder_and_the_variable(fresh: Path) -> None:
    lines = [line for line in _lines() if line.startswith("HTTP bridge")]
    assert len(lines) == 1
    assert f"{CLOSED_PORT_URL}/1.1.0/kafka-bridge-1.1.0.tar.gz.sha512" in lines[0]
    assert "KCONFORM_BRIDGE_HOME" in lines[0] and str(fresh / "cache" / "bridge") in lines[0]


def test_the_bridge_is_not_needed_when_not_selected(fresh: Path) -> None:
    assert not any(line.startswith("HTTP bridge") for line in _lines(bridge=False))


def test_no_java_is_one_line_naming_the_version_and_the_variable(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KCONFORM_JAVA_HOME", str(fresh / "no-jdk"))
    lines = [line for line in _lines() if line.startswith("java ")]
    assert [line.split(":")[0] for line in lines] == [
        "java 17+ (Kafka 4.3.1)",
        "java 21+ (HTTP bridge 1.1.0)",
    ]
    assert all("KCONFORM_JAVA_HOME" in line for line in lines)


def test_no_maven_with_uncached_jars_is_one_line(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = fresh / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no mvn (Java is still found under /usr/lib/jvm)
    lines = [line for line in _lines() if line.startswith("maven")]
    assert lines == [
        "maven: mvn is not on PATH and the Kafka 4.3.1 jars are not cached: apt-get install maven "
        "(or put a Maven 3 bin/ folder on PATH)"
    ]


def test_too_little_free_disk_is_one_line_naming_the_cache_variable(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "MIN_FREE_GIB", 1e9)  # more than any disk has
    lines = [line for line in _lines() if line.startswith("free disk")]
    assert len(lines) == 1 and "KCONFORM_CACHE" in lines[0] and str(fresh / "cache") in lines[0]


def test_an_explicit_crd_folder_is_never_downloaded_into(fresh: Path) -> None:
    with pytest.raises(MissingPrerequisite) as caught:
        preflight.require_local([V1], bridge=False, crd_dir=fresh / "mine")
    line = next(line for line in str(caught.value).splitlines() if line.startswith("Strimzi CRDs"))
    assert f"--crd-dir={fresh / 'mine'}" in line and CLOSED_PORT_URL not in line


def test_everything_missing_is_at_most_three_lines(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _lines()
    assert len(lines) <= 3, lines  # CRDs of every profile in one line, every bridge in one line


# --- exit 2 before any test, from the real entry points -------------------------------------------------


def _pytest(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Plain pytest with none of this machine's KCONFORM_* settings and an empty cache of its own."""
    plain = {k: v for k, v in os.environ.items() if not k.startswith("KCONFORM_")}
    return run_module(
        "pytest",
        "-p",
        "no:cacheprovider",
        "--reports",
        str(tmp_path / "r"),
        *args,
        env=environment(plain, **env, KCONFORM_CACHE=str(tmp_path / "cache")),
        timeout=180,
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_plain_pytest_exits_2_with_one_line_and_runs_no_test(tmp_path: Path, workers: list[str]) -> None:
    result = _pytest(
        tmp_path,
        "scenarios/test_tls_listener.py",
        "--profile",
        "1.2.0",
        *workers,
        KCONFORM_CRD_DIR=str(tmp_path / "no-crds"),
    )
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert (
        f"kconform: Strimzi CRDs 1.2.0: no CRDs for Strimzi 1.2.0: {tmp_path / 'no-crds' / '1.2.0'}" in output
    )
    assert (
        " passed" not in output and " failed" not in output and "error" not in output.lower().split("!")[-1]
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_deselected_bridge_tests_do_not_need_the_bridge(tmp_path: Path, workers: list[str]) -> None:
    shared = str(default_crd_root())
    common = ("scenarios", "--profile", "1.2.0", "--setup-plan", *workers)
    missing = {"KCONFORM_CRD_DIR": shared, "KCONFORM_BRIDGE_HOME": str(tmp_path / "no-bridge")}
    without = _pytest(tmp_path, *common, "-m", "not bridge", **missing)
    assert without.returncode == 0, without.stdout[-3000:] + without.stderr[-2000:]
    only = _pytest(tmp_path, *common, "-m", "bridge", **missing)
    assert only.returncode == 2, only.stdout[-3000:] + only.stderr[-2000:]
    assert "kconform: HTTP bridge 1.1.0: the Strimzi HTTP bridge 1.1.0 distribution was not found" in (
        only.stdout + only.stderr
    )
