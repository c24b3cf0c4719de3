"""The documented workflows: one scenario module each, marked `pytest.mark.workflow("<name>")`.

`kconform run --workflow NAME` (and pytest's `--workflow`, env `KCONFORM_WORKFLOW`) runs only the named ones;
a name not in this table is a usage error naming the valid ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from kconform.errors import UsageError

# name -> scenario module (under scenarios/)
WORKFLOWS = {
    "tls-listener": "test_tls_listener.py",
    "user-acls": "test_user_acls.py",
    "bridge-sidecar": "test_bridge_sidecar.py",
    "external-access": "test_external_access.py",
    "metadata-mode": "test_metadata_mode.py",
    "scram-listener": "test_scram_listener.py",
    "kraft-migration": "test_kraft_migration.py",
}


def check(names: Iterable[str]) -> tuple[str, ...]:
    """The names, each checked against the table (order kept, duplicates dropped)."""
    chosen = tuple(dict.fromkeys(name.strip() for name in names if name.strip()))
    for name in chosen:
        if name not in WORKFLOWS:
            raise UsageError(f"unknown workflow {name!r}; choose from: {', '.join(WORKFLOWS)}")
    return chosen
