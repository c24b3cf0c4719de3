"""Build the real kube-apiserver and etcd that tests/apiserver runs, from the Go module proxy, once.

    python -m tests.apiserver.build        # prints where the binaries are and how long it took

The versions are pinned by the wrapper modules in tools/apiserver/ (go.mod + go.sum): kube-apiserver from
k8s.io/kubernetes with its staging modules replaced by their v0.x releases, etcd from go.etcd.io/etcd/server/v3
with its sibling modules pinned to the same release. Each binary goes to
<kconform cache>/apiserver/<kubernetes version>/ with a completion marker holding the hash of the wrapper
module it was built from; a binary whose marker matches is reused, anything else is rebuilt. A lock makes
concurrent callers (xdist workers, a parallel .ci/run) build once.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from kconform.errors import MissingPrerequisite, PlatformError
from kconform.paths import PROJECT_ROOT, cache_dir

TOOLS_DIR = PROJECT_ROOT / "tools" / "apiserver"
GO_HINT = "install Go (golang) 1.25 or newer from https://go.dev/dl (or apt-get install golang-go) and put `go` on PATH"
BUILD_TIMEOUT_S = 1800.0  # a cold kube-apiserver build is ~4 minutes on 2 cores; a slow runner gets headroom


@dataclass(frozen=True)
class Target:
    """One binary: the wrapper module that pins it, the Go package of its main, and the module giving its version."""

    name: str
    module_dir: Path
    package: str
    version_module: str
    version_ldflags: tuple[
        str, ...
    ] = ()  # -X settings that stamp the version (Kubernetes' release build does)

    def version(self) -> str:
        text = (self.module_dir / "go.mod").read_text()
        found = re.search(
            rf"^\s*(?:require\s+)?{re.escape(self.version_module)}\s+(v\S+)", text, re.MULTILINE
        )
        if not found:
            raise PlatformError(f"{self.module_dir}/go.mod does not require {self.version_module}")
        return found.group(1)

    def ldflags(self) -> str:
        version = self.version()
        major, minor = version.lstrip("v").split(".")[:2]
        return " ".join(
            f"-X {flag.format(version=version, major=major, minor=minor)}" for flag in self.version_ldflags
        )

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for name in ("go.mod", "go.sum"):
            digest.update((self.module_dir / name).read_bytes())
        digest.update(self.ldflags().encode())
        return digest.hexdigest()


_COMPONENT_VERSION = "k8s.io/component-base/version"
KUBE_APISERVER = Target(
    "kube-apiserver",
    TOOLS_DIR / "kube-apiserver",
    "k8s.io/kubernetes/cmd/kube-apiserver",
    "k8s.io/kubernetes",
    # Without these /version answers 0.0.0-master, and kconform reports the cell's Kubernetes from /version.
    (
        _COMPONENT_VERSION + ".gitVersion={version}",
        _COMPONENT_VERSION + ".gitMajor={major}",
        _COMPONENT_VERSION + ".gitMinor={minor}",
        _COMPONENT_VERSION + ".gitTreeState=clean",
    ),
)
ETCD = Target("etcd", TOOLS_DIR / "etcd", "go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/server/v3")
TARGETS = (ETCD, KUBE_APISERVER)


def kubernetes_version() -> str:
    return KUBE_APISERVER.version()


def install_dir() -> Path:
    return cache_dir() / "apiserver" / kubernetes_version()


def binary(target: Target) -> Path:
    return install_dir() / target.name


def _marker(target: Target, folder: Path) -> Path:
    return folder / f".{target.name}.complete"


def is_built(target: Target, folder: Path | None = None) -> bool:
    """Whether `target` is in `folder` (default: this tier's install_dir) with a marker matching its pins."""
    folder = folder or install_dir()
    marker = _marker(target, folder)
    return (
        (folder / target.name).is_file()
        and marker.is_file()
        and marker.read_text().strip() == f"{target.version()} {target.fingerprint()}"
    )


GO_FALLBACKS = (Path("/usr/local/go/bin/go"),)  # where the official tarball installs it, often not on PATH


def find_go() -> str:
    found = shutil.which("go") or next(
        (str(p) for p in GO_FALLBACKS if p.is_file() and os.access(p, os.X_OK)), None
    )
    if found is None:
        raise MissingPrerequisite(f"no `go` found: {GO_HINT}")
    return found


def go_build(go: str, target: Target, folder: Path) -> None:
    """Build `target` into `folder` and write its completion marker (tests/node builds its binaries so too)."""
    out = folder / target.name
    partial = out.with_name(out.name + ".partial")
    env = dict(os.environ)
    # The wrapper module's go.sum is the truth: never edit it during a build, never consult a vendor tree.
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -mod=mod").strip()
    env.setdefault("CGO_ENABLED", "0")
    try:
        proc = subprocess.run(
            [go, "build", "-trimpath", "-ldflags", target.ldflags(), "-o", str(partial), target.package],
            cwd=target.module_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise PlatformError(f"`go build {target.package}` took over {BUILD_TIMEOUT_S:.0f}s") from err
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-20:])
        raise PlatformError(f"`go build {target.package}` in {target.module_dir} failed:\n{tail}")
    partial.replace(out)
    _marker(target, folder).write_text(f"{target.version()} {target.fingerprint()}\n")


@dataclass(frozen=True)
class BuildResult:
    kube_apiserver: Path
    etcd: Path
    built: tuple[str, ...]  # names of the binaries built by this call (empty: all reused)
    seconds: float


def ensure_built() -> BuildResult:
    """Both binaries, built if their marker is missing or stale; MissingPrerequisite when Go is missing."""
    start = time.monotonic()
    if all(is_built(t) for t in TARGETS):
        return BuildResult(binary(KUBE_APISERVER), binary(ETCD), (), time.monotonic() - start)
    go = find_go()
    folder = install_dir()
    folder.mkdir(parents=True, exist_ok=True)
    built = []
    with FileLock(str(folder / ".build.lock"), timeout=BUILD_TIMEOUT_S * 2):
        for target in TARGETS:
            if not is_built(target):  # another process may have built it while this one waited
                go_build(go, target, folder)
                built.append(target.name)
    return BuildResult(binary(KUBE_APISERVER), binary(ETCD), tuple(built), time.monotonic() - start)


def main() -> int:
    try:
        result = ensure_built()
    except MissingPrerequisite as err:
        print(str(err), file=sys.stderr)
        return 2
    what = f"built {', '.join(result.built)}" if result.built else "reused the cached build"
    print(
        f"kube-apiserver {KUBE_APISERVER.version()} and etcd {ETCD.version()} in {install_dir()}: "
        f"{what} in {result.seconds:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
