"""wait_until's timeout names what was awaited and the last thing seen, never a meaningless None."""

from __future__ import annotations

import pytest

from kconform.errors import WaitTimeout
from kconform.waits import wait_until


def test_a_check_that_answers_none_leaves_the_diagnosis_to_speak() -> None:
    with pytest.raises(WaitTimeout) as caught:
        wait_until(
            lambda: None, describe="the state", timeout=0.05, interval=0.01, diagnose=lambda: "state X"
        )
    assert str(caught.value) == "timed out after 0s waiting for the state\nstate X"


def test_the_last_false_or_error_is_named() -> None:
    with pytest.raises(WaitTimeout, match=r"waiting for Available; last seen: False$"):
        wait_until(lambda: False, describe="Available", timeout=0.05, interval=0.01)

    def fails() -> bool:
        raise OSError("refused")

    with pytest.raises(WaitTimeout, match=r"last seen: OSError: refused$"):
        wait_until(fails, describe="a port", timeout=0.05, interval=0.01, retry_on=(OSError,))
