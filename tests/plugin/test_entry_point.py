"""kconform's fixtures as an installed pytest plugin (entry point `pytest11: kconform`): loaded once, its
options from the one option table, and passive in a project's unrelated runs."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from kconform import options

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _own_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pytest below is a run of its own (not this session's run id or settings)."""
    for name in [options.RUN_ID_ENV, *(o.env for o in options.OPTIONS if o.env)]:
        monkeypatch.delenv(name, raising=False)


def test_the_plugin_is_registered_once_from_the_entry_point(pytestconfig: pytest.Config) -> None:
    import kconform_fixtures.plugin
    import kconform_fixtures.scram

    manager = pytestconfig.pluginmanager
    assert manager.get_plugin("kconform") is kconform_fixtures.plugin  # the entry point's name
    plugins = manager.get_plugins()
    assert sum(p is kconform_fixtures.plugin for p in plugins) == 1
    assert sum(p is kconform_fixtures.scram for p in plugins) == 1
    conftest = Path(__file__).resolve().parents[2] / "conftest.py"
    assert "kconform_fixtures" not in re.sub(r'""".*?"""', "", conftest.read_text(), flags=re.DOTALL)


def test_pytest_help_shows_the_option_table(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    text = re.sub(r"\s+", " ", result.stdout.str())
    assert "kconform conformance harness:" in text
    for option in options.for_command(options.PYTEST):
        assert option.flag in text
        assert re.sub(r"\s+", " ", option.full_help()) in text


def test_an_unrelated_run_is_left_alone(pytester: pytest.Pytester) -> None:
    """No kconform option, no kconform fixture: no reports folder, no junit.xml, the user's markers only."""
    pytester.makepyfile("def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()
    assert not [*pytester.path.rglob("junit.xml"), *pytester.path.rglob("allure-results")]


def test_a_kconform_option_engages_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--reports", "out")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "out" / "junit.xml").is_file()  # reports wired at configure time


def test_a_test_using_kconforms_fixtures_engages_it_at_collection(pytester: pytest.Pytester) -> None:
    """A user's module with no option and no conftest: the `names` fixture builds the run's config (the
    one --platform default, local), and the reports folder appears; junit.xml stays the user's choice."""
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_unique_names(names, kconform_config):
                assert kconform_config.platform == "local"
                first, second = names("payments.orders"), names("payments.orders")
                assert first != second and first.startswith("payments.orders-")
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "reports").is_dir()
    assert not (pytester.path / "reports" / "junit.xml").exists()
