"""Cluster tools (kind, kubectl, helm, minikube): the one on PATH, or a pinned download verified by SHA-256.

Only checksums confirmed from the projects' published release checksums are listed; a tool/os/arch without one
is never downloaded — the user is told to install it instead.
"""

from __future__ import annotations

import os
import platform
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from kconform import fetch
from kconform.errors import MissingPrerequisite, PlatformError
from kconform.matrix import KIND_VERSION
from kconform.paths import cache_dir
from kconform.platforms.kubernetes import shell

DOWNLOAD_TIMEOUT_S = 120.0

INSTALL_HINTS = {
    "kind": f"kind {KIND_VERSION} (the pinned node images are built for it), "
    "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
    "kubectl": "https://kubernetes.io/docs/tasks/tools/",
    "helm": "https://helm.sh/docs/intro/install/",
    "minikube": "https://minikube.sigs.k8s.io/docs/start/",
    "docker": "https://docs.docker.com/engine/install/",
}


@dataclass(frozen=True)
class ToolDownload:
    version: str
    url: str
    sha256: str
    member: str | None = None  # path inside a .tar.gz; None for a bare binary


_KIND = f"https://kind.sigs.k8s.io/dl/{KIND_VERSION}/kind-{{os}}-{{arch}}"
_KUBECTL = "https://dl.k8s.io/release/v1.35.5/bin/{os}/{arch}/kubectl"
_HELM = "https://get.helm.sh/helm-v3.20.0-{os}-{arch}.tar.gz"

# (tool, os, arch) -> download. Checksums from the release assets' published .sha256sum / .sha256 files.
DOWNLOADS: dict[tuple[str, str, str], ToolDownload] = {
    # kind is pinned to the release whose node images the matrix uses (kconform.matrix.KIND_VERSION); only
    # linux/amd64's checksum could be confirmed, other platforms are asked to install that kind themselves.
    ("kind", "linux", "amd64"): ToolDownload(
        KIND_VERSION,
        _KIND.format(os="linux", arch="amd64"),
        "eb244cbafcc157dff60cf68693c14c9a75c4e6e6fedaf9cd71c58117cb93e3fa",
    ),
    ("kubectl", "linux", "amd64"): ToolDownload(
        "v1.35.5",
        _KUBECTL.format(os="linux", arch="amd64"),
        "90f75ea6ecc9ea5633262e1c0b83a40560003b30fc94a04cb099404fcef0c224",
    ),
    ("kubectl", "linux", "arm64"): ToolDownload(
        "v1.35.5",
        _KUBECTL.format(os="linux", arch="arm64"),
        "ac69e06fd6860d69786692f5af1c3a1208ed54f8366a4d97ab15c172e99765ee",
    ),
    ("helm", "linux", "amd64"): ToolDownload(
        "v3.20.0",
        _HELM.format(os="linux", arch="amd64"),
        "dbb4c8fc8e19d159d1a63dda8db655f9ffa4aac1b9a6b188b34a40957119b286",
        "linux-amd64/helm",
    ),
    ("helm", "linux", "arm64"): ToolDownload(
        "v3.20.0",
        _HELM.format(os="linux", arch="arm64"),
        "bfb14953295d5324d47ab55f3dfba6da28d46c848978c8fbf412d4271bdc29f1",
        "linux-arm64/helm",
    ),
    ("helm", "darwin", "amd64"): ToolDownload(
        "v3.20.0",
        _HELM.format(os="darwin", arch="amd64"),
        "724aef60f737ca73cfcc77924219dbfb229dde8492b2722cb372da617fd77367",
        "darwin-amd64/helm",
    ),
    ("helm", "darwin", "arm64"): ToolDownload(
        "v3.20.0",
        _HELM.format(os="darwin", arch="arm64"),
        "1cb8022ef9c88026adf236cbdf02a80bf7678632d1c39d3d8045e815959ab20e",
        "darwin-arm64/helm",
    ),
}


def host_platform() -> tuple[str, str]:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return platform.system().lower(), arch


def tools_dir() -> Path:
    return cache_dir() / "tools"


def install(name: str, download: ToolDownload, target_dir: Path) -> Path:
    """Download (verified, atomic, with a progress line: `kconform.fetch`), then unpack one tool.

    A checksum mismatch keeps nothing and refuses."""
    archive = target_dir / Path(download.url).name
    try:
        fetch.download(
            download.url,
            archive,
            digest=fetch.Digest("sha256", download.sha256),
            label=f"{name} {download.version}",
            timeout=DOWNLOAD_TIMEOUT_S,
        )
    except fetch.DigestMismatch as err:
        raise PlatformError(
            f"refusing {name} {download.version}: the download does not match the pinned SHA-256 "
            f"{download.sha256} ({err})"
        ) from err
    except fetch.DownloadFailed as err:
        raise MissingPrerequisite(f"cannot download {name}: {err}; install it yourself or go online") from err
    binary = target_dir / name
    if download.member is None:
        if archive != binary:
            archive.replace(binary)
    else:
        with tarfile.open(archive, mode="r:gz") as tar:
            member = tar.extractfile(download.member)
            if member is None:
                raise PlatformError(f"{download.url} has no {download.member}")
            binary.write_bytes(member.read())
        archive.unlink()
    binary.chmod(0o755)
    return binary


def ensure_tool(
    name: str,
    *,
    downloads: dict[tuple[str, str, str], ToolDownload] | None = None,
    base_dir: Path | None = None,
) -> Path:
    """The path of a usable `name`: from PATH, from the cache, or downloaded and verified now."""
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    system, arch = host_platform()
    download = (DOWNLOADS if downloads is None else downloads).get((name, system, arch))
    hint = INSTALL_HINTS.get(name, "")
    if download is None:
        raise MissingPrerequisite(
            f"{name} is not on PATH and kconform has no verified download for {system}/{arch}; "
            f"install it: {hint}"
        )
    target_dir = (base_dir or tools_dir()) / f"{name}-{download.version}"
    cached = target_dir / name
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    return install(name, download, target_dir)


def check_docker() -> None:
    """Docker client present and engine running, or one line saying what to do."""
    if shutil.which("docker") is None:
        raise MissingPrerequisite(
            f"docker is not installed ({INSTALL_HINTS['docker']}) or use --provider existing"
        )
    if not shell.succeeds(["docker", "info"], timeout=30):
        raise MissingPrerequisite(
            "the Docker engine is not running (`docker info` fails): start Docker or use --provider existing"
        )
