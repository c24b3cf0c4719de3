"""Run client requests in this process: the local platform's ClientRunner."""

from __future__ import annotations

from typing import Any

from kconform.clients import operations
from kconform.clients.kafka import execute


class InProcessRunner:
    """Executes protocol requests with `kafka.execute` here and raises the error a response carries."""

    def run(self, req: dict[str, Any]) -> Any:
        return operations.raise_for_response(execute(req))
