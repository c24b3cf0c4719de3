"""How long the local platform waits for Kafka jars: cold and warm, per Kafka version.

    python benchmarks/bench_jars.py [--versions 4.3.1 3.9.2] [--skip-network-cold]

Three measurements per version, each into a fresh temporary kconform cache:
  cold (~/.m2 as it is)   Maven runs, but may find every jar in ~/.m2 already: on a developer machine this
                          is the usual "first run of a new checkout" cost, not a download.
  cold (empty repo)       Maven runs with a fresh -Dmaven.repo.local, so every jar and Maven plugin is
                          downloaded from Maven Central: the cost on a fresh CI runner.
  warm                    the completion marker exists: no Maven call, a file read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kconform.platforms.local.jars import kafka_classpath


def _timed(action: Callable[[], list[Path]]) -> tuple[float, int]:
    start = time.perf_counter()
    jars = action()
    return time.perf_counter() - start, len(jars)


def _m2_state(version: str) -> str:
    jar = Path.home() / ".m2" / "repository" / "org" / "apache" / "kafka" / "kafka_2.13" / version
    return "already holds this version" if jar.is_dir() else "does not hold this version"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", nargs="+", default=["4.3.1", "3.9.2"])
    parser.add_argument("--skip-network-cold", action="store_true", help="skip the empty-repository run")
    args = parser.parse_args()
    rows: list[tuple[str, str, float, int]] = []
    for version in args.versions:
        print(f"Kafka {version}: ~/.m2 {_m2_state(version)}", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-jars-") as scratch:
            root = Path(scratch)
            if not args.skip_network_cold:
                seconds, count = _timed(
                    lambda: kafka_classpath(version, root / "net", maven_repo_local=root / "m2")  # noqa: B023
                )
                rows.append((version, "cold (empty repo)", seconds, count))
            seconds, count = _timed(lambda: kafka_classpath(version, root / "cache"))  # noqa: B023
            rows.append((version, "cold (~/.m2 as it is)", seconds, count))
            seconds, count = _timed(lambda: kafka_classpath(version, root / "cache"))  # noqa: B023
            rows.append((version, "warm", seconds, count))
    print(f"\n{'kafka':<8} {'measurement':<24} {'seconds':>9} {'jars':>5}")
    for version, label, seconds, count in rows:
        print(f"{version:<8} {label:<24} {seconds:>9.3f} {count:>5}")


if __name__ == "__main__":
    main()
