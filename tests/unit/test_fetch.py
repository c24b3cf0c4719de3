"""Downloads into the cache against a real HTTP server on 127.0.0.1: verified, atomic, offline on the
second run. The server is a test double playing the part of GitHub (raw CRD files) and Maven Central (the
bridge archive and its published .sha512); it serves real bytes over real sockets."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kconform import crds, fetch, paths
from kconform.paths import default_crd_root
from kconform.platforms.local import bridge_download

# The real CRDs: ../shared/strimzi-crds beside the project, KCONFORM_CRD_DIR, or those CI downloaded.
SHARED_CRDS = default_crd_root() or Path("/work/shared/strimzi-crds")


class Files(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    truncate: set[str] = set()  # paths whose body stops halfway and the connection closes

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path in self.truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server:
    def __init__(self) -> None:
        handler = type("Handler", (Files,), {"files": {}, "truncate": set()})
        self.handler = handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, path: str, body: bytes, *, truncate: bool = False) -> str:
        self.handler.files[path] = body
        if truncate:
            self.handler.truncate.add(path)
        return self.url + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache and no CRDs or bridge from the environment or beside the project."""
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path / "cache"))
    for name in ("KCONFORM_CRD_DIR", "KCONFORM_BRIDGE_HOME", "KCONFORM_STRIMZI_URL", "KCONFORM_BRIDGE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(paths, "CHECKOUT_ROOT", tmp_path / "fresh-clone")  # nothing in ../shared
    return tmp_path / "cache"


def _leftovers(folder: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        if folder.exists()
        else []
    )


def test_a_wrong_digest_is_refused_and_nothing_is_kept(server: Server, tmp_path: Path) -> None:
    url = server.serve("/file.bin", b"tampered" * 1000)
    target = tmp_path / "dl" / "file.bin"
    with pytest.raises(fetch.DigestMismatch, match="nothing was kept"):
        fetch.download(url, target, digest=fetch.Digest("sha256", hashlib.sha256(b"genuine").hexdigest()))
    assert _leftovers(tmp_path / "dl") == []


def test_an_interrupted_download_leaves_no_partial_file(server: Server, tmp_path: Path) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB, the server hangs up after half of it
    url = server.serve("/big.bin", body, truncate=True)
    target = tmp_path / "dl" / "big.bin"
    with pytest.raises(fetch.DownloadFailed, match="broke off after"):
        fetch.download(url, target, digest=fetch.Digest("sha256", hashlib.sha256(body).hexdigest()))
    assert _leftovers(tmp_path / "dl") == []


def test_a_download_reports_size_and_speed(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = b"x" * (3 * 1024 * 1024)
    url = server.serve("/three.bin", body)
    speeds: list[float] = []
    fetch.download(
        url,
        tmp_path / "three.bin",
        digest=fetch.Digest("sha256", hashlib.sha256(body).hexdigest()),
        on_speed=speeds.append,
    )
    line = capsys.readouterr().err.strip()
    assert line.startswith("kconform: downloaded three.bin: 3.0 MiB in ") and line.endswith("/s)")
    assert speeds and speeds[0] > 0
    print(f"loopback download speed: {speeds[0] / 2**20:.0f} MiB/s")


def _serve_crds(server: Server, version: str) -> None:
    for name in crds.CRD_SHA256[version]:
        path = f"/{version}/{crds.CRD_PATH}/{name}"
        server.serve(path, (SHARED_CRDS / version / name).read_bytes())


@pytest.mark.parametrize("version", sorted(crds.CRD_SHA256))
def test_the_pinned_digests_are_those_of_the_real_crds(version: str) -> None:
    """The pins are the SHA-256 of packaging/install/cluster-operator/<file> at the tag, which the files in
    ../shared/strimzi-crds/<version>/ are byte for byte."""
    for name, sha256 in crds.CRD_SHA256[version].items():
        assert hashlib.sha256((SHARED_CRDS / version / name).read_bytes()).hexdigest() == sha256, name


def test_crds_are_fetched_once_then_served_from_the_cache_with_the_server_gone(
    server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KCONFORM_STRIMZI_URL", server.url)
    _serve_crds(server, "1.2.0")
    folder = crds.crd_folder("1.2.0")
    assert folder == cache / "crds" / "1.2.0"
    assert sorted(p.name for p in folder.iterdir()) == sorted(crds.CRD_SHA256["1.2.0"])
    server.stop()
    assert crds.crd_folder("1.2.0") == folder  # offline: no request made


def test_a_crd_with_another_digest_is_refused(
    server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KCONFORM_STRIMZI_URL", server.url)
    _serve_crds(server, "1.2.0")
    server.serve(f"/1.2.0/{crds.CRD_PATH}/040-Crd-kafka.yaml", b"kind: CustomResourceDefinition\n")
    with pytest.raises(fetch.DigestMismatch):
        crds.crd_folder("1.2.0")
    assert not (cache / "crds" / "1.2.0" / "040-Crd-kafka.yaml").exists()
    assert not any(p.name.endswith(".part") for p in (cache / "crds" / "1.2.0").iterdir())


def test_an_explicit_crd_dir_wins_and_is_never_downloaded_into(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine" / "1.2.0").mkdir(parents=True)
    monkeypatch.setenv("KCONFORM_CRD_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("KCONFORM_STRIMZI_URL", "http://127.0.0.1:9")  # would fail if it were asked
    assert crds.crd_folder("1.2.0") == tmp_path / "mine" / "1.2.0"


def _bridge_archive(version: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in (
            (f"kafka-bridge-{version}/bin/kafka_bridge_run.sh", b"#!/bin/sh\n"),
            (f"kafka-bridge-{version}/libs/kafka-bridge-{version}.jar", b"PK"),
            (f"kafka-bridge-{version}/config/application.properties", b"http.port=8080\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(text))
    return buffer.getvalue()


def _serve_bridge(server: Server, version: str, *, checksum: str | None = None) -> None:
    archive = _bridge_archive(version)
    path = f"/{version}/kafka-bridge-{version}.tar.gz"
    server.serve(path, archive)
    # Maven Central's checksum files hold the bare hex digest.
    server.serve(path + ".sha512", (checksum or hashlib.sha512(archive).hexdigest()).encode())


def test_the_bridge_is_verified_against_the_published_checksum_unpacked_and_then_offline(
    server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KCONFORM_BRIDGE_URL", server.url)
    _serve_bridge(server, "1.1.0")
    home = bridge_download.ensure_bridge("1.1.0")
    assert home == cache / "bridge" / "1.1.0"
    assert (home / "bin" / "kafka_bridge_run.sh").is_file() and (home / "libs").is_dir()
    assert _leftovers(cache / "downloads") == []  # the archive is gone once unpacked
    server.stop()
    assert bridge_download.ensure_bridge("1.1.0") == home


def test_a_bridge_archive_not_matching_its_published_checksum_is_refused(
    server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KCONFORM_BRIDGE_URL", server.url)
    _serve_bridge(server, "1.1.0", checksum=hashlib.sha512(b"another archive").hexdigest())
    with pytest.raises(fetch.DigestMismatch):
        bridge_download.ensure_bridge("1.1.0")
    assert [name for name in _leftovers(cache) if not name.endswith(".lock")] == []


def test_a_bridge_version_without_a_verifiable_download_is_refused(cache: Path) -> None:
    with pytest.raises(fetch.MissingPrerequisite, match="no verified download") as caught:
        bridge_download.ensure_bridge("9.9.9")
    assert "KCONFORM_BRIDGE_HOME" in str(caught.value) and len(str(caught.value).splitlines()) == 1
