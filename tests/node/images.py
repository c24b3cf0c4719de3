"""The node's container images, built here from Debian packages (and a few lines of C), never pulled.

Each image is an OCI image-layout archive that `ctr images import` takes: blobs (uncompressed tar layers and
a config), a manifest, and an index naming the image. The layers are made here:

- pause: a static binary compiled from a few lines of C (the pod sandbox's process: sleeps, reaps, exits on
  SIGTERM/SIGINT);
- a Debian bookworm root file system from mmdebstrap (variant essential: dpkg, coreutils, a shell) with
  python3 (for kconform's client pod, which brings its own kafka-python) or curl (the bridge sidecar pod's
  application container).

Archives go to <folder>/<name>.tar with a marker holding the hash of their recipe; `ensure_images` builds the
missing or stale ones. Images are named under REGISTRY, a registry that does not exist: a pod can only run them
from the node's own image store.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kconform.errors import PlatformError

REGISTRY = "kconform.invalid"  # .invalid never resolves (RFC 2606): nothing can be pulled from it
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
NOBODY = 65534  # Debian's base-passwd `nobody`: the uid kconform's client pod runs as
_DEBOOTSTRAP_TIMEOUT_S = 900.0
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PAUSE_C = r"""
/* The pod sandbox's process: holds the pod's namespaces, reaps orphans, exits on SIGTERM or SIGINT. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
    struct sigaction quit_action = {.sa_handler = quit};
    struct sigaction reap_action = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGTERM, &quit_action, NULL);
    sigaction(SIGINT, &quit_action, NULL);
    sigaction(SIGCHLD, &reap_action, NULL);
    for (;;) pause();
}
"""


@dataclass(frozen=True)
class Image:
    """One image: its reference, what its layers are made from (the recipe hashed into the marker), the
    functions that write each layer tar, and its config."""

    name: str
    tag: str
    recipe: str
    layers: tuple[Callable[[Path], None], ...] = field(compare=False)
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str = ""

    @property
    def reference(self) -> str:
        return f"{REGISTRY}/{self.name}:{self.tag}"

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.reference}\n{self.recipe}".encode()).hexdigest()


def _run(argv: list[str], what: str, timeout: float) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise PlatformError(f"{what} took over {timeout:.0f}s") from err
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise PlatformError(f"{what} failed ({' '.join(argv[:3])} ...):\n{tail}")


def _pause_layer(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = Path(tmp) / "pause.c", Path(tmp) / "pause"
        source.write_text(PAUSE_C)
        _run(["gcc", "-static", "-Os", "-s", "-o", str(binary), str(source)], "compiling pause", 120)
        with tarfile.open(out, "w") as layer:
            layer.add(binary, arcname="pause")


def _debian_layer(packages: tuple[str, ...]) -> Callable[[Path], None]:
    def write(out: Path) -> None:
        _run(
            [
                "mmdebstrap",
                "--quiet",
                "--variant=essential",
                f"--include={','.join(packages)}",
                # Documentation and translations are a third of the size and nothing here reads them.
                "--dpkgopt=path-exclude=/usr/share/doc/*",
                "--dpkgopt=path-exclude=/usr/share/man/*",
                "--dpkgopt=path-exclude=/usr/share/locale/*",
                "--format=tar",
                SUITE,
                str(out),
                MIRROR,
            ],
            f"mmdebstrap {SUITE} with {', '.join(packages)}",
            _DEBOOTSTRAP_TIMEOUT_S,
        )

    return write


_PYTHON_PACKAGES = ("python3-minimal", "libpython3.11-stdlib", "python-is-python3")
_PYTHON_LAYER = _debian_layer(_PYTHON_PACKAGES)
PAUSE = Image("pause", "3.10", PAUSE_C, (_pause_layer,), entrypoint=("/pause",), user="65535")
PYTHON = Image(
    "python",
    "3.11-bookworm",
    f"mmdebstrap essential {SUITE} {_PYTHON_PACKAGES}",
    (_PYTHON_LAYER,),
    cmd=("python3",),
)
CURL = Image(
    "curl", "bookworm", f"mmdebstrap essential {SUITE} curl", (_debian_layer(("curl",)),), cmd=("sh",)
)
IMAGES = (PAUSE, PYTHON, CURL)


def archive(folder: Path, image: Image) -> Path:
    return folder / f"{image.name}.tar"


def _marker(folder: Path, image: Image) -> Path:
    return folder / f".{image.name}.complete"


def is_built(folder: Path, image: Image) -> bool:
    marker = _marker(folder, image)
    return (
        archive(folder, image).is_file()
        and marker.is_file()
        and marker.read_text().strip() == image.fingerprint()
    )


def all_built(folder: Path) -> bool:
    return all(is_built(folder, image) for image in IMAGES)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(out: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    out.addfile(info, io.BytesIO(data))


def _descriptor(media_type: str, digest: str, size: int) -> dict[str, object]:
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": size}


def write_archive(image: Image, out: Path, layer_cache: dict[int, Path]) -> None:
    """Make each layer (once per build run: images may share one), then the OCI layout around them."""
    layers: list[tuple[Path, str]] = []
    for make in image.layers:
        key = id(make)
        if key not in layer_cache:
            path = out.parent / f".layer-{len(layer_cache)}.tar"
            make(path)
            layer_cache[key] = path
        layers.append((layer_cache[key], _sha256(layer_cache[key])))
    config: dict[str, object] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": [f"PATH={_PATH}"],
            **({"Entrypoint": list(image.entrypoint)} if image.entrypoint else {}),
            **({"Cmd": list(image.cmd)} if image.cmd else {}),
            **({"User": image.user} if image.user else {}),
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest}" for _, digest in layers]},
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = hashlib.sha256(config_bytes).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": _descriptor("application/vnd.oci.image.config.v1+json", config_digest, len(config_bytes)),
        "layers": [
            _descriptor("application/vnd.oci.image.layer.v1.tar", digest, path.stat().st_size)
            for path, digest in layers
        ],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    manifest_digest = hashlib.sha256(manifest_bytes).hexdigest()
    manifest_descriptor = _descriptor(
        "application/vnd.oci.image.manifest.v1+json", manifest_digest, len(manifest_bytes)
    )
    manifest_descriptor["annotations"] = {
        "io.containerd.image.name": image.reference,
        "org.opencontainers.image.ref.name": image.tag,
    }
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [manifest_descriptor],
    }
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w") as oci:
        _add_bytes(oci, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_bytes(oci, "index.json", json.dumps(index).encode())
        _add_bytes(oci, f"blobs/sha256/{config_digest}", config_bytes)
        _add_bytes(oci, f"blobs/sha256/{manifest_digest}", manifest_bytes)
        for path, digest in dict.fromkeys(layers):
            oci.add(path, arcname=f"blobs/sha256/{digest}")
    partial.replace(out)


def ensure_images(folder: Path) -> dict[str, float]:
    """Build every missing or stale image archive in `folder`; seconds per image built."""
    folder.mkdir(parents=True, exist_ok=True)
    built: dict[str, float] = {}
    layer_cache: dict[int, Path] = {}
    try:
        for image in IMAGES:
            if is_built(folder, image):
                continue
            start = time.monotonic()
            write_archive(image, archive(folder, image), layer_cache)
            _marker(folder, image).write_text(image.fingerprint() + "\n")
            built[image.name] = time.monotonic() - start
    finally:
        for path in layer_cache.values():
            path.unlink(missing_ok=True)
    return built
