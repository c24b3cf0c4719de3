"""The conformance page as a person sees it: headless Chromium renders it, dumps its DOM, takes a screenshot.

Needs the Debian package `chromium` (/usr/bin/chromium). Without it the test fails, naming the package: a
missing browser must not turn into a silently skipped check. The screenshot is kept under
$KCONFORM_SCREENSHOT_DIR when set, else under reports/screenshots/ (uploaded with the reports).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from kconform.paths import PROJECT_ROOT
from kconform.report.model import cell_id
from kconform.report.writer import write_merged
from tests.unit.report.test_report_page import (
    KIND_0452,
    KIND_135,
    LOCAL,
    WORKFLOWS,
    find,
    one,
    parse_page,
    three_cells,
)

CHROMIUM = "/usr/bin/chromium"
WINDOW = (1280, 900)
BROWSER_TIMEOUT_S = 120  # a cold start on a busy 2-core machine takes a few seconds; this bounds a hang


def _chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if not found:
        pytest.fail(
            f"{CHROMIUM} not found: install the Debian package with `apt-get install -y chromium` "
            "(CI installs it in .ci/run)"
        )
    return found


def _browse(tmp_path: Path, page: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *mode,
        page.resolve().as_uri(),
    ]
    # HOME in tmp_path too: Chromium writes caches and crash folders there, not in the user's home
    env = {**os.environ, "HOME": str(tmp_path)}
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, env=env, check=False
    )
    assert completed.returncode == 0, f"chromium exited {completed.returncode}: {completed.stderr[-2000:]}"
    return completed


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


@pytest.fixture
def page(tmp_path: Path) -> Path:
    return write_merged(three_cells(), tmp_path / "reports")["html"]


def test_browser_renders_the_grid(tmp_path: Path, page: Path) -> None:
    dom = _browse(tmp_path, page, "--dump-dom").stdout
    elements = parse_page(dom)

    one(elements, "table", id="grid")
    rows = [row.attrs["data-workflow"] for row in find(elements, "tr") if "data-workflow" in row.attrs]
    assert rows == sorted(WORKFLOWS)
    heads = [head.attrs["data-cell"] for head in find(elements, "th", class_="cell-head")]
    assert heads == [cell_id(KIND_0452), cell_id(KIND_135), cell_id(LOCAL)]
    squares = find(elements, "td", class_="square")
    assert len(squares) == len(WORKFLOWS) * len(heads)
    red = find(elements, "td", class_="status-failed")
    assert [(s.attrs["data-workflow"], s.attrs["data-cell"]) for s in red] == [
        ("tls-client-auth", cell_id(KIND_0452))
    ]
    assert one(elements, "p", id="summary").attrs["data-state"] == "failed"


def test_browser_screenshot_of_the_page(tmp_path: Path, page: Path) -> None:
    shots = Path(os.environ.get("KCONFORM_SCREENSHOT_DIR") or PROJECT_ROOT / "reports" / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    target = shots / "index.png"
    target.unlink(missing_ok=True)

    _browse(tmp_path, page, f"--screenshot={target}", f"--window-size={WINDOW[0]},{WINDOW[1]}")

    assert target.is_file(), f"chromium wrote no screenshot at {target}"
    assert _png_size(target) == WINDOW
    # a blank white page compresses to a few kilobytes; the grid, tables and text make it far larger
    assert target.stat().st_size > 20_000, f"{target} looks blank ({target.stat().st_size} bytes)"


def test_a_missing_browser_fails_naming_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium"):
        _chromium()
