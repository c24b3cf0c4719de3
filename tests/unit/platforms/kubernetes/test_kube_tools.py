"""The tool bootstrap: pinned downloads verified by SHA-256, refused on mismatch, clear when offline."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kconform.errors import MissingPrerequisite, PlatformError
from kconform.platforms.kubernetes import tools

NAME = "kconform-test-tool-7f3a"  # never on PATH
PAYLOAD = b"#!/bin/sh\necho pinned tool\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "tool").write_bytes(PAYLOAD)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/tool"
    finally:
        httpd.shutdown()
        httpd.server_close()


def table(url: str, sha: str) -> dict[tuple[str, str, str], tools.ToolDownload]:
    system, arch = tools.host_platform()
    return {(NAME, system, arch): tools.ToolDownload("v1", url, sha)}


def test_verified_download_is_installed_and_cached(server: str, tmp_path: Path) -> None:
    good = hashlib.sha256(PAYLOAD).hexdigest()
    path = tools.ensure_tool(NAME, downloads=table(server, good), base_dir=tmp_path / "cache")
    assert path.read_bytes() == PAYLOAD and path.stat().st_mode & 0o111
    # Cached: a second call does not download (the table now points nowhere).
    assert (
        tools.ensure_tool(NAME, downloads=table("http://127.0.0.1:9/none", good), base_dir=tmp_path / "cache")
        == path
    )


def test_checksum_mismatch_is_refused_and_file_deleted(server: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(PlatformError, match="does not match the pinned"):
        tools.ensure_tool(NAME, downloads=table(server, "0" * 64), base_dir=cache)
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_offline_is_a_missing_prerequisite(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(MissingPrerequisite, match="cannot download"):
        tools.ensure_tool(NAME, downloads=table(f"http://127.0.0.1:{port}/tool", "0" * 64), base_dir=tmp_path)


def test_no_confirmed_checksum_means_install_it_yourself(tmp_path: Path) -> None:
    with pytest.raises(MissingPrerequisite, match="no verified download"):
        tools.ensure_tool(NAME, downloads={}, base_dir=tmp_path)


def test_pinned_table_has_only_full_sha256_values() -> None:
    assert tools.DOWNLOADS
    for download in tools.DOWNLOADS.values():
        assert len(download.sha256) == 64 and int(download.sha256, 16) >= 0
        assert download.url.startswith("https://")
    assert not any(key[0] == "minikube" for key in tools.DOWNLOADS)  # no confirmed checksum: not downloaded
