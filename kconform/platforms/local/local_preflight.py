"""Before any test runs: every prerequisite of the local platform and the selected workflows, checked or
fetched. `kconform run`, the pytest plugin and `kconform doctor` all use these checks.

A missing piece is one line naming it and the fix (with the variable that overrides it); the callers turn
those lines into exit code 2 with no test run. Cheap checks and small downloads come first; the Kafka jars
(Maven, the slowest) are fetched only when everything else is in place.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from kconform import crds, fetch, paths
from kconform.checks import Check
from kconform.errors import KconformError, MissingPrerequisite
from kconform.versions import Profile

MIN_FREE_GIB = 1.0  # jars (~50 MB per Kafka version), two bridges (~60 MB each), broker logs


def _free_disk() -> Check:
    folder = paths.cache_dir()
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    free_gib = shutil.disk_usage(existing).free / 2**30
    ok = free_gib >= MIN_FREE_GIB
    return Check(
        "free disk",
        ok,
        f"{free_gib:.1f} GiB free at {existing}",
        ""
        if ok
        else f"need {MIN_FREE_GIB:.0f} GiB free for {folder}; free space or set KCONFORM_CACHE elsewhere",
    )


def _java(major: int, what: str) -> Check:
    from kconform.platforms.local.java import find_java

    name = f"java {major}+ ({what})"
    try:
        found = find_java(major)
    except MissingPrerequisite as err:
        return Check(name, False, "none found", str(err))
    return Check(name, True, f"{found.executable} (Java {found.major})")


def _javas(profiles: Sequence[Profile], bridge: bool) -> list[Check]:
    needs: dict[int, list[str]] = {}
    for prof in profiles:
        needs.setdefault(prof.kafka_java, []).append(f"Kafka {prof.kafka_version}")
        if bridge:
            needs.setdefault(prof.bridge_java, []).append(f"HTTP bridge {prof.bridge_version}")
    return [_java(major, ", ".join(dict.fromkeys(whats))) for major, whats in sorted(needs.items())]


def _maven(profiles: Sequence[Profile]) -> Check:
    from kconform.platforms.local.jars import cached_kafka_classpath

    missing = [p.kafka_version for p in profiles if cached_kafka_classpath(p.kafka_version) is None]
    if not missing:
        return Check("maven", True, "not needed: the Kafka jars are cached")
    mvn = shutil.which("mvn")
    if mvn:
        return Check("maven", True, f"{mvn} (fetches the Kafka {', '.join(missing)} jars once)")
    return Check(
        "maven",
        False,
        "mvn not on PATH",
        f"mvn is not on PATH and the Kafka {', '.join(missing)} jars are not cached: apt-get install maven "
        "(or put a Maven 3 bin/ folder on PATH)",
    )


def _crds(profiles: Sequence[Profile], fetch_missing: bool, crd_dir: Path | None) -> Check:
    failed: list[str] = []
    found: list[str] = []
    fix = ""
    for prof in profiles:
        try:
            found.append(str(crds.crd_folder(prof.strimzi, fetch_missing=fetch_missing, root=crd_dir)))
        except fetch.NotFetchedYet as later:
            found.append(str(later))
        except MissingPrerequisite as err:
            failed.append(prof.strimzi)
            fix = fix or _fix(err, crds.FIX)
    if failed:
        return Check(f"Strimzi CRDs {', '.join(failed)}", False, "not found", fix)
    return Check(f"Strimzi CRDs {', '.join(p.strimzi for p in profiles)}", True, ", ".join(found))


def _bridges(profiles: Sequence[Profile], fetch_missing: bool) -> Check:
    from kconform.platforms.local.bridge_download import ensure_bridge, fix_for

    versions = list(dict.fromkeys(p.bridge_version for p in profiles))
    failed: list[str] = []
    found: list[str] = []
    fix = ""
    for version in versions:
        try:
            found.append(str(ensure_bridge(version, fetch_missing=fetch_missing)))
        except fetch.NotFetchedYet as later:
            found.append(str(later))
        except MissingPrerequisite as err:
            failed.append(version)
            fix = fix or _fix(err, fix_for("<version>"))
    if failed:
        return Check(f"HTTP bridge {', '.join(failed)}", False, "distribution not found", fix)
    return Check(f"HTTP bridge {', '.join(versions)}", True, ", ".join(found))


def _fix(err: MissingPrerequisite, general_fix: str) -> str:
    """A failed download: what could not be fetched and why, then the fix once. Anything else already
    names its fix."""
    innermost: BaseException = err
    while isinstance(innermost.__cause__, fetch.DownloadFailed):
        innermost = innermost.__cause__
    if innermost is err:
        return str(err)
    return f"could not fetch: {innermost}; {general_fix}"


def local_checks(
    profiles: Sequence[Profile], *, bridge: bool, fetch_missing: bool, crd_dir: Path | None = None
) -> list[Check]:
    """Every prerequisite of the local platform for these profiles (and the bridge when asked);
    `crd_dir` is the run's explicit CRD folder (--crd-dir), if any."""
    checks = [
        _free_disk(),
        *_javas(profiles, bridge),
        _maven(profiles),
        _crds(profiles, fetch_missing, crd_dir),
    ]
    if bridge:
        checks.append(_bridges(profiles, fetch_missing))
    return checks


def fetch_jars(profiles: Sequence[Profile]) -> list[Check]:
    """Resolve the Kafka jars of every profile now (Maven, with a progress line), or say why not."""
    from kconform.platforms.local.jars import kafka_classpath

    checks = []
    for version in dict.fromkeys(p.kafka_version for p in profiles):
        try:
            jars = kafka_classpath(version)
        except KconformError as err:
            checks.append(Check(f"Kafka {version} jars", False, str(err).splitlines()[0]))
        else:
            checks.append(Check(f"Kafka {version} jars", True, f"{len(jars)} jars"))
    return checks


def require_local(profiles: Sequence[Profile], *, bridge: bool, crd_dir: Path | None = None) -> list[Check]:
    """Check and fetch everything; raise MissingPrerequisite with one line per missing piece."""
    checks = local_checks(profiles, bridge=bridge, fetch_missing=True, crd_dir=crd_dir)
    if all(check.ok for check in checks):
        checks += fetch_jars(profiles)
    problems = [check.line() for check in checks if not check.ok]
    if problems:
        raise MissingPrerequisite("\n".join(problems))
    return checks
