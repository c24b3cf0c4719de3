"""Build what tests/node runs, once: the node's Go binaries and its container images.

    python -m tests.node.build            # prints where everything is and how long each part took
    python -m tests.node.build binaries   # only the Go binaries (no root needed)
    python -m tests.node.build images     # only the images (root: mmdebstrap)

Binaries come from the Go module proxy through the wrapper modules in tools/node/: kubelet,
kube-controller-manager, kube-scheduler, kube-proxy and kubectl from k8s.io/kubernetes with the same replace
pins as tools/apiserver/kube-apiserver (so with CGO_ENABLED=0 they reuse the packages that build compiled),
and a CoreDNS with only the plugins the cluster's DNS needs. kube-apiserver and etcd are the apiserver tier's
(`tests.apiserver.build`), built first when missing. The images (tests/node/images.py) are built from Debian
packages, never pulled. Everything goes to <kconform cache>/node/ with completion markers that
hold the hash of what it was built from; a lock makes concurrent callers build once.
"""

from __future__ import annotations

import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from kconform.errors import MissingPrerequisite, PlatformError
from kconform.paths import PROJECT_ROOT, cache_dir
from tests.apiserver import build as apiserver_build
from tests.apiserver.build import BUILD_TIMEOUT_S, Target
from tests.node import images

TOOLS_DIR = PROJECT_ROOT / "tools" / "node"
_KUBERNETES = TOOLS_DIR / "kubernetes"
_VERSION_LDFLAGS = apiserver_build.KUBE_APISERVER.version_ldflags  # kubelet reports it in the Node's status


def _kubernetes_target(name: str) -> Target:
    return Target(name, _KUBERNETES, f"k8s.io/kubernetes/cmd/{name}", "k8s.io/kubernetes", _VERSION_LDFLAGS)


KUBELET = _kubernetes_target("kubelet")
CONTROLLER_MANAGER = _kubernetes_target("kube-controller-manager")
SCHEDULER = _kubernetes_target("kube-scheduler")
PROXY = _kubernetes_target("kube-proxy")
KUBECTL = _kubernetes_target("kubectl")
COREDNS = Target("coredns", TOOLS_DIR / "coredns", ".", "github.com/coredns/coredns")
TARGETS = (KUBELET, CONTROLLER_MANAGER, SCHEDULER, PROXY, KUBECTL, COREDNS)
# Debian packages the node needs on the host (.ci/apt-packages.txt installs them): command -> package.
HOST_COMMANDS = {
    "containerd": "containerd",
    "containerd-shim-runc-v2": "containerd",
    "ctr": "containerd",
    "runc": "runc",
    "iptables": "iptables",
    "nsenter": "util-linux",
    "ip": "iproute2",
    "mmdebstrap": "mmdebstrap",
    "conntrack": "conntrack",
    "gcc": "gcc",
}
CNI_DIR = Path("/usr/lib/cni")  # Debian's containernetworking-plugins
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")


def install_dir() -> Path:
    return cache_dir() / "node" / apiserver_build.kubernetes_version()


def binary(target: Target) -> Path:
    return install_dir() / target.name


def missing_host_tools() -> list[str]:
    """One line per missing Debian package (the node's runtime, network tools, image builder)."""
    missing = sorted({pkg for cmd, pkg in HOST_COMMANDS.items() if shutil.which(cmd) is None})
    if any(not (CNI_DIR / p).is_file() for p in CNI_PLUGINS):
        missing.append("containernetworking-plugins")
    return missing


@dataclass(frozen=True)
class BuildResult:
    built: tuple[str, ...]  # what this call built (empty: all reused)
    seconds: dict[str, float]  # seconds per part built


PARTS = ("binaries", "images")


def ensure_built(parts: tuple[str, ...] = PARTS) -> BuildResult:
    """Every binary and image (or only the `parts` named), built when its marker is missing or stale;
    MissingPrerequisite for a missing tool, PlatformError for a failed build. The binaries need no root
    (and share the user's Go build cache with the apiserver tier); the images need root (mmdebstrap)."""
    missing = missing_host_tools()
    if missing:
        raise MissingPrerequisite(
            f"tests/node needs the Debian packages: apt-get install {' '.join(missing)}"
        )
    built: list[str] = []
    seconds: dict[str, float] = {}
    start = time.monotonic()
    folder = install_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".build.lock"), timeout=BUILD_TIMEOUT_S * 4):
        # The images mostly download and unpack Debian packages: they are built while Go compiles.
        with ThreadPoolExecutor(max_workers=1) as pool:
            image_build = pool.submit(
                lambda: images.ensure_images(folder / "images") if "images" in parts else {}
            )
            apiserver = apiserver_build.ensure_built() if "binaries" in parts else None
            if apiserver and apiserver.built:
                built.extend(apiserver.built)
                seconds["kube-apiserver+etcd"] = apiserver.seconds
            for target in TARGETS if "binaries" in parts else ():
                if not apiserver_build.is_built(target, folder):  # another process may have built it
                    part = time.monotonic()
                    apiserver_build.go_build(apiserver_build.find_go(), target, folder)
                    built.append(target.name)
                    seconds[target.name] = time.monotonic() - part
            for name, took in image_build.result().items():
                built.append(f"image {name}")
                seconds[f"image {name}"] = took
    seconds["total"] = time.monotonic() - start
    return BuildResult(tuple(built), seconds)


def is_built() -> bool:
    """Whether everything the tier runs is in the cache (no build needed)."""
    return (
        all(apiserver_build.is_built(t) for t in apiserver_build.TARGETS)
        and all(apiserver_build.is_built(t, install_dir()) for t in TARGETS)
        and images.all_built(install_dir() / "images")
    )


def main(argv: list[str]) -> int:
    parts = tuple(argv) or PARTS
    if not set(parts) <= set(PARTS):
        print(f"usage: python -m tests.node.build [{' | '.join(PARTS)}]", file=sys.stderr)
        return 2
    try:
        result = ensure_built(parts)
    except MissingPrerequisite as err:
        print(str(err), file=sys.stderr)
        return 2
    except PlatformError as err:
        print(f"building the node failed: {err}", file=sys.stderr)
        return 1
    took = ", ".join(f"{name} {secs:.0f}s" for name, secs in result.seconds.items()) or "nothing"
    what = f"built {took}" if result.built else f"reused the cached build ({took})"
    print(
        f"node {' and '.join(parts)} for Kubernetes {apiserver_build.kubernetes_version()} in {install_dir()}: {what}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
