"""Find a Java runtime of at least a given major version for the broker and the bridge.

Candidates, in this order: $KCONFORM_JAVA_HOME, $JAVA_HOME, every folder under /usr/lib/jvm, `java` on
PATH. The lowest major version that is new enough wins (ties keep candidate order), so the choice is
stable across machines with several JDKs. $KCONFORM_JAVA_HOME is an explicit choice: when set it is the
only candidate, and one that is too old or broken is an error rather than silently skipped.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kconform import options
from kconform.errors import MissingPrerequisite, UsageError

JVM_ROOT = Path("/usr/lib/jvm")
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


@dataclass(frozen=True)
class JavaRuntime:
    executable: Path
    major: int
    home: Path


def parse_java_major(version_output: str) -> int:
    """Major version from `java -version` output: "17.0.15" -> 17, "1.8.0_392" -> 8, "25" -> 25."""
    match = _VERSION.search(version_output)
    if not match:
        raise ValueError(f"no version in java -version output: {version_output.strip()[:200]!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:  # the pre-9 "1.x" scheme
        return int(match.group(2))
    return major


def find_java(min_major: int) -> JavaRuntime:
    """The lowest Java major >= `min_major` among the candidates; MissingPrerequisite if none."""
    if min_major < 1:
        raise UsageError(f"min_major must be a Java major version such as 17, not {min_major}")
    explicit = options.setting("KCONFORM_JAVA_HOME")
    found: list[JavaRuntime] = []
    problems: list[str] = []
    for executable in _candidates(explicit):
        runtime = probe_java(executable)
        if isinstance(runtime, str):
            problems.append(runtime)
        else:
            found.append(runtime)
    suitable = [runtime for runtime in found if runtime.major >= min_major]
    if suitable:
        return min(suitable, key=lambda runtime: runtime.major)  # min() keeps the first of equal majors
    seen = ", ".join(f"{runtime.home} (Java {runtime.major})" for runtime in found) or "no Java at all"
    if problems:
        seen += "; unusable: " + "; ".join(problems)
    where = (
        f"KCONFORM_JAVA_HOME={explicit}" if explicit else "KCONFORM_JAVA_HOME, JAVA_HOME, /usr/lib/jvm, PATH"
    )
    raise MissingPrerequisite(
        f"need Java >= {min_major}, found {seen} (searched {where}); install a JDK >= {min_major}, "
        f"e.g. apt-get install openjdk-{max(min_major, 17)}-jre-headless, or set KCONFORM_JAVA_HOME "
        "to its folder"
    )


def _candidates(explicit: str | None) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser() / "bin" / "java"]
    executables: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        # Kept even when broken, so the error can say JAVA_HOME points nowhere useful.
        executables.append(Path(os.environ["JAVA_HOME"]).expanduser() / "bin" / "java")
    if JVM_ROOT.is_dir():
        homes = sorted(path for path in JVM_ROOT.iterdir() if path.is_dir())
        executables.extend(home / "bin" / "java" for home in homes if (home / "bin" / "java").is_file())
    on_path = shutil.which("java")
    if on_path:
        executables.append(Path(on_path))
    # The same JDK is often reachable several ways (symlinked folders, PATH); probe each once.
    unique: dict[Path, Path] = {}
    for executable in executables:
        unique.setdefault(executable.resolve(), executable)
    return list(unique.values())


def probe_java(executable: Path) -> JavaRuntime | str:
    """A JavaRuntime, or a one-line reason this executable cannot be used. Cached per resolved path."""
    return _probe_resolved(executable.resolve())


@functools.cache
def _probe_resolved(executable: Path) -> JavaRuntime | str:
    if not executable.is_file():
        return f"{executable} does not exist"
    try:
        result = subprocess.run(
            [str(executable), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{executable}: {err}"
    try:
        major = parse_java_major(result.stderr or result.stdout)
    except ValueError as err:
        return f"{executable}: {err}"
    # <home>/bin/java, resolved through symlinks such as /usr/bin/java -> /etc/alternatives/java.
    return JavaRuntime(executable=executable, major=major, home=executable.parent.parent)
