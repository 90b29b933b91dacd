"""The allow-list: skops's own list, shipped for the installed libraries, by name."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mltrail.models import _allowed_types
from mltrail.models._allowed_types import (
    ADDED,
    ALLOWED_FILE,
    is_allowed,
    load_lists,
    skops_lists,
    write_file,
)

LOGISTIC = "sklearn.linear_model._logistic.LogisticRegression"


def test_shipped_file_is_skops_list_for_the_installed_libraries(tmp_path):
    write_file(tmp_path / "allowed_types.json")
    assert (tmp_path / "allowed_types.json").read_text() == ALLOWED_FILE.read_text()


def test_shipped_versions_are_the_installed_ones():
    versions = json.loads(ALLOWED_FILE.read_text())["versions"]
    assert versions == {
        library: _allowed_types.library_version(section)
        for section, library in _allowed_types.LIBRARY_SECTIONS.items()
    }


@pytest.mark.parametrize(
    ("loader", "name", "allowed"),
    [
        ("ObjectNode", LOGISTIC, True),
        ("ObjectNode", "sklearn.pipeline.Pipeline", True),
        ("ObjectNode", "numpy.lib.npyio.DataSource", False),
        ("ObjectNode", "numpy.lib._datasource.Repository", False),
        ("TypeNode", "numpy.f2py.__main__.main", False),
        ("TypeNode", "builtins.int", True),
        ("TypeNode", "numpy.float64", True),
        ("FunctionNode", "numpy.log1p", True),
        ("FunctionNode", "numpy.load", False),
        ("FunctionNode", "scipy.special._special_ufuncs.expit", True),
        ("FunctionNode", "scipy.linalg.solve", False),
        ("FunctionNode", "builtins.eval", False),
        ("LossNode", "sklearn._loss._loss.CyHalfSquaredError", True),
        ("DictNode", "collections.OrderedDict", True),
        ("DictNode", LOGISTIC, False),
        ("TreeNode", "sklearn.tree._tree.Tree", True),
        ("MethodNode", "sklearn.preprocessing._data.StandardScaler", False),
        ("bit_generators", "numpy.random.PCG64", True),
        ("bit_generators", "numpy.random.seed", False),
        ("PartialNode", "functools.partial", False),
    ],
)
def test_names_are_allowed_by_node_kind(loader, name, allowed):
    assert is_allowed(loader, name) is allowed


def test_a_name_is_allowed_only_for_its_node_kind():
    # An estimator is trusted as an object, never as a function or a type to call.
    assert not is_allowed("FunctionNode", LOGISTIC)
    assert not is_allowed("TypeNode", LOGISTIC)


def test_added_types_are_not_in_skops_list():
    lists = skops_lists()
    for loader, names in ADDED.items():
        skops_names = set(lists["sklearn"].get(loader, []))
        assert not names & skops_names, loader


def test_refusing_a_foreign_name_imports_nothing():
    script = (
        "import sys\n"
        "from mltrail.models._allowed_types import is_allowed\n"
        "print(is_allowed('ObjectNode', 'os.system'),"
        " is_allowed('FunctionNode', 'os.system'),"
        " sorted({'sklearn', 'numpy', 'scipy', 'skops'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[0] == "False False []"


@pytest.fixture
def other_scikit_learn(monkeypatch):
    """Pretend the installed scikit-learn is not the one the file was made for."""
    real = _allowed_types.library_version
    monkeypatch.setattr(
        _allowed_types,
        "library_version",
        lambda section: "0.0" if section == "sklearn" else real(section),
    )
    load_lists.cache_clear()
    yield
    load_lists.cache_clear()


def test_another_version_recomputes_the_list_from_skops(
    other_scikit_learn, monkeypatch
):
    calls = []

    def counted():
        calls.append(1)
        return skops_lists()

    monkeypatch.setattr(_allowed_types, "skops_lists", counted)
    _allowed_types._recomputed.cache_clear()
    try:
        assert is_allowed("ObjectNode", LOGISTIC)
        assert is_allowed("TypeNode", "numpy.float64")  # numpy's list is still shipped
        assert is_allowed("LossNode", "sklearn._loss._loss.CyHalfSquaredError")
    finally:
        _allowed_types._recomputed.cache_clear()
    assert calls == [1]
