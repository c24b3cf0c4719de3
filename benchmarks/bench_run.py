"""Wall time of whole runs: the local scenarios per profile, serial and with -n 2, and the integration tests.

    python benchmarks/bench_run.py

Each run is a real `kconform run --platform local` (every workflow, every mode of the profile) writing its
reports to a temporary folder; the exit code is printed beside the time so a failed run is not mistaken for
a fast one.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

from kconform import paths
from kconform.versions import PROFILES


def timed(argv: list[str]) -> tuple[float, int]:
    start = time.monotonic()
    code = subprocess.run(argv, cwd=paths.PROJECT_ROOT, capture_output=True, check=False).returncode
    return time.monotonic() - start, code


def main() -> int:
    kconform = [sys.executable, "-m", "kconform.cli", "run", "--platform", "local"]
    quiet = ["--", "-q", "-W", "ignore::DeprecationWarning"]
    cases: list[tuple[str, list[str]]] = []
    for strimzi in PROFILES:
        for workers in (None, "2"):
            extra = ["-n", workers] if workers else []
            cases.append(
                (
                    f"run strimzi {strimzi} {'-n 2' if workers else 'serial'}",
                    [*kconform, "--profile", strimzi, *extra, "--reports", tempfile.mkdtemp(), *quiet],
                )
            )
    cases.append(("run all profiles -n 2", [*kconform, "-n", "2", "--reports", tempfile.mkdtemp(), *quiet]))
    cases.append(
        (
            "tests/integration",
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/integration",
                "-q",
                "-p",
                "no:cacheprovider",
                "-W",
                "ignore::DeprecationWarning",
            ],
        )
    )
    print(f"{'what':34} {'wall s':>8} exit")
    for label, argv in cases:
        seconds, code = timed(argv)
        print(f"{label:34} {seconds:8.1f} {code}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
