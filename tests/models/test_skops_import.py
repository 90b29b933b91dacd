"""The helper imports ``skops.io`` from cached estimator names; skops trusts the same.

Every other process imports skops the ordinary way, whatever the file holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# Prints what skops trusts and whether the walk of scikit-learn's modules ran
# (sklearn.semi_supervised is imported by nothing else here); argv[1] says whether
# the process takes the helper's part.
PROBE = """
import json, sys
import mltrail._worker._main as helper
helper.IS_HELPER = sys.argv[1] == "helper"
import mltrail.models._skops as fast
import skops.io._trusted_types as trusted
print(json.dumps({
    "names": trusted.SKLEARN_ESTIMATOR_TYPE_NAMES,
    "walked": "sklearn.semi_supervised" in sys.modules,
    "file": str(fast.cache_file()),
}))
"""


def _probe(cache: Path, role: str = "helper", script: str = PROBE) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", script, role],
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    probe: dict[str, Any] = json.loads(result.stdout)
    return probe


@pytest.mark.slow
def test_the_second_import_reads_the_names_the_first_one_wrote(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    assert first["walked"] is True
    names = first["names"]
    assert isinstance(names, list)
    assert "sklearn.ensemble._forest.RandomForestClassifier" in names
    cache = Path(str(first["file"]))
    assert cache.parent == tmp_path / "mltrail"
    assert json.loads(cache.read_text()) == names
    second = _probe(tmp_path)
    assert second["walked"] is False
    assert second["names"] == names


@pytest.mark.slow
@pytest.mark.parametrize("content", ["not json", '["os.system"]', '{"a": 1}'])
def test_a_bad_file_means_the_ordinary_import(tmp_path: Path, content: str) -> None:
    first = _probe(tmp_path)
    cache = Path(str(first["file"]))
    cache.write_text(content)
    again = _probe(tmp_path)
    assert again["walked"] is True
    assert again["names"] == first["names"]
    assert json.loads(cache.read_text()) == first["names"]  # written again


@pytest.mark.slow
def test_a_process_other_than_the_helper_never_reads_the_file(tmp_path: Path) -> None:
    first = _probe(tmp_path, role="script")  # writes the file
    cache = Path(str(first["file"]))
    assert json.loads(cache.read_text()) == first["names"]
    written = cache.stat().st_mtime_ns
    cache.write_text(json.dumps([*first["names"], "sklearn.planted.Type"]))
    again = _probe(tmp_path, role="script")
    assert again["walked"] is True
    assert again["names"] == first["names"]  # what skops computes, not the file
    assert "sklearn.planted.Type" not in again["names"]
    assert cache.stat().st_mtime_ns != written  # the file was put right again


# Imports what the helper imports, in its order, then prints every list of names
# that skops trusts by default.
HELPER_ORDER_PROBE = """
import importlib, json, sys
import mltrail._worker._main as helper
from mltrail._worker import modules_needed
helper.IS_HELPER = sys.argv[1] == "helper"
if helper.IS_HELPER:
    for name in modules_needed(log_models=True, serialization_format="skops",
                               log_plots=True):
        importlib.import_module(name)
import mltrail.models._skops
import skops.io._trusted_types as trusted
import skops.io._utils as utils
lists = {name: getattr(trusted, name) for name in dir(trusted)
         if name.endswith("_TYPE_NAMES")}
# skops's own search is back once the import is over.
print(json.dumps({**lists, "whichmodule": utils.whichmodule.__module__}))
"""


@pytest.mark.slow
def test_the_helper_trusts_the_names_an_ordinary_import_trusts(tmp_path: Path) -> None:
    # The ordinary import writes the cached estimator names for the helper's.
    ordinary = _probe(tmp_path, role="script", script=HELPER_ORDER_PROBE)
    assert len(ordinary["SCIPY_UFUNC_TYPE_NAMES"]) > 100  # those found by a walk
    assert len(ordinary["NUMPY_UFUNC_TYPE_NAMES"]) > 50
    assert _probe(tmp_path, script=HELPER_ORDER_PROBE) == ordinary


def _lazy_module(name: str, value: object) -> ModuleType:
    module = ModuleType(name)
    module.__getattr__ = lambda attribute: (  # type: ignore[method-assign]
        value if attribute == "lazy" else _missing(attribute)
    )
    return module


def _missing(attribute: str) -> object:
    raise AttributeError(attribute)


class _ModuleWithProperty(ModuleType):
    @property
    def computed(self) -> object:
        return COMPUTED


COMPUTED = object()


def test_the_helper_s_search_finds_what_skops_s_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every ufunc skops names at import, plus the kinds of module whose attributes
    # are not entries of their __dict__: a module __getattr__, a property.
    import numpy as np
    import scipy.special
    from skops.io._utils import whichmodule

    from mltrail.models._skops import _which_module

    lazy = object()
    monkeypatch.setitem(sys.modules, "mltrail_test_lazy", _lazy_module("l", lazy))
    odd = _ModuleWithProperty("mltrail_test_property")
    monkeypatch.setitem(sys.modules, "mltrail_test_property", odd)
    objects: list[tuple[object, str]] = [
        (value, name)
        for module in (np, scipy.special)
        for name, value in vars(module).items()
        if isinstance(value, np.ufunc)
    ]
    assert len(objects) > 150
    objects += [(lazy, "lazy"), (COMPUTED, "computed"), (object(), "nowhere")]
    for value, name in objects:
        assert _which_module(value, name) == whichmodule(value, name), name
    assert _which_module(lazy, "lazy") == "mltrail_test_lazy"
    assert _which_module(COMPUTED, "computed") == "mltrail_test_property"
