"""Continuous traffic through a cluster change: a producer and a consumer loop, and the accounting after.

The loops call the harness's own client operations (produce / consume of kconform.clients, run where the
platform runs clients), so the same code proves a local process roll and a Kubernetes rolling update.
Every value is unique (`<prefix>-<seq>`) and sent in sequence by one thread; the accounting then says what
the cluster kept of what it acknowledged:

- produced: values sent; acknowledged: values whose offset the cluster returned;
- consumed: distinct values read; duplicates: reads beyond the first of a value;
- lost: acknowledged values never read; misplaced: values read at another partition/offset than acknowledged;
- overwritten: positions (partition, offset) acknowledged for more than one value: the log was truncated
  under an acknowledged value and the offset given again;
- out_of_order: partitions whose acknowledged offsets do not follow the send order.

The consumer's records count as read even when committing their offsets failed: the broker may have stored
a commit whose answer never came, and the group would then never hand them out again.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kconform.errors import KconformError, WaitTimeout
from kconform.waits import wait_until

Produce = Callable[[list[str]], list[dict[str, Any]]]
Consume = Callable[[], tuple[list[dict[str, Any]], KconformError | None]]  # records, commit failure
MAX_ERRORS_KEPT = 20


@dataclass
class Ledger:
    sent: list[str] = field(default_factory=list)
    acknowledged: dict[str, tuple[int, int]] = field(default_factory=dict)  # value -> (partition, offset)
    consumed: list[tuple[str, int, int]] = field(default_factory=list)  # (value, partition, offset)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0

    def error(self, where: str, err: Exception) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(f"{where}: {type(err).__name__}: {str(err)[:300]}")


def account(ledger: Ledger) -> dict[str, Any]:
    """The counts of the module docstring."""
    reads = Counter(value for value, _, _ in ledger.consumed)
    seen_at = {value: (partition, offset) for value, partition, offset in ledger.consumed}
    order = {value: index for index, value in enumerate(ledger.sent)}
    by_partition: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for value, (partition, offset) in ledger.acknowledged.items():
        by_partition[partition].append((offset, order[value]))
    out_of_order = sorted(
        partition
        for partition, entries in by_partition.items()
        if [seq for _, seq in sorted(entries)] != sorted(seq for _, seq in entries)
    )
    return {
        "produced": len(ledger.sent),
        "acknowledged": len(ledger.acknowledged),
        "consumed": len(reads),
        "lost": sum(1 for value in ledger.acknowledged if value not in reads),
        "duplicates": sum(count - 1 for count in reads.values()),
        "misplaced": sum(
            1 for value, place in ledger.acknowledged.items() if value in seen_at and seen_at[value] != place
        ),
        "overwritten": sum(1 for count in Counter(ledger.acknowledged.values()).values() if count > 1),
        "out_of_order": out_of_order,
        "client_errors": ledger.error_count,
    }


class ContinuousTraffic:
    """A producer and a consumer thread, each call bounded by the client's own timeout."""

    def __init__(
        self, produce: Produce, consume: Consume, *, prefix: str, batch: int = 5, pause_s: float = 0.5
    ):
        self._produce, self._consume = produce, consume
        self.prefix, self.batch, self.pause_s = prefix, batch, pause_s
        self.ledger = Ledger()
        self._lock = threading.Lock()
        self._stop_producing = threading.Event()
        self._stop_consuming = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> ContinuousTraffic:
        for target, name in ((self._producer, "producer"), (self._consumer, "consumer")):
            thread = threading.Thread(target=target, name=f"traffic-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _producer(self) -> None:
        seq = 0
        while not self._stop_producing.is_set():
            values = [f"{self.prefix}-{seq + i}" for i in range(self.batch)]
            seq += self.batch
            with self._lock:
                self.ledger.sent.extend(values)
            try:
                offsets = self._produce(values)
            except KconformError as err:  # not acknowledged: the accounting says what became of them
                with self._lock:
                    self.ledger.error("produce", err)
            else:
                with self._lock:
                    for value, where in zip(values, offsets, strict=True):
                        self.ledger.acknowledged[value] = (int(where["partition"]), int(where["offset"]))
            self._stop_producing.wait(self.pause_s)

    def _consumer(self) -> None:
        while not self._stop_consuming.is_set():
            try:
                records, commit_failure = self._consume()
            except KconformError as err:
                with self._lock:
                    self.ledger.error("consume", err)
                self._stop_consuming.wait(self.pause_s)
                continue
            with self._lock:
                self.ledger.consumed.extend(
                    (str(r["value"]), int(r["partition"]), int(r["offset"]))
                    for r in records
                    if str(r["value"]).startswith(f"{self.prefix}-")
                )
                if commit_failure is not None:
                    self.ledger.error("commit", commit_failure)

    def counts(self) -> dict[str, Any]:
        with self._lock:
            return account(self.ledger)

    def await_progress(self, describe: str, timeout: float) -> dict[str, Any]:
        """Wait until at least one more value is acknowledged and one more consumed than now."""
        before = self.counts()

        def moved() -> dict[str, Any] | None:
            now = self.counts()
            ok = now["acknowledged"] > before["acknowledged"] and now["consumed"] > before["consumed"]
            return now if ok else None

        return wait_until(
            moved,
            describe=f"messages to be acknowledged and consumed {describe}",
            timeout=timeout,
            interval=0.5,
            diagnose=lambda: f"counts {self.counts()}; recent client errors: {self.ledger.errors[-3:]}",
        )

    def stop(self, drain_timeout: float) -> dict[str, Any]:
        """Stop producing, let the consumer read every acknowledged value (bounded), stop, and account."""
        self._stop_producing.set()
        self._threads[0].join(timeout=drain_timeout)
        deadline = time.monotonic() + drain_timeout

        def drained() -> bool:
            return self.counts()["lost"] == 0

        try:  # a value still unread after the drain is counted as lost; the caller asserts on the counts
            wait_until(
                drained, describe="the consumer to read every acknowledged value", timeout=drain_timeout
            )
        except WaitTimeout:
            pass
        finally:
            self._stop_consuming.set()
            for thread in self._threads:
                thread.join(timeout=max(1.0, deadline - time.monotonic()))
        return self.counts()

    def close(self) -> None:
        """Stop both loops without waiting for a drain (cleanup after a failure)."""
        self._stop_producing.set()
        self._stop_consuming.set()
