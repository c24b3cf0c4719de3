"""`--cluster-concurrency` / KCONFORM_CLUSTER_CONCURRENCY: how many of a cell's clusters start ahead of their
tests; a value that is not a positive whole number is refused in one line."""

from __future__ import annotations

import pytest

from kconform import config as run_config
from kconform.errors import UsageError


@pytest.mark.parametrize(
    ("given", "env", "expected"), [(None, None, 2), ("2", None, 2), (None, "1", 1), (3, "9", 3)]
)
def test_cluster_concurrency_from_option_or_environment(given, env, expected) -> None:
    environment = {"KCONFORM_CLUSTER_CONCURRENCY": env} if env else {}
    assert run_config.build(cluster_concurrency=given, env=environment).cluster_concurrency == expected


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_cluster_concurrency_refuses_what_is_not_a_positive_number(bad) -> None:
    with pytest.raises(UsageError, match="give a whole number of clusters, 1 or more"):
        run_config.build(env={"KCONFORM_CLUSTER_CONCURRENCY": bad})


def test_the_default_is_two_on_local_and_four_on_kubernetes() -> None:
    assert run_config.build(platform="local", env={}).cluster_concurrency == 2
    assert run_config.build(platform="kubernetes", env={}).cluster_concurrency == 4
