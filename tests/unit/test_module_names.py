"""No module basename appears twice under kconform/ and fixtures/: a name says which module it is, in a
traceback, a log line or a grep, without its folder."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from kconform.paths import PACKAGES_ROOT

FOLDERS = ("kconform", "fixtures")

# Repeats being renamed on another branch (the local platform's modules); empty this after that merge.
KNOWN_REPEATS: set[str] = set()  # none left: a new repeat must be renamed, not listed


def repeated_basenames(root: Path) -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            if path.name != "__init__.py":
                where[path.name].append(path.relative_to(root).as_posix())
    return {name: paths for name, paths in where.items() if len(paths) > 1}


def test_no_module_basename_repeats() -> None:
    repeats = repeated_basenames(PACKAGES_ROOT)
    assert {n: p for n, p in repeats.items() if n not in KNOWN_REPEATS} == {}


def test_the_known_repeats_still_repeat() -> None:
    """An entry of KNOWN_REPEATS that no longer repeats is removed from it, so the list only shrinks."""
    assert set(repeated_basenames(PACKAGES_ROOT)) >= KNOWN_REPEATS


def test_a_repeat_is_found(tmp_path: Path) -> None:
    for file in ("kconform/a/util.py", "fixtures/util.py", "kconform/__init__.py", "fixtures/__init__.py"):
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_text("")
    assert repeated_basenames(tmp_path) == {"util.py": ["kconform/a/util.py", "fixtures/util.py"]}
