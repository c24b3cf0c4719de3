"""Entry point shipped into a client pod: one JSON request on stdin, one JSON response on stdout.

    python -m kconform.clients.remote < request.json

Exit status 0 whenever a response was produced, even an error response (the caller reads the error
from the JSON); 2 when the input is not a valid request (the response says why). Imports only the
stdlib, kafka-python, `kconform.errors` and `kconform.clients.*` so it can be shipped on its own.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

from kconform import errors
from kconform.clients import operations
from kconform.clients.kafka import execute, parse_request

EXIT_OK = 0
EXIT_MALFORMED = 2


def handle(text: str) -> tuple[dict[str, Any], int]:
    """The response to one request text and the exit status to end with."""
    try:
        req = json.loads(text)
        parse_request(req)
    except (json.JSONDecodeError, errors.UsageError, TypeError) as err:
        message = f"malformed request: {err.msg if isinstance(err, json.JSONDecodeError) else err}"
        return operations.error_response(errors.UsageError(message)), EXIT_MALFORMED
    return execute(req), EXIT_OK


def main(stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    # kafka-python logs retries at WARNING; keep stderr for real problems of this process.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    response, status = handle((stdin or sys.stdin).read())
    out = stdout or sys.stdout
    out.write(json.dumps(response) + "\n")
    out.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
