"""The Strimzi HTTP bridge distribution: found where the user put it, else downloaded, verified, unpacked.

Where it comes from: the bridge's release deploys the project with `mvn -P central deploy`
(.azure/scripts/push-to-central.sh at 0.31.2, strimzi/github-actions deploy-java at 1.1.0), and the
maven-assembly-plugin attaches `kafka-bridge-<version>.tar.gz` to that deployment, so Maven Central holds
the distribution at io/strimzi/kafka-bridge/<version>/. The Central Publisher Portal (the pom's
central-publishing-maven-plugin) publishes .sha512 files beside every artifact; the GitHub release page
publishes no checksum file. No digest could be pinned here ahead of time, so the published
`kafka-bridge-<version>.tar.gz.sha512` is read at download time and the archive must match it.
"""

from __future__ import annotations

import contextlib
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import filelock

from kconform import fetch, options, paths
from kconform.errors import MissingPrerequisite

BRIDGE_URL_ENV = "KCONFORM_BRIDGE_URL"  # a mirror of the Maven Central folder below
DEFAULT_BRIDGE_URL = "https://repo.maven.apache.org/maven2/io/strimzi/kafka-bridge"
LOCK_TIMEOUT_S = 1200.0


@dataclass(frozen=True)
class BridgeRelease:
    version: str
    sha512: str | None = None  # pinned digest, when one is known from a published source
    published_checksum: bool = False  # the repository publishes <archive>.sha512 to verify against


# Only versions with a way to verify them are downloaded; any other is the user's to unpack.
RELEASES: dict[str, BridgeRelease] = {
    "0.31.2": BridgeRelease("0.31.2", published_checksum=True),
    "1.1.0": BridgeRelease("1.1.0", published_checksum=True),
}


def fix_for(version: str) -> str:
    return (
        f"unpack kafka-bridge-{version}.tar.gz (strimzi-kafka-bridge release) into "
        f"{bridge_home_in_cache(version)} or set KCONFORM_BRIDGE_HOME"
    )


def bridge_home_in_cache(version: str) -> Path:
    return paths.cache_dir() / "bridge" / version


def archive_url(version: str) -> str:
    base = (options.setting(BRIDGE_URL_ENV) or DEFAULT_BRIDGE_URL).rstrip("/")
    return f"{base}/{version}/kafka-bridge-{version}.tar.gz"


def bridge_home(version: str) -> Path:
    """Where the unpacked bridge distribution of `version` lives.

    KCONFORM_BRIDGE_HOME (a folder holding `<version>/`, or directly one distribution), else
    `<cache>/bridge/<version>/`, which `ensure_bridge` fills when it can.
    """
    candidates = []
    override = options.setting("KCONFORM_BRIDGE_HOME")
    if override:
        candidates += [Path(override) / version, Path(override)]
    candidates.append(paths.cache_dir() / "bridge" / version)
    for candidate in candidates:
        if (candidate / "bin" / "kafka_bridge_run.sh").is_file() and (candidate / "libs").is_dir():
            return candidate
    raise MissingPrerequisite(
        f"the Strimzi HTTP bridge {version} distribution was not found (looked in "
        f"{', '.join(str(c) for c in candidates)}); unpack "
        f"kafka-bridge-{version}.tar.gz from the strimzi-kafka-bridge GitHub release into "
        f"{paths.cache_dir() / 'bridge' / version} or set KCONFORM_BRIDGE_HOME"
    )


def ensure_bridge(version: str, *, fetch_missing: bool = True) -> Path:
    """The unpacked bridge `version`: KCONFORM_BRIDGE_HOME or the cache, else downloaded into the cache."""
    try:
        return bridge_home(version)
    except MissingPrerequisite:
        if options.setting("KCONFORM_BRIDGE_HOME"):
            raise  # an explicit choice: never replaced by a download
    release = RELEASES.get(version)
    if release is None or (release.sha512 is None and not release.published_checksum):
        raise MissingPrerequisite(
            f"kconform has no verified download of the HTTP bridge {version}: {fix_for(version)}"
        )
    if not fetch_missing:
        raise fetch.NotFetchedYet(f"fetched on first use into {bridge_home_in_cache(version)}")
    bridge_root = paths.cache_dir() / "bridge"
    bridge_root.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(bridge_root / f".{version}.lock"), timeout=LOCK_TIMEOUT_S):
        with contextlib.suppress(MissingPrerequisite):
            return bridge_home(version)  # another process finished it while this one waited
        url = archive_url(version)
        archive = paths.cache_dir() / "downloads" / f"kafka-bridge-{version}.tar.gz"
        try:
            fetch.download(
                url,
                archive,
                digest=fetch.Digest("sha512", release.sha512) if release.sha512 else None,
                checksum_url=None if release.sha512 else f"{url}.sha512",
                label=f"HTTP bridge {version}",
            )
        except fetch.DownloadFailed as err:
            raise type(err)(f"cannot fetch the HTTP bridge {version}: {err}; {fix_for(version)}") from err
        unpack(archive, bridge_root / version)
        archive.unlink()
    return bridge_home(version)


def unpack(archive: Path, target: Path) -> None:
    """Unpack a `kafka-bridge-<v>/...` archive so that `target` holds bin/, libs/, config/.

    Unpacked next to `target` and renamed into place, so an interrupted unpack leaves no half folder.
    """
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.unpack-"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            tops = {PurePosixPath(m.name).parts[0] for m in members if PurePosixPath(m.name).parts}
            for member in members:
                _refuse_unsafe(archive, member)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(work, filter="data")
            else:  # Python < 3.11.4: members were checked above
                tar.extractall(work)  # noqa: S202
        root = work / next(iter(tops)) if len(tops) == 1 and (work / next(iter(tops))).is_dir() else work
        if not (root / "bin" / "kafka_bridge_run.sh").is_file():
            raise MissingPrerequisite(f"{archive} is not a bridge distribution (no bin/kafka_bridge_run.sh)")
        if target.exists():
            shutil.rmtree(target)  # an incomplete earlier folder; bridge_home() refused it
        root.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _refuse_unsafe(archive: Path, member: tarfile.TarInfo) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or member.isdev():
        raise MissingPrerequisite(f"{archive} holds an unsafe entry {member.name!r}; refusing to unpack it")
    if (member.issym() or member.islnk()) and (
        PurePosixPath(member.linkname).is_absolute() or ".." in PurePosixPath(member.linkname).parts
    ):
        raise MissingPrerequisite(f"{archive} holds a link leaving the folder: {member.name!r}")
