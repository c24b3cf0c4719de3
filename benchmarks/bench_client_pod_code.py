"""What shipping kafka-python into the client pod costs: the ConfigMap's size, building it, and in a pod-like
layout the start command's unpack and a request's interpreter start (first: bytecode compiled into the
emptyDir; later: taken from there).

    python benchmarks/bench_client_pod_code.py [--repeat 5]

This machine's Python stands in for the image's; the layout is the pod's volumes under a temporary folder.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kconform.platforms.kubernetes import client_pod


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat

    start = time.perf_counter()
    configmap = client_pod.code_configmap("ns", {})
    built = time.perf_counter() - start
    archive = base64.b64decode(configmap["binaryData"][client_pod.KAFKA_PYTHON_ZIP])
    text = sum(len(v.encode()) for v in configmap["data"].values())
    print(f"kafka-python {client_pod.KAFKA_PYTHON_VERSION}: zip {len(archive)} bytes, code {text} bytes;")
    print(
        f"  ConfigMap {len(archive) + text} of {client_pod.CONFIGMAP_MAX_BYTES} bytes; built in {built:.2f}s"
    )

    with tempfile.TemporaryDirectory() as folder:
        mount, deps = Path(folder, "opt"), Path(folder, "var", "site-packages")
        mount.mkdir()
        (mount / client_pod.KAFKA_PYTHON_ZIP).write_bytes(archive)
        env = {**os.environ, "PYTHONPATH": str(deps)}
        unpack = _timed(
            [sys.executable, "-m", "zipfile", "-e", str(mount / client_pod.KAFKA_PYTHON_ZIP), str(deps)], env
        )
        print(f"start command's unpack: {unpack:.2f}s")
        probe = [sys.executable, "-c", "import kafka, kafka.admin"]
        first = _timed(probe, env)
        later = [_timed(probe, env) for _ in range(repeat)]
        print(
            f"python + import kafka: first {first:.2f}s (compiles), then median {statistics.median(later):.2f}s {later}"
        )


if __name__ == "__main__":
    main()
