"""The external-access tests' clusters are their fixtures' (setup, which pytest-timeout does not count on
kubernetes: func_only); the test function's timeout must exceed every bounded wait inside it, or a slow but
legal phase ends in pytest-timeout's stack dump instead of that wait's message."""

from __future__ import annotations

import inspect
import re

from kconform.platforms.kubernetes import kube_platform
from kconform_fixtures import cluster
from kconform_scenarios import test_external_access as external


def _timeout(item_marks: object) -> float:
    marks = item_marks if isinstance(item_marks, list) else [item_marks]
    (mark,) = [m for m in marks if getattr(m, "name", None) == "timeout"]
    return float(mark.args[0])


def test_the_node_port_wait_bound_is_the_platforms() -> None:
    assert cluster.NODE_PORTS_RELEASED_TIMEOUT == kube_platform.NAMESPACE_GONE_TIMEOUT_S


def test_each_external_access_test_fits_its_inner_waits_in_its_timeout() -> None:
    timeout = _timeout(external.pytestmark)
    for name, test in inspect.getmembers(external, inspect.isfunction):
        if not name.startswith("test_"):
            continue
        source = inspect.getsource(test)
        clusters = source.count("external.start(")
        calls = len(re.findall(r"client\.(?:produce|consume|cluster_metadata)\(", source))
        ready = 2 * source.count("_user_and_topic(")  # a topic and a user, each awaited
        inner = (
            clusters * (cluster.KAFKA_READY_TIMEOUT + kube_platform.NAMESPACE_GONE_TIMEOUT_S)
            + ready * cluster.USER_READY_TIMEOUT
            + calls * (external.CLIENT_TIMEOUT_S + cluster.CLIENT_CALL_MARGIN_S)
        )
        assert clusters == 0 and calls >= 2, name  # the cluster comes from its fixture, started with the cell
        assert inner < timeout, f"{name}: inner waits up to {inner:.0f}s, timeout {timeout:.0f}s"
