"""`kconform run --platform kubernetes` on a real Docker engine whose clusters cannot be created.

A real kind v0.31.0 and a real k3s container (testcontainers' K3SContainer) are asked for a node image that
no registry has, so the pull fails as it does on a machine without registry access; this is the
infrastructure failure (issue 8, point 4 and its "Done when"): exit 3, the cell inconclusive in
conformance.json, the cluster tried once, a short summary, and nothing left behind. Each run has its own
cluster name, so a user's `kconform` cluster and other runs are never touched.

The Strimzi install files come from KCONFORM_STRIMZI_FILES: the real CRDs of the profile, and a placeholder
for the release YAML that is never applied here (the cluster never exists). `.ci/run` starts dockerd and
builds kind into kconform's tool cache; without a running engine these tests fail, they never skip.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from kconform import paths
from kconform.platforms.kubernetes import tools
from kconform.report import read_conformance
from tests.support.cli import containers, environment, output_lines, run_module

pytestmark = pytest.mark.infrastructure
PROFILE = "1.2.0"
ABSENT_KIND_IMAGE = "kindest/node:v0.0.0-kconform-absent"  # on no registry: the pull always fails
ABSENT_K3S_IMAGE = "rancher/k3s:v0.0.0-kconform-absent"
MAX_OUTPUT_LINES = 40  # the whole run: pytest header, progress lines, the summary


@pytest.fixture(scope="module")
def docker_engine() -> None:
    done = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"these tests need a running Docker engine (.ci/run starts dockerd): {done.stderr[-300:]}"
        )


def _install_files(folder: Path) -> Path:
    """The real CRDs of the profile and a placeholder release YAML (never applied: no cluster exists)."""
    crd_root = paths.default_crd_root()
    assert crd_root is not None, "the real CRDs are needed (KCONFORM_CRD_DIR)"
    target = folder / PROFILE
    target.mkdir(parents=True)
    crds = sorted((Path(crd_root) / PROFILE).glob("*.yaml"))
    assert crds, f"no CRDs in {crd_root}/{PROFILE}"
    (target / f"strimzi-crds-{PROFILE}.yaml").write_text("\n---\n".join(p.read_text() for p in crds))
    (target / f"strimzi-cluster-operator-{PROFILE}.yaml").write_text(
        "# placeholder: this test's cluster is never created, so the release YAML is never applied\n"
    )
    return folder


def _run(tmp_path: Path, provider: str, env: dict[str, str]) -> tuple[int, str, float, Path]:
    reports = tmp_path / "reports"
    start = time.monotonic()
    done = run_module(
        "kconform",
        "run",
        "--platform",
        "kubernetes",
        "--provider",
        provider,
        "--profile",
        PROFILE,
        "--mode",
        "kraft",
        "--install",
        "yaml",
        "--reports",
        str(reports),
        env=environment(KCONFORM_STRIMZI_FILES=str(_install_files(tmp_path / "strimzi-files")), **env),
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start, reports


def _kind_shim(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The real kind behind a shim that logs each call: (real kind, the shim's folder for PATH, the log)."""
    real_kind = tools.ensure_tool("kind")  # from PATH or kconform's tool cache (where .ci/run builds it)
    shim = tmp_path / "bin"
    shim.mkdir()
    calls = tmp_path / "kind-calls.log"
    (shim / "kind").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexec "{real_kind}" "$@"\n')
    (shim / "kind").chmod(0o755)
    return real_kind, shim, calls


def _assert_inconclusive_once(code: int, out: str, reports: Path, provider: str, image: str) -> None:
    assert code == 3, out[-3000:]
    record = read_conformance(reports / "conformance.json")
    assert record.results == []  # no test ran against a cluster that does not exist
    assert len(record.cells_inconclusive) == 1
    cell = record.cells_inconclusive[0]
    assert (
        cell.cell["provider"] == provider and cell.cell["strimzi"] == PROFILE and cell.cell["mode"] == "kraft"
    )
    assert image in cell.reason and "create the" in cell.reason  # names the phase and what failed
    assert "Traceback" not in out
    lines = out.splitlines()
    assert len(lines) <= MAX_OUTPUT_LINES, out
    assert sum("INCONCLUSIVE cell" in line for line in lines) == 1


def test_kind_cluster_that_cannot_be_created_is_inconclusive_once(
    docker_engine: None, tmp_path: Path
) -> None:
    real_kind, shim, calls = _kind_shim(tmp_path)
    name = f"kc-it-{uuid.uuid4().hex[:8]}"
    try:
        code, out, seconds, reports = _run(
            tmp_path,
            "kind",
            {
                "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
                "KCONFORM_CLUSTER_NAME": name,
                "KCONFORM_KIND_NODE_IMAGE": ABSENT_KIND_IMAGE,
            },
        )
        print(f"inconclusive kind run: exit {code} in {seconds:.1f}s, {len(out.splitlines())} lines")
        _assert_inconclusive_once(code, out, reports, "kind", ABSENT_KIND_IMAGE)
        creates = [line for line in calls.read_text().splitlines() if line.startswith("create cluster")]
        assert len(creates) == 1 and f"--name {name}" in creates[0]
        config = creates[0].split("--config ", 1)[1].split()[0]
        assert not Path(config).exists()  # the cluster's config file goes with the cluster that never was
        assert containers(name) == []
        clusters = subprocess.run(
            [str(real_kind), "get", "clusters"], capture_output=True, text=True, timeout=60, check=True
        )
        assert name not in clusters.stdout.split()
    finally:
        subprocess.run(
            [str(real_kind), "delete", "cluster", "--name", name], capture_output=True, timeout=300
        )


def test_k3s_cluster_that_cannot_be_created_is_inconclusive_once(docker_engine: None, tmp_path: Path) -> None:
    name = f"kc-it-{uuid.uuid4().hex[:8]}"
    env = {
        "KCONFORM_CLUSTER_NAME": name,
        "KCONFORM_K3S_IMAGE": ABSENT_K3S_IMAGE,
        # The reaper's own image would be the first pull; without it the k3s image is the one that fails.
        "TESTCONTAINERS_RYUK_DISABLED": "true",
    }
    if Path("/.dockerenv").exists():  # this process and dockerd share a container (.ci/run starts it here)
        env["TESTCONTAINERS_CONNECTION_MODE"] = "docker_host"
    try:
        code, out, seconds, reports = _run(tmp_path, "k3s", env)
        print(f"inconclusive k3s run: exit {code} in {seconds:.1f}s, {len(out.splitlines())} lines")
        _assert_inconclusive_once(code, out, reports, "k3s", ABSENT_K3S_IMAGE)
        assert sum("starting k3s container" in line for line in out.splitlines()) == 1
        assert containers(name) == []
    finally:
        for left in containers(name):
            subprocess.run(["docker", "rm", "-f", left], capture_output=True, timeout=60)


def test_missing_install_files_stop_the_run_before_any_cluster(docker_engine: None, tmp_path: Path) -> None:
    """A download that fails (here: a folder of release files without them) is found by the preflight: one
    line, exit 2, and kind is never asked to create anything."""
    _, shim, calls = _kind_shim(tmp_path)
    empty = tmp_path / "no-files"
    empty.mkdir()
    done = run_module(
        "kconform",
        "run",
        "--platform",
        "kubernetes",
        "--install",
        "yaml",
        "--profile",
        PROFILE,
        "--reports",
        str(tmp_path / "reports"),
        env=environment(
            PATH=f"{shim}{os.pathsep}{os.environ['PATH']}",
            KCONFORM_STRIMZI_FILES=str(empty),
            KCONFORM_CLUSTER_NAME=f"kc-it-{uuid.uuid4().hex[:8]}",
        ),
    )
    lines = output_lines(done)
    assert done.returncode == 2 and len(lines) == 1, lines
    assert "strimzi-crds-1.2.0.yaml" in lines[0]
    assert not calls.exists()  # no `kind create cluster`, not even `kind get clusters`
