"""Serialization: skops by default, pickle formats on request, and who is trusted."""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zipfile import ZipFile

import numpy as np
import pytest
import skops.io
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from skops.io._utils import SaveContext, get_state

from mltrail._errors import InvalidValueError
from mltrail.models import UntrustedModelError, _skops
from mltrail.models._serialization import (
    _UNTRUSTED_BY_KEY,
    _state_key,
    _untrusted_key,
    dump_model,
    load_model_file,
    untrusted_types,
)

X, y = load_iris(return_X_y=True)
DOUBLER = f"{__name__}.Doubler"


class Doubler(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # untyped
    """A transformer that no library ships: skops does not trust it."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X * 2


def untrusted_file() -> Path:
    path = _skops.untrusted_file()
    assert path is not None
    return path


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """Untrusted types remembered by this test only (``models/_skops.py``)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    _UNTRUSTED_BY_KEY.clear()


@pytest.fixture(scope="module")
def forest():
    return RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def custom_pipeline():
    return make_pipeline(Doubler(), LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.mark.parametrize("serialization_format", ["skops", "cloudpickle", "pickle"])
def test_round_trip_predicts_the_same(tmp_path, forest, serialization_format):
    name, _ = dump_model(forest, tmp_path, serialization_format)
    loaded = load_model_file(tmp_path / name, serialization_format, trusted=True)
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


@pytest.mark.parametrize(
    ("serialization_format", "file_name"),
    [("skops", "model.skops"), ("cloudpickle", "model.pkl"), ("pickle", "model.pkl")],
    ids=["skops", "cloudpickle", "pickle"],
)
def test_file_name_follows_format(tmp_path, serialization_format, file_name):
    name, _ = dump_model(LogisticRegression(), tmp_path, serialization_format)
    assert name == file_name
    assert (tmp_path / file_name).is_file()


def test_skops_reports_types_it_does_not_trust(tmp_path, forest):
    _, types = dump_model(forest, tmp_path, "skops")
    assert types == ["sklearn.tree._tree.Tree"]


def test_pickle_formats_report_no_types(tmp_path):
    assert dump_model(LogisticRegression(), tmp_path, "pickle")[1] is None


def test_second_dump_reuses_the_audit(tmp_path, forest):
    _UNTRUSTED_BY_KEY.clear()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = dump_model(forest, tmp_path / "a", "skops")[1]
    assert len(_UNTRUSTED_BY_KEY) == 1
    assert dump_model(forest, tmp_path / "b", "skops")[1] == first
    assert len(_UNTRUSTED_BY_KEY) == 1


def test_skops_file_loads_with_skops_itself(tmp_path, forest):
    import skops.io

    dump_model(forest, tmp_path, "skops")
    path = tmp_path / "model.skops"
    loaded = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def test_sklearn_types_are_trusted_by_default(tmp_path, forest):
    dump_model(forest, tmp_path, "skops")
    loaded = load_model_file(tmp_path / "model.skops", "skops")
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def test_custom_type_is_refused_naming_it(tmp_path, custom_pipeline):
    dump_model(custom_pipeline, tmp_path, "skops")
    with pytest.raises(UntrustedModelError, match=rf"\['{DOUBLER}'\]") as caught:
        load_model_file(tmp_path / "model.skops", "skops")
    assert caught.value.types == [DOUBLER]
    assert "trusted=" in str(caught.value)


def test_custom_type_loads_when_trusted(tmp_path, custom_pipeline):
    dump_model(custom_pipeline, tmp_path, "skops")
    loaded = load_model_file(tmp_path / "model.skops", "skops", trusted=[DOUBLER])
    np.testing.assert_array_equal(loaded.predict(X), custom_pipeline.predict(X))


def test_single_trusted_name_may_be_a_string(tmp_path, custom_pipeline):
    dump_model(custom_pipeline, tmp_path, "skops")
    loaded = load_model_file(tmp_path / "model.skops", "skops", trusted=DOUBLER)
    np.testing.assert_array_equal(loaded.predict(X), custom_pipeline.predict(X))


def test_trusted_list_in_the_model_directory_is_ignored(tmp_path, custom_pipeline):
    _, types = dump_model(custom_pipeline, tmp_path, "skops")
    assert types == [DOUBLER]  # what MLmodel records for MLflow
    assert untrusted_types(tmp_path / "model.skops") == [DOUBLER]


def test_numpy_ufuncs_are_trusted_by_skops(tmp_path):
    pipeline = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression())
    pipeline.fit(X, y)
    dump_model(pipeline, tmp_path, "skops")
    # numpy's ufuncs are trusted by skops itself, so nothing is left to refuse.
    assert untrusted_types(tmp_path / "model.skops") == []


def test_functions_of_trusted_packages_are_not_trusted_by_default(tmp_path):
    dump_model(FunctionTransformer(func=np.load), tmp_path, "skops")
    with pytest.raises(UntrustedModelError, match=r"numpy\.load"):
        load_model_file(tmp_path / "model.skops", "skops")


@pytest.mark.parametrize("serialization_format", ["cloudpickle", "pickle"])
@pytest.mark.parametrize(
    "trusted", [None, False, ["anything"]], ids=["none", "false", "list"]
)
def test_pickle_formats_need_trusted_true(tmp_path, serialization_format, trusted):
    dump_model(LogisticRegression(), tmp_path, serialization_format)
    with pytest.raises(UntrustedModelError, match=r"can run any code.*trusted=True"):
        load_model_file(tmp_path / "model.pkl", serialization_format, trusted)


def test_pickle_protocol_is_the_default_one(tmp_path):
    dump_model(LogisticRegression(), tmp_path, "pickle")
    data = (tmp_path / "model.pkl").read_bytes()
    assert data[1] == pickle.DEFAULT_PROTOCOL


def test_unknown_format_is_rejected_on_dump(tmp_path):
    with pytest.raises(InvalidValueError, match="serialization_format must be one of"):
        dump_model(LogisticRegression(), tmp_path, "joblib")


def test_unknown_format_is_rejected_on_load(tmp_path):
    with pytest.raises(InvalidValueError, match="serialization_format must be one of"):
        load_model_file(tmp_path / "model.pkl", "joblib")


def _corrupt_first_split(tree_model: DecisionTreeClassifier) -> DecisionTreeClassifier:
    """Point the root's left child outside the node array, as a crafted file would."""
    state = tree_model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes["left_child"][0] = 10_000
    tree_model.tree_.__setstate__({**state, "nodes": nodes})
    return tree_model


def test_tree_with_out_of_range_child_is_refused(tmp_path):
    crafted = _corrupt_first_split(DecisionTreeClassifier(random_state=0).fit(X, y))
    dump_model(crafted, tmp_path, "skops")
    with pytest.raises(InvalidValueError, match="node indices out of range"):
        load_model_file(tmp_path / "model.skops", "skops")


def test_tree_with_cycle_is_refused(tmp_path):
    tree_model = DecisionTreeClassifier(random_state=0).fit(X, y)
    state = tree_model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes["right_child"][0] = 0  # the root points to itself: predict would never end
    tree_model.tree_.__setstate__({**state, "nodes": nodes})
    dump_model(tree_model, tmp_path, "skops")
    with pytest.raises(InvalidValueError, match="node indices out of range"):
        load_model_file(tmp_path / "model.skops", "skops", trusted=True)


def test_untrusted_error_for_pickle_has_no_types():
    error = UntrustedModelError("m.pkl", [], "pickle")
    assert error.types == []
    assert "pickle format" in str(error)


class Holder(BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """An estimator whose parameter is a bound method, audited by its name."""

    def __init__(self, func: object = None) -> None:
        self.func = func


def test_bound_methods_are_audited_by_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    scaler = StandardScaler()
    first = dump_model(Holder(scaler.fit), tmp_path / "a", "skops")[1]
    second = dump_model(Holder(scaler.transform), tmp_path / "b", "skops")[1]
    assert first is not None
    assert second is not None
    assert any(name.endswith(".fit") for name in first)
    assert any(name.endswith(".transform") for name in second)


def double(X):
    """A user function: skops trusts no function outside numpy's and scipy's ufuncs."""
    return X * 2


def triple(X):
    return X * 3


def skops_state(estimator: object) -> dict[str, Any]:
    with ZipFile(io.BytesIO(), "w") as archive:
        context = SaveContext(zip_file=archive)
        state: dict[str, Any] = get_state(estimator, context)
    state["protocol"] = context.protocol
    return state


ESTIMATORS: dict[str, Callable[[], Any]] = {
    "forest": lambda: RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y),
    "boosting": lambda: GradientBoostingClassifier(n_estimators=2).fit(X, y),
    "user function": lambda: make_pipeline(
        FunctionTransformer(double), LogisticRegression(max_iter=1000)
    ).fit(X, y),
    "columns": lambda: make_column_transformer(
        (FunctionTransformer(triple), [0]), (StandardScaler(), [1, 2])
    ).fit(X, y),
    "search": lambda: GridSearchCV(
        make_pipeline(Doubler(), LogisticRegression(max_iter=1000)),
        {"logisticregression__C": [0.1, 1.0]},
        cv=2,
    ).fit(X, y),
    "bound method": lambda: Holder(StandardScaler().fit),
    "generator": lambda: Holder(np.random.default_rng(0)),
    "dict keyed __loader__": lambda: Holder({"__loader__": 1, "__class__": "x"}),
}


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_pruned_key_equals_the_full_walk(make):
    state = skops_state(make())
    assert _state_key(state, pruned=True) == _state_key(state)


@pytest.mark.parametrize("process", ["same process", "next process"])
def test_every_kind_of_estimator_reports_what_skops_reports(tmp_path, process):
    _UNTRUSTED_BY_KEY.clear()
    for index, make in enumerate([*ESTIMATORS.values(), *ESTIMATORS.values()]):
        if process == "next process" and index == len(ESTIMATORS):
            _UNTRUSTED_BY_KEY.clear()  # the second pass reads what the first kept
        (tmp_path / str(index)).mkdir()
        _, types = dump_model(make(), tmp_path / str(index), "skops")
        path = tmp_path / str(index) / "model.skops"
        assert types == skops.io.get_untrusted_types(file=path)
    assert len(_UNTRUSTED_BY_KEY) == len(ESTIMATORS)


def test_next_process_takes_the_untrusted_types_without_an_audit(
    tmp_path, custom_pipeline, monkeypatch
):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = dump_model(custom_pipeline, tmp_path / "a", "skops")[1]
    assert first is not None
    assert untrusted_file().is_file()
    _UNTRUSTED_BY_KEY.clear()  # as in a new process

    def no_audit(**kwargs: Any) -> list[str]:
        raise AssertionError("audited again")

    monkeypatch.setattr(skops.io, "get_untrusted_types", no_audit)
    assert dump_model(custom_pipeline, tmp_path / "b", "skops")[1] == first
    assert DOUBLER in first


@pytest.mark.parametrize(
    "kept",
    [["os.system"], [DOUBLER, "builtins.eval"], "not a list", [1]],
    ids=["a foreign type", "a foreign type beside a real one", "text", "a number"],
)
def test_remembered_types_not_of_the_model_are_audited_again(
    tmp_path, custom_pipeline, kept
):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    dump_model(custom_pipeline, tmp_path / "a", "skops")
    path = untrusted_file()
    found = json.loads(path.read_text())
    assert len(found) == 1
    found = dict.fromkeys(found, kept)
    path.write_text(json.dumps(found))
    _UNTRUSTED_BY_KEY.clear()

    types = dump_model(custom_pipeline, tmp_path / "b", "skops")[1]

    assert types is not None
    assert types == skops.io.get_untrusted_types(file=tmp_path / "b" / "model.skops")
    assert "os.system" not in types
    assert list(json.loads(path.read_text()).values()) == [types]  # set right


def test_unreadable_untrusted_file_is_an_audit(tmp_path, forest):
    (tmp_path / "a").mkdir()
    untrusted_file().parent.mkdir(parents=True)
    untrusted_file().write_text("{not json")
    assert dump_model(forest, tmp_path / "a", "skops")[1] == ["sklearn.tree._tree.Tree"]


def test_functions_inside_pipeline_steps_are_keyed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_pipeline(FunctionTransformer(double), StandardScaler()).fit(X)
    second = make_pipeline(FunctionTransformer(triple), StandardScaler()).fit(X)
    assert dump_model(first, tmp_path / "a", "skops")[1] == [f"{__name__}.double"]
    assert dump_model(second, tmp_path / "b", "skops")[1] == [f"{__name__}.triple"]


def generator_node(name: str) -> dict[str, Any]:
    """The part of a ``Generator`` state that names its bit generator."""
    name_node = {"__loader__": "JsonNode", "content": f'"{name}"'}
    return {
        "__class__": "Generator",
        "__module__": "numpy.random._generator",
        "__loader__": "RandomGeneratorNode",
        "content": {"bit_generator": {"content": {"bit_generator": name_node}}},
    }


def test_key_names_the_bit_generator():
    assert _state_key(generator_node("PCG64")) != _state_key(generator_node("Evil"))


def test_malformed_generator_state_is_keyed_without_a_name():
    broken = {**generator_node("PCG64"), "content": {"bit_generator": None}}
    generator = ("RandomGeneratorNode", "numpy.random._generator", "Generator", "")
    assert _state_key(broken) == {generator}


def test_unknown_protocol_walks_inside_every_node():
    hidden = {"__class__": "f", "__module__": "m", "__loader__": "FunctionNode"}
    state = {
        "__class__": "str",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": [hidden],
    }
    function = ("FunctionNode", "m", "f")
    assert function not in _untrusted_key({**state, "protocol": 2})
    assert function in _untrusted_key({**state, "protocol": 99})


def test_an_array_shared_by_two_attributes_is_written_once(tmp_path):
    shared = np.arange(3.0)
    dump_model(Holder((shared, shared)), tmp_path, "skops")
    with ZipFile(tmp_path / "model.skops") as archive:
        names = archive.namelist()
    assert sorted(names) == sorted(set(names))
    assert len([name for name in names if name.endswith(".npy")]) == 1
