"""Import ``skops.io`` in the helper without walking every scikit-learn module.

``skops.io`` builds its default trust list when it is imported: it calls
scikit-learn's ``all_estimators()``, which imports every module of scikit-learn
(about 450 of them, 0.3 to 1 s) only to read the names of the estimator classes.
That list depends on nothing but the versions of scikit-learn and skops. An
ordinary import, in any process, keeps it in a small file (``~/.cache/mltrail``, or
``$XDG_CACHE_HOME/mltrail``); the helper process (``_worker``), on the critical
path of a one-shot script's model, hands skops stand-in classes that carry the
same module and class names, so that skops computes exactly the list it would have
computed, without the walk. For the length of that import, skops's search of
the module of each ufunc looks into plain modules' dictionaries instead of asking
each module with ``getattr`` (``_which_module``): the same answers, 50 ms sooner.

Only the helper does so: it saves models and never loads one, and what the list
decides there is which types ``MLmodel`` names in ``skops_trusted_types`` (a name
wrongly left out makes MLflow's loader refuse the model, never run it). Every other
process imports skops the ordinary way, so no decision to load a file rests on a
file in the user's cache. Any doubt (no file, a file of other versions or
unreadable, skops imported already) is the ordinary import. The stand-ins replace
``sklearn.utils.all_estimators`` for the length of that one import only.

The same folder keeps, for the next processes, the untrusted types skops's audit
found for each kind of model saved (``recall_untrusted``): the audit loads the
file again and costs as much as the save of a forest, and a one-shot script saves
one model. Only names of the model's own types are ever taken from that file.

Importing this module does it, so the helper can warm it by name.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "cache_file",
    "import_skops_io",
    "recall_untrusted",
    "remember_untrusted",
    "skops_io",
    "untrusted_file",
]

# Raised when the key of a state (_serialization._state_key) changes its meaning.
UNTRUSTED_FORMAT = 1
# Keys kept in the file of untrusted types: one per kind of model saved.
MAX_REMEMBERED_KEYS = 512


def cache_file() -> Path | None:
    """Return the file of the estimator names for the installed versions."""
    return _versioned_file("estimator-names", ("skops", "scikit-learn"))


def untrusted_file() -> Path | None:
    """Return the file of the untrusted types found by key, for these versions."""
    return _versioned_file(
        f"untrusted-types-{UNTRUSTED_FORMAT}", ("skops", "scikit-learn", "numpy")
    )


def _versioned_file(name: str, packages: tuple[str, ...]) -> Path | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        key = "-".join(f"{package}-{version(package)}" for package in packages)
    except PackageNotFoundError:  # no metadata: no file
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(base) / "mltrail" / f"{name}-{key}.json"


def recall_untrusted(key: frozenset[tuple[str, ...]]) -> list[str] | None:
    """Return the untrusted types remembered for a state's key, or None.

    An earlier process found them with skops's own audit of a file of the same
    key (see ``_serialization._state_key``). Only names of that key are taken: a
    changed file can then at most name a type of the model as untrusted, which is
    only listed in ``MLmodel`` beside the others, or leave one out, which makes
    MLflow's loader refuse the model; it can never add a type of its own.
    """
    types = _read_untrusted(untrusted_file()).get(_digest(key))
    if not isinstance(types, list) or not all(isinstance(name, str) for name in types):
        return None
    if not set(types) <= _names_of(key):
        return None
    return types


def remember_untrusted(key: frozenset[tuple[str, ...]], types: list[str]) -> None:
    """Keep the untrusted types of a key for the next processes (never raises)."""
    path = untrusted_file()
    if path is None:
        return
    found, digest = _read_untrusted(path), _digest(key)
    found.pop(digest, None)  # written again last: the newest keys are kept
    found[digest] = list(types)
    while len(found) > MAX_REMEMBERED_KEYS:  # the oldest go first
        del found[next(iter(found))]
    _write_json(path, found)


def _digest(key: frozenset[tuple[str, ...]]) -> str:
    text = json.dumps(sorted(key), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _names_of(key: frozenset[tuple[str, ...]]) -> set[str]:
    """Every name skops could report for a state of ``key``."""
    names = {f"{node[1]}.{node[2]}" for node in key}
    return names | {node[3] for node in key if len(node) > 3}


def _read_untrusted(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        found: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def import_skops_io() -> ModuleType:
    """Import ``skops.io`` once; in the helper, from the cached names if they exist."""
    module = sys.modules.get("skops.io")
    if module is not None:
        return module
    path = cache_file()
    names = _read(path) if _is_helper() else None
    if names is None:
        import skops.io
        import skops.io._trusted_types as trusted

        found = list(trusted.SKLEARN_ESTIMATOR_TYPE_NAMES)
        if _read(path) != found:  # written once per versions, not at every import
            _write(path, found)
        return sys.modules["skops.io"]
    import sklearn.utils

    walk = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = functools.partial(_estimators_by_name, names)
    try:
        import skops.io  # noqa: F401 - skops builds its trust list from the stand-ins
    finally:
        sklearn.utils.all_estimators = walk
        utils = sys.modules.get("skops.io._utils")
        if utils is not None and vars(utils).get("whichmodule") is _which_module:
            vars(utils)["whichmodule"] = _skops_which_module[0]
    return sys.modules["skops.io"]


# skops's own ``whichmodule`` while the helper imports skops (see below).
_skops_which_module: list[Any] = []


def _estimators_by_name(names: list[str], *args: Any, **kwargs: Any) -> list[Any]:
    """Stand in for ``all_estimators`` while skops is imported; speed up its search.

    skops calls it first thing when it builds its trust list; its next lines name
    each scipy and numpy ufunc with its ``whichmodule``, which looks for the
    object in every loaded module, in load order, with a ``getattr`` that fails
    in nearly all of them (about 58,000 failed lookups, 50 to 90 ms). From here
    to the end of the import it is ``_which_module``, which finds the same module.
    """
    utils = sys.modules.get("skops.io._utils")
    if utils is not None and not _skops_which_module:
        _skops_which_module.append(vars(utils)["whichmodule"])
        vars(utils)["whichmodule"] = _which_module
    return [(name.rpartition(".")[2], _stand_in(name)) for name in names]


def _which_module(obj: Any, name: str) -> str:
    """Find what skops's ``whichmodule`` finds, with dictionary lookups where it can.

    The first loaded module whose attribute ``name`` is ``obj``, as skops's: in a
    plain module without a module ``__getattr__`` the attribute is the entry of
    its ``__dict__``, which is looked up without raising; any other module is
    asked with ``getattr``, as skops asks it.
    """
    module_name = getattr(obj, "__module__", None)
    if module_name is not None:
        return str(module_name)
    if "." in name and _skops_which_module:  # skops's own path through the names
        return str(_skops_which_module[0](obj, name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for module_name, module in sys.modules.copy().items():
            if module_name in ("__main__", "__mp_main__") or module is None:
                continue
            if type(module) is ModuleType and "__getattr__" not in module.__dict__:
                found = module.__dict__.get(name)
            else:
                try:
                    found = getattr(module, name, None)
                except (AttributeError, ImportError):
                    continue
            if found is obj:
                return str(module_name)
    return "__main__"


def _is_helper() -> bool:
    main = sys.modules.get("mltrail._worker._main")
    return bool(getattr(main, "IS_HELPER", False))


def _stand_in(name: str) -> type:
    """Make a class that skops names ``name``: its module and class name only."""
    module, _, class_name = name.rpartition(".")
    return type(class_name, (), {"__module__": module})


def _read(path: Path | None) -> list[str] | None:
    if path is None:
        return None
    try:
        names: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(names, list) or not all(
        isinstance(name, str) and name.startswith("sklearn.") for name in names
    ):
        return None
    return names


def _write(path: Path | None, names: list[str]) -> None:
    if path is not None:
        _write_json(path, names)


def _write_json(path: Path, value: object) -> None:
    """Replace ``path`` with ``value`` as JSON, whole or not at all; never raise."""
    with contextlib.suppress(OSError):  # a read-only home: nothing is kept
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(value, file)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


skops_io = import_skops_io()
