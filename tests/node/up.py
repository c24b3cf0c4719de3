"""Start the tier's node by hand and keep it until Ctrl-C (or SIGTERM); everything is removed on the way out.

    python -m tests.node.build && python -m tests.node.up

Prints the kubeconfig, the node IP (what `--external-host` takes) and the host side of the veth (where pods
reach this machine), e.g. to run `kconform run --platform kubernetes --provider existing --external-host
<node IP>` against it, or `ctr --address <socket> -n k8s.io images import <image.tar>` to load more images.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from pathlib import Path

from filelock import Timeout

from kconform.errors import KconformError
from kconform.platforms.local.processes import install_signal_handlers
from tests.node import build, cluster, configs, images

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    if not build.is_built():
        print(
            f"the node is not built: run `python -m tests.node.build` first ({build.install_dir()})",
            file=sys.stderr,
        )
        return 2
    install_signal_handlers()
    try:
        with cluster.machine_lock(timeout=5), tempfile.TemporaryDirectory(prefix="kconform-node-") as workdir:
            return _run(Path(workdir))
    except Timeout:
        print(
            "another node runs on this machine (a test session or tests.node.up): stop it first",
            file=sys.stderr,
        )
        return 2


def _run(workdir: Path) -> int:
    try:
        node = cluster.start(workdir=workdir, log_dir=PROJECT_ROOT / "reports" / "logs" / "node-up")
    except KconformError as err:
        print(f"the node did not start: {err}", file=sys.stderr)
        return 3
    try:
        print(f"node {configs.NODE_NAME} Ready")
        print(f"  KUBECONFIG={node.kubeconfig} (context {node.context})")
        print(f"  node IP (--external-host): {node.node_ip}; this machine, as pods reach it: {node.host_ip}")
        print(f"  containerd: {node.containerd_socket} (namespace k8s.io)")
        print("  images: " + ", ".join(i.reference for i in images.IMAGES))
        print("Ctrl-C stops it.", flush=True)
        threading.Event().wait()  # until SIGINT (KeyboardInterrupt) or SIGTERM (SystemExit)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        left = node.stop()
        print("stopped; left behind: " + (", ".join(left) if left else "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
