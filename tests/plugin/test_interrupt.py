"""A Ctrl-C that library code swallows still ends the run (fixtures/interrupt.py).

kafka-python 3's I/O loop catches BaseException, so a KeyboardInterrupt raised while a client polls is lost;
a CI run interrupted mid-test once finished every test and exited 0. The stand-in below swallows the
interrupt the same way; the plugin must raise it again when that test ends."""

from __future__ import annotations

import textwrap

import pytest

from kconform import options

pytest_plugins = ["pytester"]

SWALLOWING_TESTS = textwrap.dedent(
    """
    import os
    import signal

    def test_a_client_that_swallows_ctrl_c(tmp_path):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, delivered to this test
        except BaseException:  # what kafka-python's selector loop does with it
            pass
        (tmp_path.parent.parent / "first-ran").write_text("yes")

    def test_never_started_after_the_interrupt(tmp_path):
        (tmp_path.parent.parent / "second-ran").write_text("yes")
    """
)


@pytest.fixture(autouse=True)
def _own_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [options.RUN_ID_ENV, *(o.env for o in options.OPTIONS if o.env)]:
        monkeypatch.delenv(name, raising=False)


def test_a_swallowed_ctrl_c_ends_the_run_after_the_running_test(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nkconform = true\n")
    pytester.makepyfile(test_swallow=SWALLOWING_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--platform", "local", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()[-2000:]
    assert "KeyboardInterrupt" in result.stdout.str()
    assert not list(pytester.path.parent.rglob("second-ran")), "a test ran after the interrupt"


def test_without_the_plugin_the_same_interrupt_is_lost(pytester: pytest.Pytester) -> None:
    """The control: plain pytest runs on, which is the defect the plugin repairs."""
    pytester.makepyfile(test_swallow=SWALLOWING_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:kconform", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
