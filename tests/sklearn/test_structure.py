"""The shape of ``mltrail.sklearn``: one-way stages, no import cycle (#14 §1).

Read statically (``ast``), so that imports inside functions count too: a lazy import
hides a cycle from the interpreter, not from a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mltrail.sklearn

PACKAGE = Path(mltrail.sklearn.__file__).parent
PREFIX = "mltrail.sklearn"

# What several recorders read: settings and shared state, runs, the background
# worker, known splits, snapshots, the model's directory options, what a fit call
# and an estimator tell.
SHARED = {
    "_state",
    "_background",
    "_runs",
    "_snapshot",
    "_search",
    "_fit",
    "_fit_outputs",
    "_splits",
    "_model",
    "_training_metrics",
    "_flavor",
}
# Each writes one kind of record.
RECORDERS = {
    "_training",
    "_logging",
    "_evaluate",
    "_explicit",
    "_heldout",
    "_post_training",
    "_extras",
    "_code",
    "_preprocessing",
    "_partial",
    "_crossval",
}
SESSION = {"_session"}
PATCHES = {"_patch", "_functions", "_methods"}
ENTRY = {"__init__", "_autolog"}
# Recorders that still call another recorder, to be carved away; none may be added.
RECORDER_CALLS = {
    ("_crossval", "_evaluate"),
    ("_crossval", "_heldout"),
    ("_crossval", "_logging"),
    ("_explicit", "_evaluate"),
    ("_explicit", "_heldout"),
    ("_heldout", "_evaluate"),
    ("_logging", "_code"),
    ("_logging", "_extras"),
    ("_logging", "_heldout"),
    ("_logging", "_preprocessing"),
    ("_logging", "_training"),
    ("_partial", "_code"),
    ("_partial", "_extras"),
    ("_partial", "_heldout"),
    ("_partial", "_preprocessing"),
    ("_preprocessing", "_code"),
    ("_preprocessing", "_heldout"),
}


def _imports(path: Path) -> set[str]:
    """Return the package's modules that ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == PREFIX:
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PREFIX + "."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {
                alias.name.split(".")[2]
                for alias in node.names
                if alias.name.startswith(PREFIX + ".")
            }
    found.discard(path.stem)
    return {name for name in found if (PACKAGE / f"{name}.py").exists()}


def _graph() -> dict[str, set[str]]:
    return {path.stem: _imports(path) for path in PACKAGE.glob("*.py")}


def _cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """Return a path of imports from ``start`` back to itself, if there is one."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        name, path = stack.pop()
        for imported in graph.get(name, ()):
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return None


def test_every_module_has_a_stage() -> None:
    stages = [SHARED, RECORDERS, SESSION, PATCHES, ENTRY]
    assert set(_graph()) == set().union(*stages)
    assert sum(len(stage) for stage in stages) == len(_graph())


def test_the_package_has_no_import_cycle() -> None:
    graph = _graph()
    cycles = [cycle for name in graph if (cycle := _cycle_from(graph, name))]
    assert cycles == []


def test_stages_import_only_the_stages_below_them() -> None:
    graph = _graph()
    below = {
        "shared": SHARED,
        "recorders": SHARED | RECORDERS,
        "session": SHARED | RECORDERS,
        "patches": SHARED | RECORDERS | SESSION | PATCHES,
    }
    stages = {"shared": SHARED, "recorders": RECORDERS, "session": SESSION}
    stages["patches"] = PATCHES
    wrong = {
        (name, imported)
        for stage, members in stages.items()
        for name in members
        for imported in graph[name] - below[stage]
    }
    assert wrong == set()


def test_recorders_call_no_new_recorder() -> None:
    graph = _graph()
    calls = {
        (name, imported) for name in RECORDERS for imported in graph[name] & RECORDERS
    }
    assert calls <= RECORDER_CALLS
    assert calls == RECORDER_CALLS, "a call was carved away: drop it from the list"
