"""The pytest side of a kubernetes run: a cluster's setup is not cut by pytest-timeout's per-test limit
(issue 8, point 5), and a fixture's own setup time does count for other platforms."""

from __future__ import annotations

import textwrap

import pytest

from kconform_fixtures import kube_session

pytest_plugins = ["pytester"]


def test_setup_time_is_outside_the_test_timeout_on_kubernetes(pytester: pytest.Pytester) -> None:
    """pytest-timeout 2.x counts fixture setup unless func_only: a slow setup fixture with a 1 s test
    timeout passes once the kubernetes marker applies, and fails without it."""
    pytester.makeconftest(
        textwrap.dedent(
            """
            import threading, pytest
            from kconform_fixtures import kube_session

            @pytest.fixture
            def slow_setup():
                threading.Event().wait(2.0)  # stands for cluster setup: longer than the test timeout

            def pytest_collection_modifyitems(config, items):
                for item in items:
                    if "kube" in item.name:
                        kube_session.timeout_for_the_test_only(item)
            """
        )
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_kube(slow_setup):
                pass

            def test_other(slow_setup):
                pass
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "timeout=1", "-p", "no:xdist")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_other*", "*Timeout*"])


def test_an_existing_timeout_value_is_kept(pytester: pytest.Pytester) -> None:
    item = pytester.getitem("import pytest\n@pytest.mark.timeout(42)\ndef test_x():\n    pass\n", "test_x")
    kube_session.timeout_for_the_test_only(item)
    marker = item.get_closest_marker("timeout")
    assert marker is not None and marker.args == (42,) and marker.kwargs == {"func_only": True}
