"""What the real API server under tests/apiserver costs: build (cold and warm) and start.

  python benchmarks/bench_apiserver.py [--cold] [--starts 5]

warm build    the completion markers match: no `go build`, a file read.
cold build    (--cold) into a fresh temporary kconform cache with an empty Go build cache, against the Go
              module cache as it is (the module downloads are not timed; on a fresh CI runner they add
              roughly a minute). Several minutes on 2 cores.
start         etcd + kube-apiserver from launch until /readyz answers 200, then stopped; --starts times.
CRDs          the Strimzi 1.2.0 CRDs applied and Established on a fresh server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kconform.platforms.kubernetes import crd_install
from kconform.platforms.kubernetes.kube import Kube
from kconform.versions import PROFILES
from tests.apiserver import build, server


def _cold_build() -> float:
    with tempfile.TemporaryDirectory(prefix="kconform-bench-") as tmp:
        saved = {k: os.environ.get(k) for k in ("KCONFORM_CACHE", "GOCACHE")}
        os.environ["KCONFORM_CACHE"] = str(Path(tmp) / "cache")
        os.environ["GOCACHE"] = str(Path(tmp) / "gocache")
        try:
            start = time.perf_counter()
            result = build.ensure_built()
            elapsed = time.perf_counter() - start
            assert result.built, "a cold build built nothing"
            return elapsed
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cold", action="store_true", help="also time a cold build (minutes)")
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()

    print(
        f"kube-apiserver {build.KUBE_APISERVER.version()}, etcd {build.ETCD.version()}, {os.cpu_count()} CPUs"
    )
    if args.cold:
        print(f"cold build (empty Go build cache): {_cold_build():.1f} s")
    start = time.perf_counter()
    result = build.ensure_built()
    print(f"warm build (markers match, built {list(result.built)}): {time.perf_counter() - start:.3f} s")

    starts, crd_times = [], []
    with tempfile.TemporaryDirectory(prefix="kconform-bench-") as tmp:
        for index in range(args.starts):
            begin = time.perf_counter()
            running = server.start(
                kube_apiserver=result.kube_apiserver,
                etcd=result.etcd,
                workdir=Path(tmp) / f"s{index}",
                log_dir=Path(tmp) / f"logs{index}",
                run_id=f"bench-{uuid.uuid4().hex[:6]}",
            )
            starts.append(time.perf_counter() - begin)
            try:
                kube = Kube(context=running.context, kubeconfig=str(running.kubeconfig))
                begin = time.perf_counter()
                crd_install.apply_crds(
                    kube, crd_install.crd_documents(crd_install.crd_folder(PROFILES["1.2.0"]))
                )
                crd_times.append(time.perf_counter() - begin)
                kube.api_client.close()
            finally:
                running.stop()
    print(
        f"start to /readyz over {len(starts)} starts: median {statistics.median(starts):.2f} s, "
        f"min {min(starts):.2f} s, max {max(starts):.2f} s"
    )
    print(f"Strimzi 1.2.0 CRDs applied and Established: median {statistics.median(crd_times):.2f} s")


if __name__ == "__main__":
    main()
