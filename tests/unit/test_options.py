"""The one option table (kconform.options): argparse, pytest, `kconform run`'s pytest argv, the environment
and README's option list all come from it, with one default per option."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
from pathlib import Path

import pytest

from kconform import cli, options
from kconform import config as run_config
from kconform.commands import doctor, plan, run
from kconform.paths import PROJECT_ROOT
from kconform.platforms import registry

README = PROJECT_ROOT / "README.md"
START, END = "<!-- options:start (generated from kconform/options.py) -->", "<!-- options:end -->"


def test_readme_lists_exactly_the_table() -> None:
    """README's option list is `options.markdown_table()`; regenerate it with
    `python -c "from kconform import options; print(options.markdown_table())"`."""
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, "README has the generated option list between its markers"
    listed = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert listed == options.markdown_table()


def _subcommand_help(name: str) -> str:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text: str = action.choices[name].format_help()
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("command", ["run", "plan", "doctor", "matrix", "clean"])
def test_each_command_offers_its_options_of_the_table_with_env_and_default(command: str) -> None:
    text = _subcommand_help(command)
    for option in options.OPTIONS:
        if command in option.commands:
            assert option.flag in text
            assert re.sub(r"\s+", " ", f"default: {option.documented_default}") in text
            if option.env:
                assert option.env in text
        else:
            assert f"{option.flag} " not in text, f"{option.flag} is not an option of {command}"


def test_platform_default_is_stated_once_and_the_same_everywhere() -> None:
    default = options.BY_DEST["platform"].default
    assert default == options.PLATFORMS[0] == registry.names()[0] == "local"
    assert run_config.build(env={}).platform == default
    assert run_config.RunConfig().platform == default
    for command, module in (("run", run), ("plan", plan), ("doctor", doctor)):
        parser = argparse.ArgumentParser()
        module.register(parser.add_subparsers(dest="command"))
        extra = ["--platform", "kubernetes"] if command == "plan" else []
        args = parser.parse_args([command, *extra])
        given = options.given(args, command)
        assert given["platform"] in (None, "kubernetes")
        assert options.resolve({**given, "platform": None}, env={})["platform"] == default


def test_command_line_beats_environment_beats_default() -> None:
    env = {
        "KCONFORM_REPORTS": "from-env",
        "KCONFORM_WORKFLOW": "user-acls, tls-listener",
        "KCONFORM_KEEP": "yes",
    }
    assert options.resolve({}, env={})["reports"] == "reports"
    resolved = options.resolve({}, env=env)
    assert resolved["reports"] == "from-env" and resolved["keep"] is True
    assert resolved["workflows"] == ("user-acls", "tls-listener")
    assert options.resolve({"reports": "cli", "workflows": ["scram-listener"]}, env=env)["reports"] == "cli"
    assert options.resolve({"workflows": ["scram-listener"]}, env=env)["workflows"] == ("scram-listener",)


@pytest.mark.parametrize(
    "given",
    [
        {"platform": "local", "profiles": ["1.2.0"], "modes": ["kraft"], "workflows": ["tls-listener"]},
        {"platform": "local", "keep": True, "reports": "out/reports", "crd_dir": "crds"},
        {
            "platform": "kubernetes",
            "provider": "existing",
            "context": "ctx",
            "external_host": "10.0.0.7",
            "install": "yaml",
            "profiles": ["0.45.2"],
            "modes": ["zookeeper"],
        },
        {"platform": "kubernetes", "provider": "kind", "kubernetes": "1.31.14", "workflows": ["user-acls"]},
    ],
)
def test_kconform_run_writes_back_what_the_plugin_reads_as_the_same_config(given: dict[str, object]) -> None:
    """`kconform run` serialises its resolved config into pytest arguments; parsed by the plugin's options
    (the same table) they build the same config."""
    config = run_config.build(**given, env={})  # type: ignore[arg-type]
    argv = options.pytest_args(config)
    parser = argparse.ArgumentParser()
    options.add_pytest_options(parser.add_argument)
    parsed = vars(parser.parse_args(argv))
    again = run_config.build(
        **{o.dest: parsed[f"kconform_{o.dest}"] for o in options.for_command(options.PYTEST)},
        run_id=config.run_id,
        env={},
    )
    # paths are written back absolute: the plugin's pytest may run elsewhere
    absolute = Path(config.crd_dir).resolve() if config.crd_dir else None
    assert again == dataclasses.replace(config, reports=Path(config.reports).resolve(), crd_dir=absolute)


def test_options_of_another_platform_are_not_passed_on() -> None:
    config = run_config.build(platform="local", env={"KCONFORM_CONTEXT": "ctx"})
    assert "--context" not in options.pytest_args(config)


def test_pytest_argv_runs_the_shipped_scenarios_with_kconforms_own_settings() -> None:
    from kconform import paths

    config = run_config.build(platform="local", profiles=["1.2.0"], env={})
    argv = run.pytest_argv(config, "2", ["--", "-k", "tls"])
    assert argv[3] == str(paths.SCENARIOS_DIR)
    assert argv[argv.index("-c") + 1] == str(paths.RUN_INI) and paths.RUN_INI.is_file()
    assert argv[argv.index("--rootdir") + 1] == str(paths.SCENARIOS_DIR.parent)
    assert argv[-4:] == ["--dist", "loadgroup", "-k", "tls"]


def test_an_option_needs_one_line_to_reach_every_surface() -> None:
    """A new option appended to the table shows up in argparse, pytest and the README table (no other file)."""
    extra = options.Option(  # not a real option: --image-registry, this example once, is one now
        "--example-flag", "example_flag", "an example", env="KCONFORM_EXAMPLE_FLAG"
    )
    table = (*options.OPTIONS, extra)
    parser = argparse.ArgumentParser()
    for option in table:
        if "run" in option.commands:
            parser.add_argument(option.flag, *option.aliases, **options._argparse_kwargs(option, option.dest))
    assert parser.parse_args(["--example-flag", "r.example"]).example_flag == "r.example"
    assert "`KCONFORM_EXAMPLE_FLAG`" in options.markdown_table(table)


SETTINGS_START, SETTINGS_END = (
    "<!-- settings:start (generated from kconform/options.py) -->",
    "<!-- settings:end -->",
)


def test_readme_lists_exactly_the_environment_settings() -> None:
    text = README.read_text(encoding="utf-8")
    assert SETTINGS_START in text and SETTINGS_END in text
    assert text.split(SETTINGS_START, 1)[1].split(SETTINGS_END, 1)[0].strip() == options.settings_markdown()


def _environment_reads(tree: ast.AST) -> list[ast.AST]:
    """`os.environ.get(X)` / `environ.get(X)` / `os.environ[X]` (read) / `os.getenv(X)` calls and subscripts."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            owner = ast.unparse(node.func.value)
            if (node.func.attr == "get" and owner.endswith("environ")) or ast.unparse(
                node.func
            ) == "os.getenv":
                target = node.args[0]
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value).endswith("environ")
        ):
            target = node.slice
        if target is None:
            continue
        name = target.value if isinstance(target, ast.Constant) else ast.unparse(target)
        if str(name).startswith("KCONFORM_") or str(name).endswith("_ENV"):
            found.append(node)
    return found


def test_the_environment_is_read_in_one_module() -> None:
    """kconform's own environment variables are read only by kconform.options (the option table's twins,
    SETTINGS and the process markers); elsewhere they go through `options.setting(NAME)`."""
    offenders = []
    declared = {s.env for s in options.SETTINGS} | {options.RUN_ID_ENV, options.PREFLIGHT_ENV}
    declared |= {options.SECRET_LEDGER_ENV}
    for folder in ("kconform", "fixtures"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if path == PROJECT_ROOT / "kconform" / "options.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(PROJECT_ROOT)}:{n.lineno}" for n in _environment_reads(tree)]
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and ast.unparse(node.func) == "options.setting"
                    and isinstance(node.args[0], ast.Constant)
                ):
                    assert node.args[0].value in declared, f"{path}:{node.lineno} {node.args[0].value}"
    assert offenders == []


def test_the_environment_check_finds_a_read() -> None:
    tree = ast.parse(
        'import os\nx = os.environ.get("KCONFORM_X")\ny = os.environ[NAME_ENV]\nz = os.environ.get("HOME")'
    )
    assert len(_environment_reads(tree)) == 2


def test_an_undeclared_setting_is_refused() -> None:
    with pytest.raises(KeyError, match="not a declared kconform setting"):
        options.setting("KCONFORM_NOT_A_SETTING")
    assert options.setting("KCONFORM_CACHE", env={"KCONFORM_CACHE": "/c"}) == "/c"
    assert options.setting("KCONFORM_CACHE", env={"KCONFORM_CACHE": ""}) is None
