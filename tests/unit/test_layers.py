"""Which way imports point: no import cycles, and no module imports from a layer above its own.

``LAYERS`` lists the layers from the bottom up; each names the packages and modules in it (the
part after ``aishell.engine.``; the front ends are ``aishell.tui``). A module may import its own
layer and the layers below, never one above. Every import counts, the ones inside functions and
under ``TYPE_CHECKING`` too: a lazy import is still a dependency. A new top-level module of the
engine has to be placed here before the tests pass, so the map stays complete.

The imports are read from the source with ``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # plain values and helpers that import nothing of ours above them
    ("foundation", ("", "types", "errors", "config", "profiles", "files", "redact", "metrics", "logs", "demo", "compat")),
    # what mongosh text and BSON values mean, with no server: parsing, flattening, encoding
    ("languages", ("mongo", "encode")),
    # one backend each, behind the protocols of drivers/base.py
    ("drivers", ("drivers",)),
    # what a statement is and how it must run, for every family
    ("statements", ("statements",)),
    ("analysis and memory", ("analyzer", "memory")),
    # what a whole workload (memory, pg_stat_statements) asks of the indexes
    ("workload", ("workload",)),
    ("cache and pool", ("cache", "pool", "liveness", "backup", "migrate", "server", "tunnel", "prefetch")),
    ("session", ("session", "transaction", "copy", "connections")),
    # psql's backslash commands, for every front end
    ("commands", ("commands",)),
    ("benchmarks", ("bench",)),
    ("front ends", ("aishell.tui",)),
)

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"engine": "aishell.engine", "tui": "aishell.tui"}


def modules() -> dict[str, Path]:
    """Every module's dotted name (``aishell.engine.drivers.base``) and its file."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def resolve(name: str) -> str | None:
    """The module ``name`` lives in: ``aishell.engine.types.Column`` -> ``aishell.engine.types``."""
    while name not in MODULES:
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name


def imports(module: str) -> set[str]:
    """The modules of ours that ``module`` imports, anywhere in its source."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = resolve(name) if name.startswith("aishell.") else None
            if target is not None and target != module:
                out.add(target)
    return out


GRAPH = {module: imports(module) for module in MODULES}


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the layer holding ``module``, or None when the map does not place it."""
    for number, (_, members) in enumerate(LAYERS):
        for member in members:
            if member.startswith("aishell."):
                if module == member or module.startswith(member + "."):
                    return number
            else:
                name = "aishell.engine" + (f".{member}" if member else "")
                if module == name or (member and module.startswith(name + ".")):
                    return number
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in MODULES if layer_of(m) is None)
    assert unplaced == [], f"place these in LAYERS (tests/unit/test_layers.py): {unplaced}"


@pytest.mark.parametrize("folder", sorted(FOLDERS.values()))
def test_no_import_cycles(folder):
    graph = {m: {t for t in targets if t.startswith(folder)} for m, targets in GRAPH.items() if m.startswith(folder)}
    assert cycles(graph) == []


def test_no_import_reaches_a_higher_layer():
    upward = []
    for module, targets in sorted(GRAPH.items()):
        here = layer_of(module)
        for target in sorted(targets):
            there = layer_of(target)
            if here is not None and there is not None and there > here:
                upward.append(f"{module} ({LAYERS[here][0]}) imports {target} ({LAYERS[there][0]})")
    assert upward == []


def test_the_checks_see_what_they_must():
    # The graph reads lazy imports and the checks fire on a made-up cycle and an upward import.
    assert "aishell.engine.analyzer.mongo.report" in GRAPH["aishell.engine.session"]  # imported in a method
    assert "aishell.engine.types" in GRAPH["aishell.engine.drivers.base"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("aishell.engine.types") < layer_of("aishell.engine.drivers.postgres") < layer_of("aishell.engine.session")
    assert layer_of("aishell.engine.session") < layer_of("aishell.tui.app")
