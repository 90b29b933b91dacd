"""The shape of ``mltrail.sklearn``: one-way stages, no import cycle (#14 §1).

Each stage is a folder of the package; a module imports only modules of its own
stage or of the stages below it, and a recorder imports no other recorder (the
session hands it events; what several recorders need is in ``shared/``). Read
statically (``ast``), so that imports inside functions count too: a lazy import
hides a cycle from the interpreter, not from a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mltrail.sklearn

PACKAGE = Path(mltrail.sklearn.__file__).parent
PREFIX = "mltrail.sklearn"
# The stages, bottom first: what several stages read; one module per kind of
# record; which run an event belongs to; the wrappers around scikit-learn.
STAGES = ["shared", "recorders", "session", "patches"]
# The package's own modules, above every stage: the public names, `autolog` and
# `mltrail.evaluate`'s form for an estimator.
ENTRY = {"__init__", "_autolog", "_explicit"}


def _name(path: Path) -> str:
    """Name a module by its path under the package: ``recorders._code``."""
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _modules() -> dict[str, Path]:
    return {_name(path): path for path in PACKAGE.rglob("*.py")}


def _inside(dotted: str) -> bool:
    return dotted == PREFIX or dotted.startswith(PREFIX + ".")


def _module(dotted: str, modules: dict[str, Path]) -> str | None:
    """Return the module of the package that importing ``dotted`` loads, if any."""
    name = dotted.removeprefix(PREFIX).removeprefix(".")
    for candidate in (name, f"{name}.__init__" if name else "__init__"):
        if candidate in modules:
            return candidate
    return None


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the package's modules that ``path`` imports, anywhere in the file."""
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and _inside(node.module):
            found |= {
                _module(f"{node.module}.{alias.name}", modules)
                or _module(node.module, modules)
                for alias in node.names
            }
        elif isinstance(node, ast.Import):
            found |= {
                _module(alias.name, modules)
                for alias in node.names
                if _inside(alias.name)
            }
    return {name for name in found if name} - {_name(path)}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def _stage(name: str) -> str:
    return name.split(".")[0] if "." in name else "entry"


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


def test_every_module_is_in_a_stage_folder() -> None:
    modules = set(_modules())
    assert {name for name in modules if "." not in name} == ENTRY
    assert {_stage(name) for name in modules} == {*STAGES, "entry"}
    assert all(name.count(".") <= 1 for name in modules), "one folder level only"


def test_the_package_has_no_import_cycle() -> None:
    graph = _graph()
    cycles = [cycle for name in graph if (cycle := _cycle_from(graph, name))]
    assert cycles == []


def test_stages_import_only_their_own_stage_and_the_stages_below() -> None:
    wrong = {
        (name, imported)
        for name, imports in _graph().items()
        if _stage(name) != "entry"
        for imported in imports
        if _stage(imported) == "entry"
        or STAGES.index(_stage(imported)) > STAGES.index(_stage(name))
    }
    assert wrong == set()


def test_recorders_import_no_other_recorder() -> None:
    calls = {
        (name, imported)
        for name, imports in _graph().items()
        if _stage(name) == "recorders"
        for imported in imports
        if _stage(imported) == "recorders"
    }
    assert calls == set()


def test_every_recorder_hears_an_event_or_a_patch() -> None:
    """A recorder module nothing calls would be dead: the registry or a patch must."""
    callers = {
        imported
        for name, imports in _graph().items()
        if _stage(name) in ("session", "patches")
        for imported in imports
    }
    recorders = {name for name in _modules() if _stage(name) == "recorders"}
    assert recorders - callers == {"recorders.__init__"}
