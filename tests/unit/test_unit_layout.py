"""tests/unit mirrors the packages: a folder here is a package folder of kconform (or `fixtures`, the plugin
package kconform_fixtures), so a module's tests are found where the module is."""

from __future__ import annotations

from pathlib import Path

from kconform.paths import PACKAGES_ROOT

UNIT = Path(__file__).resolve().parent
PLUGIN_FOLDER = "fixtures"  # installed as kconform_fixtures


def unmirrored_folders(unit: Path, packages_root: Path) -> list[str]:
    found = []
    for folder in sorted(p for p in unit.rglob("*") if p.is_dir() and p.name != "__pycache__"):
        relative = folder.relative_to(unit)
        package = (
            packages_root / relative
            if relative.parts[0] == PLUGIN_FOLDER
            else packages_root / "kconform" / relative
        )
        if not (package / "__init__.py").is_file() or not (folder / "__init__.py").is_file():
            found.append(relative.as_posix())
    return found


def test_every_folder_mirrors_a_package() -> None:
    assert unmirrored_folders(UNIT, PACKAGES_ROOT) == []


def test_a_folder_with_no_package_is_found(tmp_path: Path) -> None:
    (tmp_path / "unit" / "nowhere").mkdir(parents=True)
    (tmp_path / "unit" / "nowhere" / "__init__.py").write_text("")
    (tmp_path / "kconform").mkdir()
    assert unmirrored_folders(tmp_path / "unit", tmp_path) == ["nowhere"]
