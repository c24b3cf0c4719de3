"""Runs inside the kconform client pod: one framed request in, one framed response out.

Usage: python entry.py <request byte count>. Exactly that many bytes are read from stdin (the exec stream
may never deliver EOF), handed to `python -m kconform.clients.remote`, and its JSON answer is printed after
a marker line so anything else on stdout (library warnings) cannot be mistaken for it.
"""

import subprocess
import sys

MARKER = "KCONFORM-RESPONSE"


def main() -> int:
    size = int(sys.argv[1])
    payload = b""
    while len(payload) < size:
        chunk = sys.stdin.buffer.read(size - len(payload))
        if not chunk:
            break
        payload += chunk
    done = subprocess.run(
        [sys.executable, "-m", "kconform.clients.remote"], input=payload, capture_output=True, check=False
    )
    sys.stderr.write(done.stderr.decode("utf-8", "replace")[-4000:])
    sys.stdout.write(f"{MARKER} {done.returncode}\n{done.stdout.decode('utf-8', 'replace')}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
