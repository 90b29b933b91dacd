"""Serialization: skops by default, pickle formats on request, and who is trusted."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mltrail._errors import InvalidValueError
from mltrail.models import UntrustedModelError
from mltrail.models._serialization import (
    _UNTRUSTED_BY_KEY,
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
