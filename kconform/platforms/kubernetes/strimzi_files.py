"""Strimzi's release files (CRDs, the release YAML), fetched once into the cache before any test runs.

A failed download is the user's to fix (network, proxy, or a folder of pre-downloaded files), found by
the preflight: one line, exit 2. `KCONFORM_STRIMZI_FILES` names a folder holding `<version>/<file>` (or
`<file>`) as published on the release page, for machines that cannot reach GitHub.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from kconform import options
from kconform.errors import MissingPrerequisite
from kconform.paths import cache_dir

DOWNLOAD_TIMEOUT_S = 120.0
ENV_FOLDER = "KCONFORM_STRIMZI_FILES"


def cache_path(version: str, url: str) -> Path:
    return cache_dir() / "strimzi" / version / url.rsplit("/", 1)[-1]


def _from_folder(version: str, filename: str) -> Path | None:
    folder = options.setting(ENV_FOLDER)
    if not folder:
        return None
    for candidate in (Path(folder) / version / filename, Path(folder) / filename):
        if candidate.is_file():
            return candidate
    raise MissingPrerequisite(
        f"{ENV_FOLDER}={folder} has no {version}/{filename}; download it from the Strimzi {version} release"
    )


def fetch(version: str, url: str) -> Path:
    """The local copy of a release file: from KCONFORM_STRIMZI_FILES, the cache, or downloaded now."""
    filename = url.rsplit("/", 1)[-1]
    provided = _from_folder(version, filename)
    if provided is not None:
        return provided
    target = cache_path(version, url)
    if target.is_file() and target.stat().st_size > 0:
        return target
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310 - pinned URLs
            data = bytes(response.read())
    except (urllib.error.URLError, OSError) as err:
        raise MissingPrerequisite(
            f"cannot download {url} ({getattr(err, 'reason', err)}); check the network, or put the file "
            f"into a folder named by {ENV_FOLDER}"
        ) from err
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(target)  # never a half-written file in the cache
    return target


def read(version: str, url: str) -> str:
    return fetch(version, url).read_text(encoding="utf-8")
