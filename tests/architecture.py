"""A custom import-linter contract: no import cycle between any two modules.

import-linter's own `acyclic_siblings` contract works on packages (it would
refuse `teams` using `rota`'s models while `rota` uses `teams`' services, which
is allowed here). This one looks at modules: any strongly connected set of two
or more modules (imports inside functions count too) breaks it. Configured in
pyproject.toml ([tool.importlinter]) and run by scripts/test with `lint-imports`.
"""

from __future__ import annotations

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class NoModuleCyclesContract(Contract):
    type_name = "no_module_cycles"

    root = fields.StringField()

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        root = str(self.root)
        modules = sorted(m for m in graph.modules if m == root or m.startswith(root + "."))
        edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in modules)
                 for m in modules}
        cycles = [sorted(c) for c in strongly_connected(modules, edges) if len(c) > 1]
        chains = []
        for cycle in cycles:
            # One concrete loop through the component, to show the reader.
            first = cycle[0]
            back = [n for n in edges[first] if n in cycle]
            chain = graph.find_shortest_chain(importer=back[0], imported=first) if back else None
            chains.append([first, *(chain or [])])
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles, "chains": chains})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle, chain in zip(check.metadata["cycles"], check.metadata["chains"], strict=True):
            output.print_error(f"Import cycle among {len(cycle)} modules: {', '.join(cycle)}")
            output.indent_cursor()
            output.print(" -> ".join(chain))
            output.new_line()


def strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on big graphs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components
