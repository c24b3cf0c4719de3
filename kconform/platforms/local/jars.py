"""Resolve Maven coordinates (with their transitive runtime dependencies) into a cached folder of jars.

Layout: ``<cache>/jars/<key>/pom.xml``, ``lib/*.jar`` and ``complete.json``. The marker is written last and
atomically, so its presence means "resolved, use as is": no Maven call, and it works offline. Several
processes (pytest-xdist workers) may ask at once; a file lock per key lets exactly one run Maven.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import filelock

from kconform import fetch
from kconform.errors import MissingPrerequisite, PlatformError, UsageError, WaitTimeout
from kconform.paths import cache_dir

MARKER = "complete.json"
_LAYOUT_VERSION = 1  # part of the key: bump when the folder layout or pom template changes
# Pinned rather than Maven's built-in default (2.8 on Maven 3.8), so every machine resolves the same way.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_COORDINATE = re.compile(r"^([A-Za-z0-9_.\-]+):([A-Za-z0-9_.\-]+):([A-Za-z0-9_.\-+]+)$")
# Maven words "not on the repository" differently on a first attempt and on a cached failed one.
_NOT_FOUND = re.compile(r"(?:Could not find artifact|Failure to find) (\S+)|(\S+) was not found in")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
# Maven's transfer log line (batch mode): "Downloaded from central: <url> (1.2 MB at 3.4 MB/s)".
_DOWNLOADED = re.compile(r"Downloaded from [^:]+: \S+ \(([\d.]+) ([kMG]?B)")
_UNIT = {"B": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}

# The kafka_2.13 pom brings slf4j-api but no logging backend, so a broker started from it alone logs
# nothing. These mirror what the Kafka distribution ships: log4j2 behind slf4j 1.x from Kafka 4.0,
# reload4j (log4j 1.2) behind slf4j 1.x before. Listed directly so they win Maven's nearest-wins rule.
_LOG4J2 = "2.25.4"
_LOGGING_BY_KAFKA_MAJOR: dict[int, tuple[str, ...]] = {
    3: ("org.slf4j:slf4j-reload4j:1.7.36", "ch.qos.reload4j:reload4j:1.2.25"),
    4: (
        f"org.apache.logging.log4j:log4j-api:{_LOG4J2}",
        f"org.apache.logging.log4j:log4j-core:{_LOG4J2}",
        f"org.apache.logging.log4j:log4j-slf4j-impl:{_LOG4J2}",
    ),
}


def kafka_major(kafka_version: str) -> int:
    match = re.match(r"^(\d+)\.\d+", kafka_version)
    if not match:
        raise UsageError(f"not a Kafka version: {kafka_version!r} (expected e.g. 4.3.1 or 3.9.2)")
    major = int(match.group(1))
    if major < 3:
        raise UsageError(f"Kafka {kafka_version} is not supported by the local platform; use 3.9.x or 4.x")
    return major


def kafka_coordinates(kafka_version: str) -> list[str]:
    """The artifacts of a runnable broker (ZooKeeper included for 3.x) with a logging backend."""
    major = kafka_major(kafka_version)
    logging = _LOGGING_BY_KAFKA_MAJOR.get(major, _LOGGING_BY_KAFKA_MAJOR[max(_LOGGING_BY_KAFKA_MAJOR)])
    return [f"org.apache.kafka:kafka_2.13:{kafka_version}", *logging]


def kafka_classpath(
    kafka_version: str,
    cache_root: Path | None = None,
    *,
    timeout: float = 900,
    maven_repo_local: Path | None = None,
) -> list[Path]:
    """Jars to run `kafka.Kafka` (and, on 3.x, ZooKeeper's QuorumPeerMain) of this Kafka version."""
    return resolve_classpath(
        kafka_coordinates(kafka_version), cache_root, timeout=timeout, maven_repo_local=maven_repo_local
    )


def cached_kafka_classpath(kafka_version: str, cache_root: Path | None = None) -> list[Path] | None:
    """The jars of this Kafka version when already resolved into the cache, else None (no Maven call)."""
    coordinates = kafka_coordinates(kafka_version)
    return _read_marker((cache_root or cache_dir()) / "jars" / classpath_key(coordinates))


def kafka_logging_jvm_options(kafka_version: str, directory: Path, level: str = "INFO") -> list[str]:
    """Write a console logging config matching the backend `kafka_coordinates` adds; return the -D options.

    Console output is what the process supervisor captures in the process's log file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    pattern = "[%d] %p %m (%c)%n"
    if kafka_major(kafka_version) >= 4:
        path = directory / "log4j2.xml"
        path.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<Configuration>\n"
            '  <Appenders><Console name="out" target="SYSTEM_OUT">'
            f'<PatternLayout pattern="{escape(pattern)}"/></Console></Appenders>\n'
            f'  <Loggers><Root level="{level}"><AppenderRef ref="out"/></Root></Loggers>\n'
            "</Configuration>\n",
            encoding="utf-8",
        )
        return [f"-Dlog4j2.configurationFile={path}"]
    path = directory / "log4j.properties"
    path.write_text(
        f"log4j.rootLogger={level}, out\n"
        "log4j.appender.out=org.apache.log4j.ConsoleAppender\n"
        "log4j.appender.out.layout=org.apache.log4j.PatternLayout\n"
        f"log4j.appender.out.layout.ConversionPattern={pattern}\n",
        encoding="utf-8",
    )
    return [f"-Dlog4j.configuration={path.as_uri()}"]


def classpath_key(coordinates: Sequence[str]) -> str:
    """A stable folder name: readable first artifact plus a hash of the whole request."""
    digest = hashlib.sha256(f"{_LAYOUT_VERSION}\n".encode() + "\n".join(coordinates).encode()).hexdigest()
    _, artifact, version = _parse(coordinates[0])
    return f"{artifact}-{version}-{digest[:12]}"


def resolve_classpath(
    coordinates: Sequence[str],
    cache_root: Path | None = None,
    *,
    timeout: float = 900,
    maven_repo_local: Path | None = None,
) -> list[Path]:
    """Jars of `coordinates` and their transitive runtime dependencies, resolved once and cached.

    `maven_repo_local` points Maven at another local repository than ~/.m2 (benchmarks use a fresh one).
    """
    coordinates = list(coordinates)
    if not coordinates:
        raise UsageError("resolve_classpath needs at least one Maven coordinate (group:artifact:version)")
    for coordinate in coordinates:
        _parse(coordinate)
    folder = (cache_root or cache_dir()) / "jars" / classpath_key(coordinates)
    cached = _read_marker(folder)
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with filelock.FileLock(str(folder / ".lock"), timeout=timeout):
            # Another process may have finished while this one waited for the lock.
            cached = _read_marker(folder)
            if cached is not None:
                return cached
            _run_maven(coordinates, folder, timeout=timeout, maven_repo_local=maven_repo_local)
            return _write_marker(folder, coordinates)
    except filelock.Timeout as err:
        raise WaitTimeout(
            f"timed out after {timeout:.0f}s waiting for another process resolving {coordinates[0]} "
            f"in {folder}; if no such process runs, delete {folder / '.lock'}"
        ) from err


def _parse(coordinate: str) -> tuple[str, str, str]:
    match = _COORDINATE.match(coordinate)
    if not match:
        raise UsageError(f"not a Maven coordinate: {coordinate!r} (expected group:artifact:version)")
    return match.group(1), match.group(2), match.group(3)


def _read_marker(folder: Path) -> list[Path] | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    jars = [folder / "lib" / name for name in data.get("jars", [])]
    # A cache someone pruned by hand is not "done": resolve again rather than fail at java start.
    if not jars or not all(jar.is_file() for jar in jars):
        return None
    return jars


def _write_marker(folder: Path, coordinates: list[str]) -> list[Path]:
    jars = sorted((folder / "lib").glob("*.jar"))
    if not jars:
        raise PlatformError(f"Maven resolved no jars for {', '.join(coordinates)} into {folder / 'lib'}")
    payload = json.dumps({"coordinates": coordinates, "jars": [jar.name for jar in jars]}, indent=2)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".marker-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(payload)
    Path(temp).replace(folder / MARKER)
    return jars


def _pom(coordinates: list[str]) -> str:
    template = (
        "    <dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version></dependency>\n"
    )
    dependencies = "".join(
        template.format(*(escape(part) for part in _parse(coordinate))) for coordinate in coordinates
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>io.kconform.cache</groupId><artifactId>classpath</artifactId><version>1</version>\n"
        "  <packaging>pom</packaging>\n"
        f"  <dependencies>\n{dependencies}  </dependencies>\n"
        "</project>\n"
    )


def _run_maven(
    coordinates: list[str], folder: Path, *, timeout: float, maven_repo_local: Path | None
) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MissingPrerequisite(
            "mvn (Apache Maven) is not on PATH; the local platform needs it to fetch Kafka jars: "
            "apt-get install maven (or put a Maven 3.x bin/ folder on PATH)"
        )
    (folder / "pom.xml").write_text(_pom(coordinates), encoding="utf-8")
    lib = folder / "lib"
    shutil.rmtree(lib, ignore_errors=True)  # leftovers of an interrupted attempt
    argv = [
        mvn,
        "-B",  # no interactive progress bars; transfers are logged as lines the progress line reads
        "-Dstyle.color=never",
        f"{DEPENDENCY_PLUGIN}:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={lib}",
    ]
    if maven_repo_local is not None:
        argv.append(f"-Dmaven.repo.local={maven_repo_local}")
    # Own session, so a timeout can end Maven and anything it forked.
    process = subprocess.Popen(
        argv,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    progress = fetch.Progress(f"Kafka jars {coordinates[0]} (Maven)", None, fetch.progress_stream())
    lines: list[bytes] = []
    downloaded = [0]

    def follow() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            lines.append(raw)
            match = _DOWNLOADED.search(raw.decode("utf-8", errors="replace"))
            if match:
                downloaded[0] += int(float(match.group(1)) * _UNIT[match.group(2)])
                progress.update(downloaded[0])

    reader = threading.Thread(target=follow, name="mvn-output", daemon=True)
    reader.start()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(timeout=10)
        progress.abandon()
        raise PlatformError(
            f"mvn did not finish resolving {', '.join(coordinates)} within {timeout:.0f}s; "
            f"last output:\n{_last_lines(b''.join(lines))}"
        ) from None
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        progress.abandon()
        raise
    reader.join(timeout=10)
    output = b"".join(lines)
    if process.returncode == 0 and downloaded[0]:
        progress.finish(downloaded[0])
    if process.returncode == 0:
        return
    text = _ANSI.sub("", output.decode("utf-8", errors="replace"))
    missing = _NOT_FOUND.search(text)
    if missing:
        raise MissingPrerequisite(_not_found_message(coordinates, missing.group(1) or missing.group(2)))
    raise PlatformError(
        f"mvn failed (exit {process.returncode}) resolving {', '.join(coordinates)} "
        f"(pom: {folder / 'pom.xml'}); last output:\n{_last_lines(output)}"
    )


def _not_found_message(coordinates: list[str], missing: str) -> str:
    # Maven names the artifact as group:artifact:type:version; map it back to what was asked for.
    parts = missing.rstrip(".,").split(":")
    for coordinate in coordinates:
        group, artifact, version = _parse(coordinate)
        if parts[:2] == [group, artifact]:
            listing = f"{_MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/"
            return (
                f"{coordinate} was not found: version {version} of {group}:{artifact} does not exist on "
                f"Maven Central; pick a released version (listed at {listing})"
            )
    return (
        f"{missing} (needed by {', '.join(coordinates)}) was not found on Maven Central; "
        "check the requested versions"
    )


def _last_lines(output: bytes, count: int = 30) -> str:
    lines = _ANSI.sub("", output.decode("utf-8", errors="replace")).strip().splitlines()
    return "\n".join(lines[-count:])
