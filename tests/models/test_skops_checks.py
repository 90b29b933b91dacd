"""Types mltrail trusts beyond skops: each crafted state is refused before it exists.

Every case edits a real model the way an attacker would (the live arrays before
the dump, or ``schema.json`` and ``.npy`` members after it) so that scikit-learn's
native code would follow an index out of bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KernelDensity, KNeighborsClassifier, NearestNeighbors
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from mltrail._errors import InvalidValueError
from mltrail.models import UntrustedModelError
from mltrail.models._serialization import load_model_file
from tests.models._crafted import craft, find, set_json, walk

X, y = load_iris(return_X_y=True)
TREE = "sklearn.tree._tree.Tree"
TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


def _load(path: Path, trusted: Any = None) -> Any:
    return load_model_file(path, "skops", trusted)


def _tree_model() -> DecisionTreeClassifier:
    return DecisionTreeClassifier(random_state=0).fit(X, y)


def _set_nodes(tree: Any, change: Callable[[np.ndarray], None]) -> None:
    """Change a fitted Tree's node array in place (scikit-learn checks nothing)."""
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    change(nodes)
    tree.__setstate__({**state, "nodes": nodes})


def _first_internal(nodes: np.ndarray, after: int = 0) -> int:
    return int(np.flatnonzero(nodes["left_child"][after + 1 :] != -1)[0]) + after + 1


def _feature_past_the_end(nodes: np.ndarray) -> None:
    nodes["feature"][0] = 4  # iris has 4 features


def _one_child(nodes: np.ndarray) -> None:
    nodes["right_child"][0] = -1


def _shared_child(nodes: np.ndarray) -> None:
    inner = _first_internal(nodes)
    nodes["right_child"][0] = nodes["left_child"][inner]


def _child_before_parent(nodes: np.ndarray) -> None:
    inner = _first_internal(nodes)
    nodes["left_child"][inner] = 1


TREE_CORRUPTIONS = {
    "feature past n_features": (_feature_past_the_end, "split feature"),
    "one child": (_one_child, "a node with one child"),
    "child reached twice": (_shared_child, "node indices out of range"),
    "child before its parent": (_child_before_parent, "node indices out of range"),
}


@pytest.mark.parametrize(
    ("change", "message"), TREE_CORRUPTIONS.values(), ids=TREE_CORRUPTIONS.keys()
)
def test_crafted_tree_nodes_are_refused(tmp_path, change, message):
    model = _tree_model()
    _set_nodes(model.tree_, change)
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match=message):
        _load(path)


@pytest.mark.parametrize(
    "trusted", [None, True, [TREE]], ids=["default", "all", "tree"]
)
def test_crafted_tree_is_refused_whatever_the_trust(tmp_path, trusted):
    model = _tree_model()
    _set_nodes(model.tree_, _shared_child)
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="Tree at tree_ in model file"):
        _load(path, trusted)


def test_tree_feature_past_the_estimators_width_is_refused(tmp_path):
    model = _tree_model()
    model.n_features_in_ = 2  # predict validates X against this width
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match=r"feature indices in \[0, 2\)"):
        _load(path)


def test_tree_feature_past_the_forests_width_is_refused(tmp_path):
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)
    forest.n_features_in_ = 2  # the forest checks X, its trees do not
    path = craft(tmp_path / "model.skops", forest)
    with pytest.raises(InvalidValueError, match=r"estimators_\[0\]\.tree_"):
        _load(path)


def test_isolation_forest_feature_subsets_bound_the_trees(tmp_path):
    forest = IsolationForest(n_estimators=2, random_state=0).fit(X)
    forest.estimators_features_ = [np.array([0, 1])] * 2  # X[:, features] is narrow
    path = craft(tmp_path / "model.skops", forest)
    with pytest.raises(InvalidValueError, match="split feature"):
        _load(path)


def test_isolation_forest_with_feature_subsets_loads(tmp_path):
    forest = IsolationForest(n_estimators=3, max_features=0.5, random_state=0).fit(X)
    path = craft(tmp_path / "model.skops", forest)
    np.testing.assert_array_equal(_load(path).predict(X), forest.predict(X))


def test_tree_values_of_the_wrong_shape_are_refused(tmp_path):
    model = _tree_model()
    count = model.tree_.node_count
    path = craft(
        tmp_path / "model.skops", model, arrays={"values": np.zeros((count, 1, 2))}
    )
    with pytest.raises(InvalidValueError, match=r"values of shape \(\d+, 1, 2\)"):
        _load(path)


def test_tree_node_count_must_match_the_nodes(tmp_path):
    model = _tree_model()

    def shrink(schema):
        node_count = find(schema, __loader__="TreeNode")["content"]["content"]
        set_json(node_count["node_count"], model.tree_.node_count + 5)

    path = craft(tmp_path / "model.skops", model, shrink)
    with pytest.raises(InvalidValueError, match="node_count"):
        _load(path)


def test_tree_class_counts_must_match_outputs(tmp_path):
    model = _tree_model()

    def two_outputs(schema):
        args = find(schema, __loader__="TreeNode")["__reduce__"]["args"]["content"]
        set_json(args[2], 2)

    path = craft(tmp_path / "model.skops", model, two_outputs)
    with pytest.raises(InvalidValueError, match="2 class counts"):
        _load(path)


def test_tree_outside_a_tree_estimator_is_refused_unless_named(tmp_path):
    holder = LogisticRegression(max_iter=500).fit(X, y)
    holder.hidden = _tree_model().tree_
    path = craft(tmp_path / "model.skops", holder)
    with pytest.raises(
        InvalidValueError, match="outside a scikit-learn tree estimator"
    ):
        _load(path)
    assert _load(path, trusted=[TREE]).hidden.node_count == holder.hidden.node_count


def test_gradient_boosting_stages_wider_than_the_init_are_refused(tmp_path):
    model = GradientBoostingClassifier(n_estimators=2, random_state=0).fit(X, y)
    model.init_.class_prior_ = model.init_.class_prior_[:2]  # 2 columns, 3 trees
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="3 trees per stage"):
        _load(path)


def test_gradient_boosting_with_zero_init_loads(tmp_path):
    model = GradientBoostingClassifier(n_estimators=2, init="zero").fit(X, y)
    path = craft(tmp_path / "model.skops", model)
    np.testing.assert_array_equal(_load(path).predict(X), model.predict(X))


def test_gradient_boosting_with_another_init_needs_matching_columns(tmp_path):
    model = GradientBoostingClassifier(n_estimators=2, init="zero").fit(X, y)
    model.n_trees_per_iteration_ = 2
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="3 trees per stage"):
        _load(path)


def _histogram_model(**params: Any) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(max_iter=2, random_state=0, **params).fit(X, y)


def _predictor_nodes(model: Any) -> np.ndarray:
    nodes: np.ndarray = model._predictors[0][0].nodes
    return nodes


def test_tree_predictor_feature_past_the_width_is_refused(tmp_path):
    model = _histogram_model()
    nodes = _predictor_nodes(model)
    nodes["feature_idx"][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = 4
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match=r"feature indices in \[0, 4\)"):
        _load(path)


def test_tree_predictor_categorical_split_needs_the_name(tmp_path):
    model = _histogram_model()
    nodes = _predictor_nodes(model)
    nodes["is_categorical"][0] = 1
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="categorical features"):
        _load(path)
    # Named, it is still checked: its bitset index must exist.
    with pytest.raises(InvalidValueError, match="a bitset index"):
        _load(path, trusted=[TREE_PREDICTOR])


def test_categorical_histogram_boosting_loads_when_named(tmp_path):
    X_cat = np.c_[np.round(X[:, 0]), X[:, 1:]]
    model = _histogram_model(categorical_features=[0]).fit(X_cat, y)
    path = craft(tmp_path / "model.skops", model)
    trusted = [
        TREE_PREDICTOR,
        "functools.partial",
        "sklearn.utils.validation.check_array",
    ]
    with pytest.raises(InvalidValueError, match="categorical features"):
        _load(path, trusted=trusted[1:])
    loaded = _load(path, trusted=trusted)
    np.testing.assert_allclose(loaded.predict(X_cat), model.predict(X_cat))


def test_tree_predictor_outside_histogram_boosting_is_refused(tmp_path):
    holder = LogisticRegression(max_iter=500).fit(X, y)
    holder.hidden = _histogram_model()._predictors[0][0]
    path = craft(tmp_path / "model.skops", holder)
    with pytest.raises(InvalidValueError, match="outside HistGradientBoosting"):
        _load(path)


def test_tree_predictor_bitsets_must_be_k_by_8(tmp_path):
    model = _histogram_model()
    path = craft(
        tmp_path / "model.skops",
        model,
        arrays={"raw_left_cat_bitsets": np.zeros((0, 4), dtype=np.uint32)},
    )
    with pytest.raises(InvalidValueError, match=r"uint32 arrays of shape \(k, 8\)"):
        _load(path)


def test_dtype_must_come_from_an_npy_header(tmp_path):
    imputer = SimpleImputer().fit(X)

    def json_array(schema):
        for dtype in [
            node for node in walk(schema) if node["__loader__"] == "DTypeNode"
        ]:
            dtype["content"] = {
                "__class__": "ndarray",
                "__module__": "numpy",
                "__loader__": "NdArrayNode",
                "type": "json",
                "content": [],
                "shape": {
                    "__class__": "tuple",
                    "__module__": "builtins",
                    "__loader__": "TupleNode",
                    "content": [],
                },
            }

    path = craft(tmp_path / "model.skops", imputer, json_array)
    with pytest.raises(InvalidValueError, match=r"an \.npy array"):
        _load(path)
    assert (
        _load(craft(tmp_path / "good.skops", imputer))._fit_dtype == imputer._fit_dtype
    )


def test_mlp_optimizer_holds_numbers_and_arrays_only(tmp_path):
    mlp = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)
    mlp._optimizer.hook = LogisticRegression()
    path = craft(tmp_path / "model.skops", mlp)
    with pytest.raises(InvalidValueError, match="numbers and arrays"):
        _load(path)


def test_every_check_finds_its_nodes_in_a_real_model(tmp_path):
    """The checks run on real files: each kind appears where the checks look."""
    model = _histogram_model()
    path = craft(tmp_path / "model.skops", model)
    import json
    from zipfile import ZipFile

    schema = json.loads(ZipFile(path).read("schema.json"))
    kinds = {(node["__loader__"], node["__class__"]) for node in walk(schema)}
    assert ("ObjectNode", "TreePredictor") in kinds


def _edit_tree_args(change: Callable[[list[Any]], None]) -> Callable[[Any], None]:
    def edit(schema: Any) -> None:
        change(find(schema, __loader__="TreeNode")["__reduce__"]["args"]["content"])

    return edit


def _zero_features(args: list[Any]) -> None:
    set_json(args[0], 0)


def _two_arguments(args: list[Any]) -> None:
    del args[2]


def _classes_as_a_number(args: list[Any]) -> None:
    args[1] = {
        "__class__": "int",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": "3",
    }


TREE_ARGUMENTS = {
    "no features": (_zero_features, "n_features 0"),
    "two arguments": (_two_arguments, "3 arguments"),
    "class counts as a number": (_classes_as_a_number, "a 1-D array"),
}


@pytest.mark.parametrize(
    ("change", "message"), TREE_ARGUMENTS.values(), ids=TREE_ARGUMENTS.keys()
)
def test_crafted_tree_arguments_are_refused(tmp_path, change, message):
    path = craft(tmp_path / "model.skops", _tree_model(), _edit_tree_args(change))
    with pytest.raises(InvalidValueError, match=message):
        _load(path)


def test_tree_state_must_be_a_dict(tmp_path):
    def as_list(schema):
        find(schema, __loader__="TreeNode")["content"] = {
            "__class__": "list",
            "__module__": "builtins",
            "__loader__": "ListNode",
            "content": [],
        }

    path = craft(tmp_path / "model.skops", _tree_model(), as_list)
    with pytest.raises(InvalidValueError, match="a state that is not a dict"):
        _load(path)


def test_tree_nodes_need_scikit_learn_fields(tmp_path):
    model = _tree_model()
    count = model.tree_.node_count
    path = craft(tmp_path / "model.skops", model, arrays={"nodes": np.zeros(count)})
    with pytest.raises(InvalidValueError, match="without an integer 'left_child'"):
        _load(path)


def test_tree_estimator_without_attributes_is_refused(tmp_path):
    def forget_attributes(schema):
        schema["content"] = {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "content": {"tree_": schema["content"]["content"]["tree_"]},
            "key_types": {
                "__class__": "list",
                "__module__": "builtins",
                "__loader__": "ListNode",
                "content": [
                    {
                        "__class__": "str",
                        "__module__": "builtins",
                        "__loader__": "TypeNode",
                    }
                ],
            },
        }

    path = craft(tmp_path / "model.skops", _tree_model(), forget_attributes)
    with pytest.raises(InvalidValueError, match=r"n_features_in_ of .* None"):
        _load(path)


def test_a_tree_held_twice_outside_an_estimator_is_refused(tmp_path):
    holder = LogisticRegression(max_iter=500).fit(X, y)
    tree = _tree_model().tree_
    holder.hidden = [tree, tree]
    path = craft(tmp_path / "model.skops", holder)
    with pytest.raises(
        InvalidValueError, match="outside a scikit-learn tree estimator"
    ):
        _load(path)


def test_isolation_forest_feature_subsets_must_be_a_list(tmp_path):
    forest = IsolationForest(n_estimators=2, random_state=0).fit(X)
    forest.estimators_features_ = np.array([[0, 1, 2, 3]] * 2)
    path = craft(tmp_path / "model.skops", forest)
    with pytest.raises(InvalidValueError, match="one array per tree"):
        _load(path)


def test_gradient_boosting_with_a_regressor_init_and_three_stages_is_refused(tmp_path):
    from sklearn.dummy import DummyRegressor

    model = GradientBoostingClassifier(n_estimators=2, random_state=0).fit(X, y)
    model.init_ = DummyRegressor().fit(X, y)
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="3 trees per stage"):
        _load(path)


def test_gradient_boosting_stage_width_counts_tuple_rows(tmp_path):
    model = GradientBoostingClassifier(n_estimators=2, random_state=0).fit(X, y)
    model.init_.class_prior_ = model.init_.class_prior_[:2]
    rows = model.estimators_
    model.estimators_ = np.empty(len(rows), dtype=object)
    for index, row in enumerate(rows):
        model.estimators_[index] = tuple(row)  # numpy still builds 2-D from these
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="3 trees per stage"):
        _load(path)


def test_tree_predictor_needs_nodes(tmp_path):
    model = _histogram_model()
    path = craft(
        tmp_path / "model.skops",
        model,
        arrays={"nodes": np.zeros(0, dtype=_predictor_nodes(model).dtype)},
    )
    with pytest.raises(InvalidValueError, match="no nodes"):
        _load(path)


def test_tree_predictor_named_by_the_caller_loads_anywhere(tmp_path):
    holder = LogisticRegression(max_iter=500).fit(X, y)
    holder.hidden = _histogram_model()._predictors[0][0]
    path = craft(tmp_path / "model.skops", holder)
    assert len(_load(path, trusted=[TREE_PREDICTOR]).hidden.nodes) > 0


def test_mlp_optimizer_without_state_loads(tmp_path):
    mlp = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)

    def drop_state(schema):
        del find(schema, __loader__="ObjectNode", __class__="AdamOptimizer")["content"]

    path = craft(tmp_path / "model.skops", mlp, drop_state)
    assert not vars(_load(path)._optimizer)


NEIGHBORS = {
    "kd tree": lambda: KNeighborsClassifier(leaf_size=5).fit(X, y),
    "ball tree": lambda: KNeighborsClassifier(algorithm="ball_tree", leaf_size=5).fit(
        X, y
    ),
    "kernel density": lambda: KernelDensity().fit(X, sample_weight=np.ones(len(X))),
    "manhattan": lambda: NearestNeighbors(
        metric="manhattan", algorithm="kd_tree", leaf_size=3
    ).fit(X),
    "weighted minkowski": lambda: NearestNeighbors(
        metric="minkowski",
        p=3,
        metric_params={"w": np.arange(1.0, 5.0)},
        algorithm="ball_tree",
    ).fit(X),
}


@pytest.mark.parametrize("make", NEIGHBORS.values(), ids=NEIGHBORS.keys())
def test_neighbor_models_load_by_default_and_answer_the_same(tmp_path, make):
    model = make()
    loaded = _load(craft(tmp_path / "model.skops", model))
    if hasattr(model, "kneighbors"):
        np.testing.assert_array_equal(
            loaded.kneighbors(X[:7])[1], model.kneighbors(X[:7])[1]
        )
    else:
        np.testing.assert_allclose(loaded.score_samples(X), model.score_samples(X))


def _neighbors(leaf_size: int = 5, **params: Any) -> KNeighborsClassifier:
    return KNeighborsClassifier(leaf_size=leaf_size, **params).fit(X, y)


def _edit_tree(model: Any, change: Callable[[list[Any]], None]) -> Any:
    """Change the state of a fitted KDTree or BallTree (scikit-learn checks nothing)."""
    state = list(model._tree.__getstate__())
    change(state)
    model._tree.__setstate__(tuple(state))
    return model


def _far_index(state: list[Any]) -> None:
    state[1] = state[1].copy()
    state[1][0] = 1_000_000


def _end_past_the_data(state: list[Any]) -> None:
    state[2] = state[2].copy()
    state[2]["idx_end"][-1] = len(state[0]) + 50


def _overlapping_children(state: list[Any]) -> None:
    state[2] = state[2].copy()
    state[2]["idx_start"][2] -= 3  # the right child takes rows of the left one


def _inner_node_at_the_bottom(state: list[Any]) -> None:
    state[2] = state[2].copy()
    state[2]["is_leaf"][-1] = 0  # its children would be past the node array


def _more_nodes_than_stored(state: list[Any]) -> None:
    state[6] = state[6] + 4


def _short_weights(state: list[Any]) -> None:
    state[12] = np.ones(3)


NEIGHBOR_CORRUPTIONS = {
    "index past the data": (_far_index, "a permutation of the data rows"),
    "node end past the data": (_end_past_the_data, "node ranges out of order"),
    "children overlapping": (_overlapping_children, "node ranges out of order"),
    "inner node at the bottom": (_inner_node_at_the_bottom, "node ranges out of"),
    "more nodes than stored": (_more_nodes_than_stored, "n_nodes"),
    "weights of another length": (_short_weights, "150 weights"),
}


@pytest.mark.parametrize(
    ("change", "message"),
    NEIGHBOR_CORRUPTIONS.values(),
    ids=NEIGHBOR_CORRUPTIONS.keys(),
)
def test_crafted_neighbor_trees_are_refused(tmp_path, change, message):
    path = craft(tmp_path / "model.skops", _edit_tree(_neighbors(), change))
    with pytest.raises(InvalidValueError, match=message):
        _load(path)


def test_neighbor_tree_state_must_have_thirteen_values(tmp_path):
    def drop_one(schema):
        tree = find(schema, __loader__="ObjectNode", __class__="KDTree")
        del tree["content"]["content"][5]

    path = craft(tmp_path / "model.skops", _neighbors(), drop_one)
    with pytest.raises(InvalidValueError, match="13 values"):
        _load(path)


def test_a_mahalanobis_metric_needs_the_callers_trust(tmp_path):
    model = NearestNeighbors(
        metric="mahalanobis",
        metric_params={"VI": np.eye(4)},
        algorithm="ball_tree",
    ).fit(X)
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(UntrustedModelError, match="MahalanobisDistance64"):
        _load(path)


def test_a_tree_with_a_metric_named_by_the_caller_is_still_refused(tmp_path):
    model = NearestNeighbors(
        metric="mahalanobis", metric_params={"VI": np.eye(4)}, algorithm="ball_tree"
    ).fit(X)
    path = craft(tmp_path / "model.skops", model)
    metric = "sklearn.metrics._dist_metrics.MahalanobisDistance64"
    with pytest.raises(InvalidValueError, match="a distance metric without matrices"):
        _load(path, trusted=[metric])


def _minkowski(weights: np.ndarray) -> NearestNeighbors:
    model = NearestNeighbors(
        metric="minkowski", p=3, metric_params={"w": np.ones(4)}, algorithm="ball_tree"
    ).fit(X)
    metric = model._tree.__getstate__()[11]
    metric.__setstate__((3.0, weights, np.zeros((0, 0))))
    return model


def test_minkowski_weights_must_cover_the_columns(tmp_path):
    path = craft(tmp_path / "model.skops", _minkowski(np.ones(2)))
    with pytest.raises(InvalidValueError, match="2 weights"):
        _load(path)


def test_a_metric_alone_is_checked_too(tmp_path):
    holder = LogisticRegression(max_iter=500).fit(X, y)
    holder.metric = _minkowski(np.ones(4))._tree.__getstate__()[11]

    def bad_p(schema):
        metric = find(schema, __loader__="ObjectNode", __class__="MinkowskiDistance64")
        set_json(metric["content"]["content"][0], 0.5)

    path = craft(tmp_path / "model.skops", holder, bad_p)
    with pytest.raises(InvalidValueError, match="a number >= 1"):
        _load(path)
    holder_ok = craft(tmp_path / "ok.skops", holder)
    assert _load(holder_ok).metric.__class__.__name__ == "MinkowskiDistance64"


def test_a_metric_state_of_another_shape_is_refused(tmp_path):
    holder = LogisticRegression(max_iter=500).fit(X, y)
    holder.metric = _minkowski(np.ones(4))._tree.__getstate__()[11]

    def two_values(schema):
        metric = find(schema, __loader__="ObjectNode", __class__="MinkowskiDistance64")
        del metric["content"]["content"][2]

    path = craft(tmp_path / "model.skops", holder, two_values)
    with pytest.raises(InvalidValueError, match=r"\(p, vec, mat\)"):
        _load(path)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "temperature"])
def test_calibrated_classifiers_load_by_default(tmp_path, method):
    from sklearn.calibration import CalibratedClassifierCV

    model = CalibratedClassifierCV(
        LogisticRegression(max_iter=1000), cv=3, method=method
    ).fit(X, y)
    loaded = _load(craft(tmp_path / "model.skops", model))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_a_calibrated_classifier_with_more_attributes_is_refused(tmp_path):
    from sklearn.calibration import CalibratedClassifierCV

    model = CalibratedClassifierCV(LogisticRegression(max_iter=1000), cv=3).fit(X, y)
    model.calibrated_classifiers_[0].hook = "x"
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="a method name"):
        _load(path)


def test_a_sigmoid_calibration_holds_numbers_only(tmp_path):
    from sklearn.calibration import CalibratedClassifierCV

    model = CalibratedClassifierCV(LogisticRegression(max_iter=1000), cv=3).fit(X, y)
    model.calibrated_classifiers_[0].calibrators[0].a_ = LogisticRegression()
    path = craft(tmp_path / "model.skops", model)
    with pytest.raises(InvalidValueError, match="numbers and arrays"):
        _load(path)


def _search(cv: Any = 3) -> Any:
    from sklearn.model_selection import GridSearchCV

    return GridSearchCV(LogisticRegression(max_iter=1000), {"C": [0.1, 1.0]}, cv=cv)


@pytest.mark.parametrize(
    "cv",
    ["3", "KFold", "ShuffleSplit", "GroupKFold"],
)
def test_a_fitted_search_loads_by_default(tmp_path, cv):
    from sklearn import model_selection

    splitter = int(cv) if cv.isdigit() else getattr(model_selection, cv)(n_splits=3)
    fit_params = {"groups": np.arange(len(y)) % 5} if cv == "GroupKFold" else {}
    search = _search(splitter).fit(X, y, **fit_params)

    loaded = _load(craft(tmp_path / "model.skops", search))

    assert loaded.best_params_ == search.best_params_
    np.testing.assert_array_equal(
        loaded.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )
    assert loaded.score(X, y) == search.score(X, y)


def test_a_splitter_holds_numbers_only(tmp_path):
    from sklearn.model_selection import KFold

    splitter = KFold(n_splits=3)
    splitter.hook = LogisticRegression()
    path = craft(tmp_path / "model.skops", _search(splitter).fit(X, y))
    with pytest.raises(InvalidValueError, match="numbers and arrays"):
        _load(path)


def test_a_passthrough_scorer_holds_its_estimator_only(tmp_path):
    search = _search().fit(X, y)
    search.scorer_.hook = "x"
    path = craft(tmp_path / "model.skops", search)
    with pytest.raises(InvalidValueError, match="the one attribute _estimator"):
        _load(path)


def test_a_passthrough_scorer_estimator_must_be_an_object(tmp_path):
    search = _search().fit(X, y)
    search.scorer_._estimator = 3
    path = craft(tmp_path / "model.skops", search)
    with pytest.raises(
        InvalidValueError,
        match=r"must be an estimator; got .a builtins.str as _estimator",
    ):
        _load(path)


def test_a_scorer_of_a_metric_function_needs_the_callers_trust(tmp_path):
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(
        LogisticRegression(max_iter=1000), {"C": [0.1, 1.0]}, cv=3, scoring="f1_macro"
    ).fit(X, y)
    with pytest.raises(UntrustedModelError, match="_Scorer"):
        _load(craft(tmp_path / "model.skops", search))
