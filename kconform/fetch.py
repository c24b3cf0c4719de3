"""Download one file into the cache, verified, atomically, with a progress line.

The body goes to a temporary file in the target's own folder and is renamed onto the target only after its
digest matched: a wrong digest, a dropped connection or Ctrl-C leaves nothing behind, and a file present at
the target is always a verified one (which is what lets a second run work offline from the cache).

The digest is either pinned (`Digest`) or read at download time from a checksum file the publisher puts
beside the artifact (`checksum_url`), for artifacts whose digest could not be pinned ahead of time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO, TextIO

from kconform.errors import MissingPrerequisite

CONNECT_TIMEOUT_S = 30.0  # per socket operation: connecting, and each read of the body
TOTAL_TIMEOUT_S = 900.0  # the whole body; a stalled-but-alive server cannot hold a run forever
CHUNK = 256 * 1024
PROGRESS_EVERY_S = 0.5
_HEX = re.compile(r"\b([0-9a-fA-F]{64}|[0-9a-fA-F]{128})\b")
_USER_AGENT = "kconform-prerequisites"


class DownloadFailed(MissingPrerequisite):
    """The file could not be fetched (network, HTTP status, truncated body, timeout)."""


class NotFetchedYet(MissingPrerequisite):
    """Asked not to download, and the artifact is not in the cache yet (it would be fetched on first use)."""


class DigestMismatch(DownloadFailed):
    """The body arrived but is not the pinned or published file; nothing was kept."""


@dataclass(frozen=True)
class Digest:
    algorithm: str  # a hashlib name: sha256 or sha512
    value: str  # lowercase hex

    def __post_init__(self) -> None:
        if self.algorithm not in ("sha256", "sha512"):
            raise ValueError(f"unsupported digest algorithm {self.algorithm!r}; use sha256 or sha512")
        if len(self.value) != hashlib.new(self.algorithm).digest_size * 2:
            raise ValueError(f"{self.algorithm} digest must be hex of the right length: {self.value!r}")


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_checksum_file(text: str, algorithm: str) -> Digest:
    """The digest in a published checksum file: bare hex (Maven Central) or `hex  filename` (sha*sum)."""
    match = _HEX.search(text)
    if match is None:
        raise ValueError(f"no {algorithm} digest in checksum file: {text.strip()[:120]!r}")
    return Digest(algorithm, match.group(1).lower())


def human_size(count: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.2f} GiB"


class Progress:
    """One line on stderr while a body downloads: what, how much of how much, how fast.

    On a terminal the line is rewritten in place; elsewhere (CI logs) only the final line is written.
    """

    def __init__(self, label: str, total: int | None, stream: TextIO | None) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0
        self.live = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def _line(self, done: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        size = human_size(done) + (f" of {human_size(self.total)}" if self.total else "")
        return f"kconform: downloading {self.label}: {size}, {human_size(done / elapsed)}/s"

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.live and self.stream is not None and now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.stream.write("\r" + self._line(done) + "\033[K")
            self.stream.flush()

    def finish(self, done: int) -> float:
        """Write the final line; return the speed in bytes per second."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        if self.stream is not None:
            prefix = "\r" if self.live else ""
            self.stream.write(
                f"{prefix}kconform: downloaded {self.label}: {human_size(done)} in {elapsed:.1f} s "
                f"({human_size(done / elapsed)}/s)" + ("\033[K" if self.live else "") + "\n"
            )
            self.stream.flush()
        return done / elapsed

    def abandon(self) -> None:
        """End a rewritten line that will not be finished, so the error starts on its own line."""
        if self.live and self.last and self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def _open(url: str, timeout: float) -> urllib.response.addinfourl:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})  # noqa: S310 - pinned URLs
    try:
        response: urllib.response.addinfourl = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as err:
        raise DownloadFailed(f"{url} answered HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError, HTTPException) as err:
        reason = getattr(err, "reason", err)
        raise DownloadFailed(f"cannot reach {url} ({reason})") from err
    return response


def fetch_text(url: str, *, timeout: float = CONNECT_TIMEOUT_S, limit: int = 64 * 1024) -> str:
    """A small text resource (a checksum file), read whole."""
    with _open(url, timeout) as response:
        try:
            body = response.read(limit + 1)
        except (OSError, HTTPException) as err:
            raise DownloadFailed(f"reading {url} failed ({err})") from err
    if len(body) > limit:
        raise DownloadFailed(f"{url} is larger than a checksum file can be ({limit} bytes)")
    return body.decode("utf-8", errors="replace")


def download(
    url: str,
    target: Path,
    *,
    digest: Digest | None = None,
    checksum_url: str | None = None,
    checksum_algorithm: str = "sha512",
    label: str | None = None,
    timeout: float = CONNECT_TIMEOUT_S,
    total_timeout: float = TOTAL_TIMEOUT_S,
    on_speed: Callable[[float], None] | None = None,
) -> Path:
    """`target`, from the cache when a verified copy is there, else downloaded now and verified.

    Exactly one of `digest` (pinned) and `checksum_url` (published beside the artifact, read now) says what
    the file must hash to. Raises DownloadFailed / DigestMismatch with one line naming the URL.
    """
    if (digest is None) == (checksum_url is None):
        raise ValueError("download() needs exactly one of digest= (pinned) or checksum_url= (published)")
    if target.is_file() and (digest is None or file_digest(target, digest.algorithm) == digest.value):
        return target  # verified when it was written (renamed only after the digest matched)
    if digest is None:
        assert checksum_url is not None
        try:
            digest = parse_checksum_file(fetch_text(checksum_url, timeout=timeout), checksum_algorithm)
        except ValueError as err:
            raise DownloadFailed(f"{checksum_url}: {err}") from err
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            received, actual, speed = _stream(
                url, out, digest.algorithm, label or target.name, timeout, total_timeout
            )
        if actual != digest.value:
            raise DigestMismatch(
                f"refusing {url}: its {digest.algorithm} is {actual}, not the expected {digest.value} "
                f"({received} bytes received); nothing was kept"
            )
        temp.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()  # a refused, truncated or interrupted body; gone after the rename otherwise
    if on_speed is not None:
        on_speed(speed)
    return target


# Where progress lines go; the pytest plugin and tests redirect it.
_progress_streams: list[TextIO | None] = []


def progress_stream() -> TextIO | None:
    return _progress_streams[-1] if _progress_streams else sys.stderr


@contextlib.contextmanager
def progress_to(stream: TextIO | None) -> Iterator[None]:
    """Send progress lines to `stream` (None: none at all) within the block."""
    _progress_streams.append(stream)
    try:
        yield
    finally:
        _progress_streams.pop()


def _stream(
    url: str, out: BinaryIO, algorithm: str, label: str, timeout: float, total_timeout: float
) -> tuple[int, str, float]:
    """Copy the body into `out`, hashing it; (bytes, hex digest, bytes per second)."""
    deadline = time.monotonic() + total_timeout
    hasher = hashlib.new(algorithm)
    with _open(url, timeout) as response:
        length_header = response.headers.get("Content-Length")
        expected = int(length_header) if length_header and length_header.isdigit() else None
        progress = Progress(label, expected, progress_stream())
        received = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise DownloadFailed(
                        f"{url} did not finish within {total_timeout:.0f} s ({received} bytes)"
                    )
                try:
                    block = response.read(CHUNK)
                except (OSError, HTTPException) as err:  # a timeout is an OSError, IncompleteRead not
                    raise DownloadFailed(
                        f"download of {url} broke off after {received} bytes ({err})"
                    ) from err
                if not block:
                    break
                out.write(block)
                hasher.update(block)
                received += len(block)
                progress.update(received)
            # http.client ends a Content-Length body early without an error when the server hangs up.
            if expected is not None and received != expected:
                raise DownloadFailed(f"download of {url} broke off after {received} of {expected} bytes")
        except BaseException:
            progress.abandon()
            raise
    return received, hasher.hexdigest(), progress.finish(received)
