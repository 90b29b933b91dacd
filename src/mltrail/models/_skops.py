"""Import ``skops.io`` in the helper without walking every scikit-learn module.

``skops.io`` builds its default trust list when it is imported: it calls
scikit-learn's ``all_estimators()``, which imports every module of scikit-learn
(about 450 of them, 0.3 to 1 s) only to read the names of the estimator classes.
That list depends on nothing but the versions of scikit-learn and skops. An
ordinary import, in any process, keeps it in a small file (``~/.cache/mltrail``, or
``$XDG_CACHE_HOME/mltrail``); the helper process (``_worker``), on the critical
path of a one-shot script's model, hands skops stand-in classes that carry the
same module and class names, so that skops computes exactly the list it would have
computed, without the walk.

Only the helper does so: it saves models and never loads one, and what the list
decides there is which types ``MLmodel`` names in ``skops_trusted_types`` (a name
wrongly left out makes MLflow's loader refuse the model, never run it). Every other
process imports skops the ordinary way, so no decision to load a file rests on a
file in the user's cache. Any doubt (no file, a file of other versions or
unreadable, skops imported already) is the ordinary import. The stand-ins replace
``sklearn.utils.all_estimators`` for the length of that one import only.

Importing this module does it, so the helper can warm it by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["cache_file", "import_skops_io", "skops_io"]


def cache_file() -> Path | None:
    """Return the file of the estimator names for the installed versions."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        key = f"skops-{version('skops')}-scikit-learn-{version('scikit-learn')}"
    except PackageNotFoundError:  # no metadata: no file, the ordinary import
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(base) / "mltrail" / f"estimator-names-{key}.json"


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
    sklearn.utils.all_estimators = lambda *args, **kwargs: [
        (name.rpartition(".")[2], _stand_in(name)) for name in names
    ]
    try:
        import skops.io  # noqa: F401 - skops builds its trust list from the stand-ins
    finally:
        sklearn.utils.all_estimators = walk
    return sys.modules["skops.io"]


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
    if path is None:
        return
    with contextlib.suppress(OSError):  # a read-only home: every import walks
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(names, file)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


skops_io = import_skops_io()
