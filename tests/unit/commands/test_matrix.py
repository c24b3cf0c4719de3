"""The CI matrix: only valid cells, in a stable order, each with a command that reproduces it locally."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re

import pytest

from kconform import matrix
from kconform.commands import matrix_command
from kconform.errors import InvalidCombination
from kconform.platforms.kubernetes.providers import kind as kind_provider
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import PROFILES, ZOOKEEPER, KindNodeImage, Profile

DIGEST_PINNED = re.compile(r"kindest/node:v(\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}")


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _with_images(prof: Profile, *images: KindNodeImage) -> dict[str, Profile]:
    return {prof.strimzi: dataclasses.replace(prof, kind_node_images=images)}


def _image(version: str) -> KindNodeImage:
    return KindNodeImage(kubernetes=version, image=f"kindest/node:v{version}@sha256:{'ab' * 32}")


def _options(argv: tuple[str, ...]) -> dict[str, str]:
    """`--name value` pairs after `kconform run`; fails on a flag without value or a stray word."""
    assert argv[:2] == ("kconform", "run")
    pairs = argv[2:]
    assert len(pairs) % 2 == 0, argv
    names, values = pairs[0::2], pairs[1::2]
    assert all(name.startswith("--") for name in names), argv
    assert not any(value.startswith("-") for value in values), argv
    return dict(zip(names, values, strict=True))


def test_every_profile_mode_runs_on_its_oldest_and_newest_node_image() -> None:
    got = {(c.strimzi, c.kubernetes, c.mode) for c in matrix.cells()}
    expected = set()
    for prof in PROFILES.values():
        versions = sorted((image.kubernetes for image in prof.kind_node_images), key=matrix._version_key)
        for kubernetes in {versions[0], versions[-1]}:
            expected |= {(prof.strimzi, kubernetes, mode) for mode in prof.modes}
    assert got == expected
    assert len(got) == len(matrix.cells())  # no duplicates


def test_cells_are_valid_combinations_only() -> None:
    for cell in matrix.cells():
        prof = PROFILES[cell.strimzi]
        assert cell.mode in prof.modes
        if prof.strimzi.startswith("1."):
            assert cell.mode != ZOOKEEPER
        assert _minor(prof.min_kubernetes) <= _minor(cell.kubernetes) <= _minor(prof.max_kubernetes)
        pinned = DIGEST_PINNED.fullmatch(cell.node_image)
        assert pinned is not None and pinned[1] == cell.kubernetes, cell.node_image
        assert cell.provider == "kind" and cell.platform == "kubernetes"
        assert cell.kafka == prof.kafka_version
        assert cell.id == f"strimzi-{cell.strimzi}-k8s-{cell.kubernetes}-{cell.mode}"


def test_zookeeper_appears_only_where_a_profile_offers_it() -> None:
    modes_by_profile: dict[str, set[str]] = {c.strimzi: set() for c in matrix.cells()}
    for cell in matrix.cells():
        modes_by_profile[cell.strimzi].add(cell.mode)
    assert ZOOKEEPER in modes_by_profile["0.45.2"]
    assert ZOOKEEPER not in modes_by_profile["1.2.0"]


def test_order_is_deterministic_and_independent_of_table_order() -> None:
    first = matrix.cells()
    assert matrix.cells() == first
    assert matrix.cells(dict(reversed(list(PROFILES.items())))) == first
    keys = [(matrix._version_key(c.strimzi), matrix._version_key(c.kubernetes)) for c in first]
    assert keys == sorted(keys)
    assert len({c.id for c in first}) == len(first)


def test_each_command_reproduces_its_cell() -> None:
    for cell in matrix.cells():
        assert _options(cell.argv) == {
            "--platform": "kubernetes",
            "--provider": "kind",
            "--profile": cell.strimzi,
            "--mode": cell.mode,
            "--kubernetes": cell.kubernetes,
            "--reports": f"reports/{cell.id}",
        }
        assert cell.command.split() == list(cell.argv)  # nothing in an argv needs shell quoting


def test_the_kind_provider_picks_the_cells_node_image_from_its_kubernetes_version() -> None:
    # The command passes only --kubernetes; the kind provider must resolve it to the image the matrix pinned.
    for cell in matrix.cells():
        settings = KubeSettings(
            profile=PROFILES[cell.strimzi],
            run_id="matrix-test",
            mode=cell.mode,
            kubernetes_version=cell.kubernetes,
        )
        assert kind_provider.node_image(settings) == cell.node_image


def test_each_command_parses_with_the_kconform_cli() -> None:
    from kconform.cli import build_parser

    parser = build_parser()
    for cell in matrix.cells():
        args, extra = parser.parse_known_args(list(cell.argv[1:]))
        assert extra == [], cell.command
        assert args.command == "run"


def test_a_single_pinned_image_gives_one_kubernetes_version() -> None:
    prof = PROFILES["1.2.0"]
    got = matrix.cells(_with_images(prof, _image("1.33.7")))
    assert [(c.kubernetes, c.mode) for c in got] == [("1.33.7", mode) for mode in prof.modes]


def test_middle_images_are_left_out() -> None:
    prof = PROFILES["1.2.0"]
    got = matrix.cells(_with_images(prof, _image("1.34.3"), _image("1.31.14"), _image("1.33.7")))
    assert sorted({c.kubernetes for c in got}, key=matrix._version_key) == ["1.31.14", "1.34.3"]


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ((), "pins no kind node image"),
        ((_image("1.29.14"),), "outside Strimzi 1.2.0's range 1.30-1.36"),
        ((_image("1.37.0"),), "outside Strimzi 1.2.0's range 1.30-1.36"),
        ((KindNodeImage(kubernetes="1.33.7", image="kindest/node:v1.33.7"),), "@sha256:<digest>"),
        ((KindNodeImage(kubernetes="1.33.7", image=_image("1.34.3").image),), "@sha256:<digest>"),
    ],
)
def test_a_bad_table_entry_is_refused_with_the_fix(images: tuple[KindNodeImage, ...], message: str) -> None:
    with pytest.raises(InvalidCombination, match=re.escape(message)) as caught:
        matrix.cells(_with_images(PROFILES["1.2.0"], *images))
    assert "kind_node_images" in str(caught.value) and "kconform/versions.py" in str(caught.value)


def _matrix_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kconform")
    matrix_command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["matrix", *argv])


def test_json_output_is_githubs_include_form_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert matrix_command.run(_matrix_args("--format", "json")) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line, as $GITHUB_OUTPUT needs
    document = json.loads(out)
    assert list(document) == ["include"]
    assert document["include"] == [cell.as_dict() for cell in matrix.cells()]
    first = document["include"][0]
    assert first["argv"] == list(matrix.cells()[0].argv)
    assert first["command"] == matrix.cells()[0].command


def test_profile_filter_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert matrix_command.run(_matrix_args("--format", "json", "--profile", "1.2.0")) == 0
    ids = [entry["id"] for entry in json.loads(capsys.readouterr().out)["include"]]
    assert ids and all(cell_id.startswith("strimzi-1.2.0-") for cell_id in ids)

    assert matrix_command.run(_matrix_args("--profile", "0.45.2")) == 0
    table = capsys.readouterr().out
    assert "zookeeper" in table and "1.2.0" not in table.replace("0.45.2", "")
    count = len(matrix.cells({"0.45.2": PROFILES["0.45.2"]}))
    assert f"{count} cells; kind {matrix.KIND_VERSION}" in table


def test_an_unknown_profile_names_the_choices() -> None:
    with pytest.raises(
        InvalidCombination, match=r"unknown Strimzi version '9\.9\.9'; choose one of: 0\.45\.2, 1\.2\.0"
    ):
        matrix_command.run(_matrix_args("--format", "json", "--profile", "9.9.9"))
