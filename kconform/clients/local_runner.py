"""Run client requests in this process: the local platform's ClientRunner."""

from __future__ import annotations

import queue
import threading
from typing import Any

from kconform.clients import operations
from kconform.clients.kafka import execute


class InProcessRunner:
    """Executes protocol requests with `kafka.execute` here and raises the error a response carries.

    Each request runs in a daemon thread while the calling thread waits for it. kafka-python 3's I/O loop
    catches BaseException (net/selector.py, its consumer coordinator): a Ctrl-C or SIGTERM raised inside it is
    logged and dropped, and a CI run interrupted mid-test went on to finish every test. Signals are delivered
    to the main thread only, so here they land in the wait below, where pytest sees them."""

    def run(self, req: dict[str, Any]) -> Any:
        answer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

        def call() -> None:
            try:
                answer.put((True, execute(req)))
            except BaseException as err:  # handed to the caller, who raises it
                answer.put((False, err))

        threading.Thread(target=call, name="kconform-client", daemon=True).start()
        ok, value = answer.get()  # execute's own timeouts bound the wait
        if not ok:
            raise value
        return operations.raise_for_response(value)
