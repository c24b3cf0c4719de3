"""Java discovery: version parsing and the choice among the JDKs of this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from kconform.errors import MissingPrerequisite
from kconform.platforms.local import java
from kconform.platforms.local.java import find_java, parse_java_major


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6)', 17),
        ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment (build 1.8.0_392-b08)', 8),
        ('openjdk version "25" 2025-09-16\nOpenJDK 64-Bit Server VM', 25),
        ('openjdk version "25.0.3" 2026-04-21 LTS', 25),
        ('openjdk version "21-ea" 2023-09-19', 21),
        ('Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version "11.0.2" 2019-01-15', 11),
    ],
)
def test_parse_java_major(output: str, major: int) -> None:
    assert parse_java_major(output) == major


def test_parse_java_major_rejects_output_without_a_version() -> None:
    with pytest.raises(ValueError, match="no version"):
        parse_java_major("bash: java: command not found")


def _installed_majors() -> set[int]:
    runtimes = [java.probe_java(path / "bin" / "java") for path in java.JVM_ROOT.glob("*")]
    return {runtime.major for runtime in runtimes if isinstance(runtime, java.JavaRuntime)}


@pytest.fixture
def clean_java_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KCONFORM_JAVA_HOME", raising=False)
    monkeypatch.delenv("JAVA_HOME", raising=False)


@pytest.mark.usefixtures("clean_java_env")
def test_find_java_picks_the_lowest_major_that_is_new_enough() -> None:
    majors = _installed_majors()
    if not majors:
        pytest.skip("no JDK under /usr/lib/jvm")
    lowest = min(majors)
    chosen = find_java(lowest)
    assert chosen.major == lowest
    assert chosen.executable.is_file()
    assert chosen.executable == chosen.home / "bin" / "java"
    above = sorted(major for major in majors if major > lowest)
    if above:
        # Asking for one more than the lowest must skip to the next installed major, not the newest.
        assert find_java(lowest + 1).major == above[0]
    assert find_java(lowest) == chosen  # stable


@pytest.mark.usefixtures("clean_java_env")
def test_find_java_too_new_names_what_was_found_and_the_fix() -> None:
    newest = max(_installed_majors() | {17})
    with pytest.raises(MissingPrerequisite) as caught:
        find_java(newest + 1)
    message = str(caught.value)
    assert f"need Java >= {newest + 1}" in message
    assert "apt-get install openjdk-" in message
    assert "KCONFORM_JAVA_HOME" in message


def test_explicit_java_home_that_is_missing_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KCONFORM_JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(MissingPrerequisite, match="no-jdk"):
        find_java(8)


def test_explicit_java_home_wins_over_lower_majors(monkeypatch: pytest.MonkeyPatch) -> None:
    majors = sorted(_installed_majors())
    if len(majors) < 2:
        pytest.skip("needs two JDK majors under /usr/lib/jvm")
    newest_home = next(
        runtime.home
        for path in java.JVM_ROOT.glob("*")
        if isinstance(runtime := java.probe_java(path / "bin" / "java"), java.JavaRuntime)
        and runtime.major == majors[-1]
    )
    monkeypatch.setenv("KCONFORM_JAVA_HOME", str(newest_home))
    assert find_java(majors[0]).major == majors[-1]


def test_a_fake_java_reports_its_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real executable that prints an old-style version, standing in for a Java 8 install.
    home = tmp_path / "jdk8"
    (home / "bin").mkdir(parents=True)
    fake = home / "bin" / "java"
    fake.write_text("#!/bin/sh\necho 'java version \"1.8.0_402\"' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("KCONFORM_JAVA_HOME", str(home))
    assert find_java(8).major == 8
    with pytest.raises(MissingPrerequisite, match=r"jdk8 \(Java 8\)"):
        find_java(17)
