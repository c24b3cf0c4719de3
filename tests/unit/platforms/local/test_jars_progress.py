"""Resolving the Kafka jars shows the same progress line as every other download (size, speed), read from
Maven's transfer log. The `mvn` here is a test double on PATH playing Maven's part: it logs two transfers
the way Maven 3 does in batch mode and writes the jars where copy-dependencies would."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kconform.platforms.local.jars import resolve_classpath

FAKE_MVN = """#!/bin/sh
echo "[INFO] Downloading from central: https://repo.maven.apache.org/maven2/a/a/1/a-1.jar"
echo "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/a/a/1/a-1.jar (1.5 MB at 3.0 MB/s)"
echo "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/b/b/1/b-1.pom (512 kB at 1.0 MB/s)"
for arg in "$@"; do
  case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac
done
mkdir -p "$out" && : > "$out/a-1.jar"
"""


def test_maven_transfers_show_as_one_progress_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mvn = bin_dir / "mvn"
    mvn.write_text(FAKE_MVN)
    mvn.chmod(mvn.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    jars = resolve_classpath(["a:a:1"], tmp_path / "cache", timeout=60)
    assert [jar.name for jar in jars] == ["a-1.jar"]
    line = capsys.readouterr().err.strip()
    assert line.startswith("kconform: downloaded Kafka jars a:a:1 (Maven): 1.9 MiB in ")
    assert line.endswith("/s)")
