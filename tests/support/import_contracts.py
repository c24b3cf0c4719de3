"""import-linter contract types of this project (registered in pyproject.toml under `contract_types`).

`shipped_client`: everything a module can reach by importing — from `entry`, following every import
(a function's too) and the package __init__ each module runs — may import only the standard library, the
`externals` listed and the kconform modules matching `modules`. It states what the client pod's code may
import; kconform.platforms.kubernetes.client_pod derives the files it ships from the same entry module.
"""

from __future__ import annotations

import sys

import grimp
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules


class ShippedClientContract(Contract):
    type_name = "shipped_client"

    entry = fields.StringField()
    modules = fields.SetField(subfield=fields.ModuleExpressionField())
    externals = fields.SetField(subfield=fields.StringField(), required=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        entry = str(self.entry)
        own = {m.name for m in module_expressions_to_modules(graph, self.modules)}  # type: ignore[arg-type]
        allowed_external = set(self.externals or ())  # type: ignore[call-overload]
        root = entry.split(".")[0]
        illegal: list[tuple[str, str, list[int]]] = []
        reached: set[str] = set()
        present = graph.modules
        todo = [entry]
        while todo:
            module = todo.pop()
            if module in reached or module not in present:
                continue
            reached.add(module)
            parts = module.split(".")
            todo.extend(".".join(parts[:n]) for n in range(1, len(parts)))  # its packages' __init__ run first
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                internal = imported == root or imported.startswith(root + ".")
                if internal and imported in own:
                    todo.append(imported)
                elif internal or (
                    imported.split(".")[0] not in sys.stdlib_module_names
                    and imported.split(".")[0] not in allowed_external
                ):
                    details = graph.get_import_details(importer=module, imported=imported)
                    illegal.append((module, imported, sorted(d["line_number"] for d in details)))
        return ContractCheck(
            kept=not illegal,
            metadata={"illegal": illegal, "entry": entry},
            warnings=list(removal.warnings),
            ignored_import_count=len(removal.removed_imports),
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error(
            f"Reached from {check.metadata['entry']}, these imports are neither the standard library, "
            "an allowed external package nor an allowed module:",
            bold=False,
        )
        output.new_line()
        for importer, imported, lines in check.metadata["illegal"]:
            output.print_error(f"- {importer} -> {imported} (l.{', '.join(map(str, lines))})", bold=False)
        output.new_line()
