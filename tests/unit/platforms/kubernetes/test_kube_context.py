"""Provider `existing` without --context: the kubeconfig's current context, else its only one; several
contexts and no current one are refused in one line (kconform never guesses which cluster to test).

Real kubeconfig files, merged from a KUBECONFIG-style list as kubectl merges them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from kconform.errors import UsageError
from kconform.platforms import registry
from kconform.platforms.kubernetes import kubeconfig
from kconform.runconfig import RunConfig


def write(path: Path, contexts: list[str], current: str | None = None) -> Path:
    document: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": c, "cluster": {"server": "https://192.0.2.1:6443"}} for c in contexts],
        "users": [{"name": "me", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": c, "context": {"cluster": c, "user": "me"}} for c in contexts],
    }
    if current is not None:
        document["current-context"] = current
    path.write_text(yaml.safe_dump(document))
    return path


def refusal(context: str | None, location: str) -> str:
    with pytest.raises(UsageError) as caught:
        kubeconfig.chosen_context(context, location)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_context_given_wins_without_reading_the_kubeconfig(tmp_path: Path) -> None:
    assert kubeconfig.chosen_context("mine", str(tmp_path / "absent")) == "mine"


def test_the_current_context_is_used_among_several(tmp_path: Path) -> None:
    path = write(tmp_path / "config", ["dev", "prod", "kind-kconform"], current="kind-kconform")
    assert kubeconfig.chosen_context(None, str(path)) == "kind-kconform"


def test_the_only_context_is_used_when_none_is_current(tmp_path: Path) -> None:
    path = write(tmp_path / "config", ["single-node"])
    assert kubeconfig.chosen_context(None, str(path)) == "single-node"


def test_several_contexts_and_no_current_one_are_refused_naming_them(tmp_path: Path) -> None:
    path = write(tmp_path / "config", ["dev", "prod"])
    message = refusal(None, str(path))
    assert "2 contexts (dev, prod)" in message and "no current-context" in message
    assert "pass --context NAME" in message


def test_a_long_list_of_contexts_is_summed_up(tmp_path: Path) -> None:
    names = [f"c{i}" for i in range(8)]
    message = refusal(None, str(write(tmp_path / "config", names)))
    assert "c0, c1, c2, c3, c4 and 3 more" in message and "c5" not in message


def test_a_current_context_that_names_no_context_is_refused(tmp_path: Path) -> None:
    message = refusal(None, str(write(tmp_path / "config", ["dev"], current="gone")))
    assert "'gone'" in message and "contexts: dev" in message and "--context" in message


def test_no_kubeconfig_and_an_empty_one_are_refused(tmp_path: Path) -> None:
    assert "no kubeconfig at" in refusal(None, str(tmp_path / "absent"))
    assert "has no context" in refusal(None, str(write(tmp_path / "empty", [])))
    (tmp_path / "broken").write_text("contexts: [\n")
    assert "cannot be read" in refusal(None, str(tmp_path / "broken"))


def test_files_merge_as_kubectl_merges_them(tmp_path: Path) -> None:
    """KUBECONFIG=a:b: the first file that sets current-context wins; contexts of both count."""
    first = write(tmp_path / "a", ["a-ctx"], current="b-ctx")  # may name a context of a later file
    second = write(tmp_path / "b", ["b-ctx"], current="a-ctx")
    location = os.pathsep.join([str(first), str(tmp_path / "absent"), str(second)])
    assert kubeconfig.chosen_context(None, location) == "b-ctx"
    no_current = write(tmp_path / "c", ["c-ctx"])
    both = os.pathsep.join([str(no_current), str(write(tmp_path / "d", ["d-ctx"]))])
    assert "2 contexts (c-ctx, d-ctx)" in refusal(None, both)


def test_the_run_takes_the_current_context_before_anything_else_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check_run` settles the context first (then passed on to pytest as --context); with several contexts
    and no current one the run stops there, before any cluster is asked."""
    path = write(tmp_path / "config", ["dev", "prod"], current="prod")
    monkeypatch.setattr(kubeconfig, "default_location", lambda: str(path))
    config = RunConfig(platform="kubernetes", profiles=("1.2.0",), provider="existing")
    from kconform.platforms.kubernetes import with_context

    assert with_context(config).context == "prod"
    write(path, ["dev", "prod"])
    with pytest.raises(UsageError, match="no current-context"):
        registry.get("kubernetes").check_run(config, workers=None, profile_asked=True)
