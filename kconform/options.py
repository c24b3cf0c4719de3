"""Every option of a run, declared once: flag, environment twin, default, help, commands and platforms.

The table is rendered into the argparse subcommands (`add_arguments`) and, by the plugin, into pytest's
`kconform` option group (same flags, `dest` prefixed `kconform_`); `kconform run` serialises a resolved
RunConfig back into pytest arguments with `pytest_args`. The environment twins are read here and nowhere
else (`from_environment`). Adding an option is one `Option(...)` line here plus the RunConfig field it
fills; README's option list is generated from this table (`markdown_table`, checked by a unit test).

Precedence: command line > environment > default. The command line's "not given" is None everywhere so the
environment can fill it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kconform import versions

# The platforms (kconform.platforms.registry holds what each one is) and the kubernetes platform's cluster
# providers (kconform.platforms.kubernetes.providers.PROVIDERS), as the --platform and --provider choices.
# The first platform is the default of every command and of plain pytest.
LOCAL, KUBERNETES = PLATFORMS = ("local", "kubernetes")
PROVIDERS = ("kind", "minikube", "k3s", "existing")
BOTH = PLATFORMS
PYTEST = "pytest"  # the plugin's option group, as a "command"
_TRUE = ("1", "true", "yes")


@dataclass(frozen=True)
class Option:
    """One option. `dest` is the RunConfig field (and `config.build` keyword) it fills."""

    flag: str
    dest: str
    help: str
    env: str | None = None
    default: Any = None  # the value when neither the command line nor the environment gives one
    default_text: str = ""  # the default as documented, when it depends on other options
    commands: tuple[str, ...] = ("run", PYTEST)
    platforms: tuple[str, ...] = BOTH
    kind: str = "value"  # value | append (repeatable; the env twin is comma-separated) | flag
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def documented_default(self) -> str:
        if self.default_text:
            return self.default_text
        if self.kind == "flag":
            return "off"
        return "none" if self.default is None else str(self.default)

    def full_help(self) -> str:
        parts = [f"default: {self.documented_default}"]
        if self.env:
            parts.append(f"env {self.env}")
        return f"{self.help} ({'; '.join(parts)})"

    def parse_env(self, raw: str) -> Any:
        if self.kind == "flag":
            return raw.strip().lower() in _TRUE
        if self.kind == "append":
            return tuple(part.strip() for part in raw.split(",") if part.strip()) or None
        return raw or None


OPTIONS: tuple[Option, ...] = (
    Option(
        "--platform",
        "platform",
        "where the Strimzi resources are realised: local (real Kafka and bridge processes on this "
        "machine) or kubernetes (a cluster with Strimzi)",
        env="KCONFORM_PLATFORM",
        default=PLATFORMS[0],
        commands=("run", "plan", "doctor", PYTEST),
        choices=PLATFORMS,
    ),
    Option(
        "--profile",
        "profiles",
        "Strimzi version to run (repeatable)",
        env="KCONFORM_PROFILE",
        default_text=f"every profile on local, {versions.DEFAULT_PROFILE} on kubernetes",
        commands=("run", "plan", "matrix", PYTEST),
        kind="append",
        metavar="STRIMZI",
    ),
    Option(
        "--mode",
        "modes",
        f"metadata mode (repeatable): {', '.join(versions.ALL_MODES)}",
        env="KCONFORM_MODE",
        default_text="every mode the profile supports",
        commands=("run", "plan", PYTEST),
        kind="append",
        metavar="MODE",
    ),
    Option(
        "--provider",
        "provider",
        "kubernetes cluster provider",
        env="KCONFORM_PROVIDER",
        default_text="kind on kubernetes",
        commands=("run", "plan", "doctor", PYTEST),
        platforms=(KUBERNETES,),
        choices=PROVIDERS,
    ),
    Option(
        "--kubernetes",
        "kubernetes",
        "Kubernetes version of a cluster kconform creates",
        env="KCONFORM_KUBERNETES",
        default_text="the profile's newest pinned one",
        commands=("run", "plan", PYTEST),
        platforms=(KUBERNETES,),
        metavar="VERSION",
        aliases=("--kubernetes-version",),
    ),
    Option(
        "--context",
        "context",
        "kubeconfig context (provider existing)",
        env="KCONFORM_CONTEXT",
        default_text="the kubeconfig's current context",
        commands=("run", "plan", "doctor", "clean", PYTEST),
        platforms=(KUBERNETES,),
    ),
    Option(
        "--external-host",
        "external_host",
        "where this machine reaches node ports (provider existing)",
        env="KCONFORM_EXTERNAL_HOST",
        default_text="a node's address",
        platforms=(KUBERNETES,),
        metavar="HOST",
    ),
    Option(
        "--install",
        "install",
        "how kconform installs Strimzi",
        env="KCONFORM_INSTALL",
        default_text="helm; on provider existing the installed Strimzi is tested",
        commands=("run", "plan", PYTEST),
        platforms=(KUBERNETES,),
        choices=("helm", "yaml"),
    ),
    Option(
        "--image-registry",
        "image_registry",
        "pull every image kconform causes to be pulled (Strimzi's, the client pod's, the bridge sidecar pod's) "
        "from this registry mirror, keeping each image's repository path",
        env="KCONFORM_IMAGE_REGISTRY",
        default_text="each image's own registry",
        commands=("run", "plan", PYTEST),
        platforms=(KUBERNETES,),
        metavar="MIRROR",
    ),
    Option(
        "--workflow",
        "workflows",
        "run only this workflow (repeatable), e.g. scram-listener",
        env="KCONFORM_WORKFLOW",
        default_text="every workflow",
        kind="append",
        metavar="NAME",
    ),
    Option(
        "--reports",
        "reports",
        "report folder: conformance.json, junit.xml, allure-results/, index.html, badges, diagnostics/",
        env="KCONFORM_REPORTS",
        default="reports",
        metavar="DIR",
    ),
    Option(
        "--keep",
        "keep",
        "keep clusters, namespaces and processes after the run, for debugging",
        env="KCONFORM_KEEP",
        default=False,
        kind="flag",
    ),
    Option(
        "--cluster-concurrency",
        "cluster_concurrency",
        "how many of a cell's clusters start ahead of their tests and live at once",
        env="KCONFORM_CLUSTER_CONCURRENCY",
        default_text="2 on local (JVM starts compete for the CPU), 4 on kubernetes",
        metavar="N",
    ),
    Option(
        "--crd-dir",
        "crd_dir",
        "folder of <strimzi-version>/ CRDs to validate manifests against",
        env="KCONFORM_CRD_DIR",
        default_text="../shared/strimzi-crds beside a checkout, else downloaded",
        metavar="DIR",
    ),
)

BY_DEST = {option.dest: option for option in OPTIONS}


def for_command(command: str) -> list[Option]:
    return [option for option in OPTIONS if command in option.commands]


def _argparse_kwargs(option: Option, dest: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dest": dest, "default": None, "help": option.full_help()}
    if option.kind == "flag":
        kwargs["action"] = "store_true"
        return kwargs
    if option.kind == "append":
        kwargs["action"] = "append"
    if option.choices:
        kwargs["choices"] = option.choices
    if option.metavar:
        kwargs["metavar"] = option.metavar
    return kwargs


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The table's options of `command`, into its argparse parser (values land under their `dest`)."""
    for option in for_command(command):
        parser.add_argument(option.flag, *option.aliases, **_argparse_kwargs(option, option.dest))


def add_pytest_options(addoption: Callable[..., None]) -> None:
    """The table's pytest options into the plugin's group (`group.addoption`), dest `kconform_<dest>`."""
    for option in for_command(PYTEST):
        addoption(option.flag, *option.aliases, **_argparse_kwargs(option, f"kconform_{option.dest}"))


def given(values: Mapping[str, Any] | argparse.Namespace, command: str) -> dict[str, Any]:
    """The table's options of `command` that a command line gave (the others are None)."""
    found = vars(values) if isinstance(values, argparse.Namespace) else dict(values)
    return {option.dest: found.get(option.dest) for option in for_command(command)}


def from_environment(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every environment twin that is set, parsed into its option's type, by dest."""
    env = os.environ if env is None else env
    found: dict[str, Any] = {}
    for option in OPTIONS:
        raw = env.get(option.env) if option.env else None
        if raw:
            value = option.parse_env(raw)
            if value is not None:
                found[option.dest] = value
    return found


def resolve(given_values: Mapping[str, Any], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Command line > environment > default, for every option of the table (by dest)."""
    from_env = from_environment(env)
    resolved: dict[str, Any] = {}
    for option in OPTIONS:
        value = given_values.get(option.dest)
        if value is None or value == [] or value == ():
            value = from_env.get(option.dest, option.default)
        resolved[option.dest] = tuple(value) if isinstance(value, list) else value
    return resolved


def pytest_args(config: Any) -> list[str]:
    """A resolved RunConfig as the pytest arguments that make the plugin build the same config."""
    argv: list[str] = []
    for option in for_command(PYTEST):
        if config.platform not in option.platforms:
            continue
        value = getattr(config, option.dest)
        if value is None or value is False:
            continue
        if option.kind == "flag":
            argv.append(option.flag)
        elif option.kind == "append":
            for item in value:
                argv += [option.flag, str(item)]
        else:
            argv += [option.flag, str(Path(value).resolve()) if isinstance(value, Path) else str(value)]
    return argv


def flags_given(argv: Iterable[str]) -> bool:
    """Whether a command line names any of the table's pytest options (the plugin then engages)."""
    names = {name for option in for_command(PYTEST) for name in (option.flag, *option.aliases)}
    return any(arg.split("=", 1)[0] in names for arg in argv)


@dataclass(frozen=True)
class Setting:
    """An environment-only setting (no command-line flag): where things are, mirrors, images, budgets."""

    env: str
    help: str
    default: str = "-"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "KCONFORM_CACHE", "cache folder: Kafka jars, tools, CRDs, bridge distributions", "~/.cache/kconform"
    ),
    Setting(
        "KCONFORM_JAVA_HOME", "a JDK to run brokers and the bridge with (local)", "java on PATH, /usr/lib/jvm"
    ),
    Setting(
        "KCONFORM_BRIDGE_HOME", "an unpacked HTTP bridge: a folder holding <version>/, or one distribution"
    ),
    Setting("KCONFORM_BRIDGE_URL", "mirror of Maven Central's kafka-bridge folder", "Maven Central"),
    Setting(
        "KCONFORM_STRIMZI_URL", "mirror of Strimzi's repository for the CRDs", "raw.githubusercontent.com"
    ),
    Setting("KCONFORM_STRIMZI_FILES", "folder of pre-downloaded Strimzi release files (kubernetes)"),
    Setting("KCONFORM_CLUSTER_NAME", "name of the kind cluster kconform creates", "kconform"),
    Setting(
        "KCONFORM_KIND_NODE_IMAGE", "kind node image replacing the pinned one", "the profile's newest pinned"
    ),
    Setting("KCONFORM_K3S_IMAGE", "k3s image replacing rancher/k3s:v<kubernetes>-k3s1"),
    Setting(
        "KCONFORM_CLIENT_IMAGE",
        "image of the client pod for internal listeners (any with a python 3: kafka-python is shipped)",
        "python:3.11-slim",
    ),
    Setting(
        "KCONFORM_CLIENT_PIP_INSTALL",
        "obsolete (kconform ships kafka-python to the client pod): 0 is accepted, anything else refused",
    ),
    Setting(
        "KCONFORM_SETUP_SCALE",
        "multiplies the kubernetes setup budgets (create, install, operator) and the wait for deleted "
        "namespaces to be gone",
        "1",
    ),
)
_SETTING_NAMES = frozenset(setting.env for setting in SETTINGS)

# Set by kconform for its own processes, not by users: one run id for `kconform run`, its pytest and the
# xdist workers (each process's resources carry it); the run id whose preflight `kconform run` already did;
# a test session's file of password digests (fixtures.secret_ledger).
RUN_ID_ENV = "KCONFORM_RUN_ID"
PREFLIGHT_ENV = "KCONFORM_PREFLIGHT"
SECRET_LEDGER_ENV = "KCONFORM_SECRET_LEDGER"  # noqa: S105 (a variable name, not a secret)
_INTERNAL_NAMES = frozenset({RUN_ID_ENV, PREFLIGHT_ENV, SECRET_LEDGER_ENV})


def setting(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of an environment-only setting or of kconform's own process markers (None when unset or
    empty); a name that is not declared above is a programming error."""
    if name not in _SETTING_NAMES and name not in _INTERNAL_NAMES:
        raise KeyError(f"{name} is not a declared kconform setting (kconform.options.SETTINGS)")
    return (os.environ if env is None else env).get(name) or None


def run_id_from_environment(env: Mapping[str, str] | None = None) -> str | None:
    return setting(RUN_ID_ENV, env)


def settings_markdown() -> str:
    """README's list of environment-only settings."""
    lines = ["| environment | default | what it does |", "|---|---|---|"]
    lines += [f"| `{s.env}` | {_md(s.default)} | {_md(s.help)} |" for s in SETTINGS]
    return "\n".join(lines)


def markdown_table(options: Sequence[Option] = OPTIONS) -> str:
    """README's option list."""
    lines = [
        "| option | environment | default | commands | platforms | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for option in options:
        flags = ", ".join(f"`{name}`" for name in (option.flag, *option.aliases))
        if option.choices:
            flags += f" ({', '.join(option.choices)})"
        lines.append(
            f"| {flags} | {f'`{option.env}`' if option.env else '-'} | {_md(option.documented_default)} "
            f"| {', '.join(option.commands)} | {', '.join(option.platforms)} | {_md(option.help)} |"
        )
    return "\n".join(lines)


def _md(text: str) -> str:
    """Plain text safe in a Markdown table cell (no HTML tags, no column breaks)."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
