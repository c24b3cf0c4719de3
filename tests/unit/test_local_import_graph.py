"""The local platform's modules import one another in one direction only: no import cycle, not even one
hidden inside a function (grimp, import-linter's graph builder, sees those too)."""

from __future__ import annotations

import grimp

PACKAGE = "kconform.platforms.local"


def test_no_module_of_the_local_platform_imports_itself_back() -> None:
    graph = grimp.build_graph("kconform", cache_dir=None)
    local = sorted(m for m in graph.modules if m == PACKAGE or m.startswith(PACKAGE + "."))
    cycles = [
        f"{module} -> {imported} -> ... -> {module}"
        for module in local
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if imported.startswith(PACKAGE + ".") and graph.chain_exists(importer=imported, imported=module)
    ]
    assert cycles == []
