"""The registry: every ``SCENARIOS`` list found in the modules of ``bench.scenarios``.

To add scenarios, add a module to ``bench/scenarios/`` with a ``SCENARIOS`` list, or
add an entry to an existing list. Nothing else needs to change.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence

from bench import scenarios as _package
from bench._model import TOOLS, Scenario


class RegistryError(ValueError):
    """A scenario is malformed, a name is taken, or a selection names nothing."""


def all_scenarios() -> list[Scenario]:
    """Return every registered scenario, module by module.

    Modules come in the order of their ``ORDER`` (default 100), then of their names.
    """
    modules = [
        importlib.import_module(f"{_package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(_package.__path__)
        if not info.name.startswith("_")
    ]
    modules.sort(key=lambda module: (getattr(module, "ORDER", 100), module.__name__))
    found = [
        scenario for module in modules for scenario in getattr(module, "SCENARIOS", [])
    ]
    validate(found)
    return found


def validate(found: Sequence[Scenario]) -> None:
    """Raise RegistryError unless names are unique and each tool's code is known."""
    seen: set[str] = set()
    for scenario in found:
        if scenario.name in seen:
            raise RegistryError(f"scenario name {scenario.name!r} is registered twice.")
        seen.add(scenario.name)
        unknown = set(scenario.code) - set(TOOLS)
        if unknown or not scenario.code:
            raise RegistryError(
                f"scenario {scenario.name!r} has code for "
                f"{sorted(unknown) or 'no tool'}; expected some of {list(TOOLS)}."
            )
        if scenario.setup and set(scenario.setup) != set(scenario.code):
            raise RegistryError(
                f"scenario {scenario.name!r}: setup covers {sorted(scenario.setup)} "
                f"but code covers {sorted(scenario.code)}; they must be the same."
            )
        if not scenario.sizes:
            raise RegistryError(f"scenario {scenario.name!r} has no sizes.")


def select(found: Sequence[Scenario], names: Iterable[str]) -> list[Scenario]:
    """Return the scenarios named (in registry order), or all when ``names`` is empty.

    A name selects a scenario by its full name or by a prefix such as ``search``.
    """
    wanted = [name for name in names if name]
    if not wanted:
        return list(found)
    chosen = [
        s for s in found if any(s.name == w or s.name.startswith(w) for w in wanted)
    ]
    unmatched = [w for w in wanted if not any(s.name.startswith(w) for s in found)]
    if unmatched:
        known = ", ".join(s.name for s in found)
        raise RegistryError(f"no scenario matches {unmatched}; known: {known}.")
    return chosen
