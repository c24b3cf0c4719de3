"""A cell's clusters started one after another vs together, and whole runs of this code vs another checkout.

    python benchmarks/bench_cell.py start [--profile 0.45.2] [--mode kraft] [--concurrency 4]
    python benchmarks/bench_cell.py runs --baseline ../concurrent-base [-m "not bridge"] [-k EXPR] [--repeat 1]

`start` (local platform) starts the four clusters of one cell (the standard `kafka`, `scram`, and the two
external-access clusters) serially, then through the plugin's pool (fixtures.cell_clusters) at once, and
prints both side by side, each cluster's time to Ready, and the load average before and after.

`runs` runs every workflow in every cell (`pytest scenarios --platform local`), serial and with `-n 2`, for
this checkout and for `--baseline` (another worktree, e.g. of main) in one benchmark, interleaved so both
see the same load; it prints the wall times, the per-workflow sums of test durations from each run's
conformance.json, and each cell's setup and test time where the report has them. Real processes; numbers
move with the machine's load, which is printed with every run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

from kconform import config as run_config
from kconform import paths
from kconform.platforms import local as local_platform
from kconform.platforms.local.local_platform import LocalPlatform
from kconform.versions import PROFILES
from kconform_fixtures.cell_clusters import CellClusters, ClusterPlan, ClusterSpec, built_by
from kconform_fixtures.cluster import KAFKA_READY_TIMEOUT, standard_cluster, start
from kconform_fixtures.platform import PlatformPool
from kconform_fixtures.scram import scram_cluster
from kconform_fixtures.selection import CellParam
from kconform_scenarios.test_external_access import nodeport_cluster, with_overrides, without_overrides


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


# ------------------------------------------------------------------------------------- one cell's start
SPECS = [
    ClusterSpec("kafka", built_by(standard_cluster)),
    ClusterSpec("scram", built_by(scram_cluster)),
    ClusterSpec("ext-default", lambda plan: nodeport_cluster(plan, without_overrides)),
    ClusterSpec("ext-advertised", lambda plan: nodeport_cluster(plan, with_overrides)),
]


class _OnePlatform:
    def __init__(self, platform: LocalPlatform) -> None:
        self.platform = platform

    def get(self, strimzi: str, mode: str) -> LocalPlatform:
        return self.platform


def _platform(strimzi: str, run_id: str) -> LocalPlatform:
    log_dir = Path(tempfile.mkdtemp(prefix="kconform-bench-")) / "logs"
    return LocalPlatform(PROFILES[strimzi], run_id=run_id, log_dir=log_dir)


def serial_start(cell: CellParam) -> tuple[float, dict[str, float]]:
    """Each cluster applied and awaited after the previous one is Ready, as the pool did before."""
    run_id = "bench" + uuid.uuid4().hex[:6]
    platform = _platform(cell.strimzi, run_id)
    each: dict[str, float] = {}
    try:
        begin = time.monotonic()
        for index, spec in enumerate(SPECS):
            plan = ClusterPlan(
                cell.profile, cell.mode, f"{spec.variant}-{index}", f"ns{index}", run_id, "admin", platform
            )
            started = time.monotonic()
            start(
                platform,
                spec.build(plan),
                profile=cell.profile,
                mode=cell.mode,
                namespace=plan.namespace,
                run_id=run_id,
            )
            each[spec.variant] = time.monotonic() - started
        return time.monotonic() - begin, each
    finally:
        platform.close()


def concurrent_start(cell: CellParam, concurrency: int) -> tuple[float, dict[str, float]]:
    """Every cluster through the plugin's pool: applied at once, each awaited on its own."""
    run_id = "bench" + uuid.uuid4().hex[:6]
    platform = _platform(cell.strimzi, run_id)
    config = run_config.RunConfig(platform="local", run_id=run_id)
    pool = CellClusters(config, cast(PlatformPool, _OnePlatform(platform)), "bench", concurrency=concurrency)
    each: dict[str, float] = {}
    try:
        begin = time.monotonic()
        pool.begin_cell(cell, [("bench", SPECS)])
        for spec in SPECS:
            pool.acquire(cell, spec, cast(Any, _Item()))
            each[spec.variant] = pool.ready_after(cell, spec.variant)
        return time.monotonic() - begin, each
    finally:
        pool.end_cell(cell.id)
        platform.close()


class _Item:
    """What acquire() reads of a pytest item: its node id and stash."""

    nodeid = "bench"
    stash: dict[Any, Any] = {}


def start_main(args: argparse.Namespace) -> int:
    cell = CellParam(args.profile, args.mode)
    print(
        f"one cell's {len(SPECS)} clusters, local platform, {cell.id} (Ready timeout {KAFKA_READY_TIMEOUT:.0f}s)"
    )
    print(
        f"{'run':>4} {'serial s':>9} {'together s':>11}  each serial / together (s)               load before → after"
    )
    for run in range(1, args.repeat + 1):
        before = _load()
        serial, serial_each = serial_start(cell)
        together, together_each = concurrent_start(cell, args.concurrency)
        each = ", ".join(f"{k} {serial_each[k]:.1f}/{together_each[k]:.1f}" for k in serial_each)
        print(f"{run:>4} {serial:9.1f} {together:11.1f}  {each}  {before} → {_load()}", flush=True)
    return 0


# ---------------------------------------------------------------------------------------- whole runs
_MACHINE_PATHS = ("KCONFORM_CRD_DIR", "KCONFORM_CACHE", "KCONFORM_BRIDGE_HOME", "KCONFORM_STRIMZI_FILES")
# Installed import name -> the checkout's folder (setup.py's mapping).
_IMPORT_NAMES = {
    "kconform": "kconform",
    "kconform_fixtures": "fixtures",
    "kconform_scenarios": "scenarios",
    "kconform_manifests": "manifests",
}


def _import_root(checkout: Path, reports: Path) -> Path:
    """A folder whose links give the checkout's packages their installed names, first on PYTHONPATH: an
    editable install of another checkout (its finder comes after sys.path) must not answer for this one."""
    root = reports / "import-root"
    root.mkdir(parents=True, exist_ok=True)
    for name, folder in _IMPORT_NAMES.items():
        (root / name).symlink_to(checkout.resolve() / folder, target_is_directory=True)
    return root


def _run(
    python: str, checkout: Path, workers: str | None, marks: str, keywords: str, reports: Path
) -> tuple[float, int, str]:
    argv = [python, "-m", "pytest", "scenarios", "-p", "no:cacheprovider", "--platform", "local"]
    argv += ["--reports", str(reports), "-q", "-W", "ignore::DeprecationWarning"]
    argv += ["-m", marks] if marks else []
    argv += ["-k", keywords] if keywords else []
    argv += ["-n", workers] if workers else ["-p", "no:xdist"]
    # The user's settings stay out, but where this machine keeps the files a run reads.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCONFORM_") or k in _MACHINE_PATHS}
    env["PYTHONPATH"] = str(_import_root(checkout, reports))
    before = _load()
    begin = time.monotonic()
    done = subprocess.run(argv, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - begin
    (reports / "pytest.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    return took, done.returncode, f"{before} → {_load()}"


def _per_workflow(reports: Path) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    path = reports / "conformance.json"
    if path.exists():
        for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
            found[result["workflow"]] += float(result["duration_s"])
    return dict(found)


def _cells(reports: Path) -> list[str]:
    path = reports / "conformance.json"
    if not path.exists():
        return []
    timings = json.loads(path.read_text(encoding="utf-8")).get("cells_timing") or []
    return [
        f"{t['cell']['strimzi']}-{t['cell']['mode']}: setup {t['setup_s']:.0f}s tests {t['test_s']:.0f}s"
        for t in timings
    ]


def runs_main(args: argparse.Namespace) -> int:
    here = paths.PROJECT_ROOT
    checkouts = {"this": here, "baseline": Path(args.baseline).resolve()}
    checkouts = {label: path for label, path in checkouts.items() if args.only in (None, label)}
    pythons = {"this": sys.executable, "baseline": args.baseline_python or sys.executable}
    results: dict[tuple[str, str], list[float]] = defaultdict(list)
    workflows: dict[tuple[str, str], dict[str, float]] = {}
    for repeat in range(args.repeat):
        for workers in (
            (None, "2") if args.workers == "both" else ((None,) if args.workers == "serial" else ("2",))
        ):
            for label, checkout in checkouts.items():
                reports = Path(tempfile.mkdtemp(prefix=f"kconform-bench-{label}-"))
                took, code, load = _run(pythons[label], checkout, workers, args.marks, args.keywords, reports)
                mode = "-n 2" if workers else "serial"
                results[(label, mode)].append(took)
                workflows[(label, mode)] = _per_workflow(reports)
                print(
                    f"[{repeat + 1}] {label:8} {mode:6} {took:7.1f}s exit {code}  {load}  ({reports})",
                    flush=True,
                )
                for line in _cells(reports):
                    print(f"      {line}", flush=True)
                if not args.keep_reports:
                    shutil.rmtree(reports, ignore_errors=True)
    print(f"\n{'':8} {'mode':6} {'median s':>9}   per workflow (sum of test durations, s)")
    for (label, mode), times in sorted(results.items()):
        per = ", ".join(f"{w} {s:.0f}" for w, s in sorted(workflows[(label, mode)].items()))
        print(f"{label:8} {mode:6} {statistics.median(times):9.1f}   {per}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("start", help="serial vs concurrent cluster start for one cell")
    one.add_argument("--profile", default="0.45.2", choices=sorted(PROFILES))
    one.add_argument("--mode", default="kraft")
    one.add_argument("--concurrency", type=int, default=local_platform.PLATFORM.cluster_concurrency)
    one.add_argument("--repeat", type=int, default=1)
    whole = commands.add_parser("runs", help="whole runs of this checkout vs a baseline checkout")
    whole.add_argument("--baseline", required=True, help="another checkout, e.g. a worktree of main")
    whole.add_argument("-m", dest="marks", default="", help='pytest -m expression, e.g. "not bridge"')
    whole.add_argument(
        "-k", dest="keywords", default="", help='pytest -k expression, e.g. "not kraft_migration"'
    )
    whole.add_argument(
        "--baseline-python",
        help="the interpreter of a venv where the baseline is installed (a checkout older than the"
        " packaging registers its plugin from its own conftest, which clashes with this one's)",
    )
    whole.add_argument("--repeat", type=int, default=1)
    whole.add_argument("--keep-reports", action="store_true")
    whole.add_argument("--only", choices=["this", "baseline"], help="run one checkout only")
    whole.add_argument("--workers", choices=["both", "serial", "2"], default="both")
    args = parser.parse_args()
    return start_main(args) if args.command == "start" else runs_main(args)


if __name__ == "__main__":
    sys.exit(main())
