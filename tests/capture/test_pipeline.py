from __future__ import annotations

import json
import re
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, StackingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC

from mltrail.capture import _pipeline
from mltrail.capture._pipeline import (
    estimator_html,
    pipeline_structure,
    pipeline_summary,
)


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    """Mixed-type columns: numbers with a gap, a string, a category, an extra."""
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.normal(50, 10, n),
            "city": rng.choice(["paris", "oslo", "rome"], n),
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n)),
            "id": np.arange(n),
        }
    )
    X.loc[3, "age"] = np.nan
    y = (X["income"] > 50).to_numpy().astype(int)
    return X, y


@pytest.fixture
def model() -> Pipeline:
    columns = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(), StandardScaler()),
                ["age", "income"],
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore"), [2, 3]),
        ]
    )
    return Pipeline(
        [("prep", columns), ("clf", LogisticRegression(C=0.1, max_iter=500))]
    )


def structure(estimator: object) -> Any:
    """The tree, typed loosely so tests can index into it."""
    return pipeline_structure(estimator)


def child(node: Any, name: str) -> Any:
    matches = [c for c in node["children"] if c["name"] == name]
    assert len(matches) == 1
    return matches[0]


def test_unfitted_pipeline_structure(model: Pipeline) -> None:
    tree = structure(model)
    assert tree["class"] == "sklearn.pipeline.Pipeline"
    assert (tree["name"], tree["params"], tree["input_columns"]) == (None, {}, None)
    prep = child(tree, "prep")
    assert prep["class"] == "sklearn.compose.ColumnTransformer"
    assert child(prep, "num")["input_columns"] == ["age", "income"]
    assert child(prep, "cat")["input_columns"] == ["2", "3"]
    assert child(prep, "cat")["output_features"] is None
    assert child(tree, "clf")["params"] == {"C": 0.1, "max_iter": 500}
    json.dumps(tree, allow_nan=False)


def test_fitted_pipeline_structure(
    model: Pipeline, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    model.fit(*data)
    tree = structure(model)
    assert tree["input_columns"] == ["age", "income", "city", "plan", "id"]
    prep = child(tree, "prep")
    cat = child(prep, "cat")
    assert cat["input_columns"] == ["city", "plan"]
    assert cat["output_features"] == [
        "city_oslo",
        "city_paris",
        "city_rome",
        "plan_basic",
        "plan_pro",
    ]
    assert cat["params"] == {"handle_unknown": "ignore"}
    num = child(prep, "num")
    assert [c["class"] for c in num["children"]] == [
        "sklearn.impute.SimpleImputer",
        "sklearn.preprocessing.StandardScaler",
    ]
    assert num["children"][1]["input_columns"] == ["age", "income"]
    remainder = child(prep, "remainder")
    assert (remainder["class"], remainder["input_columns"]) == ("drop", ["id"])
    clf = child(tree, "clf")
    assert clf["input_columns"] == prep["output_features"]
    assert clf["input_columns"][:2] == ["num__age", "num__income"]
    assert clf["output_features"] is None


def test_column_specs_by_slice_mask_and_selector(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = data
    columns = ColumnTransformer(
        [
            ("first", StandardScaler(), slice(0, 2)),
            ("mask", "passthrough", [False, False, False, False, True]),
            ("strings", OneHotEncoder(), make_column_selector(dtype_include="str")),
        ],
        remainder="passthrough",
    )
    unfitted = structure(columns)
    assert child(unfitted, "first")["input_columns"] is None
    assert child(unfitted, "mask")["input_columns"] == ["4"]
    assert child(unfitted, "strings")["input_columns"] == ["<make_column_selector>"]
    columns.fit(X.fillna(0), y)
    fitted = structure(columns)
    assert child(fitted, "first")["input_columns"] == ["age", "income"]
    mask = child(fitted, "mask")
    # fitting swaps "passthrough" for an identity FunctionTransformer
    assert (mask["class"], mask["input_columns"], mask["output_features"]) == (
        "sklearn.preprocessing.FunctionTransformer",
        ["id"],
        ["id"],
    )
    assert child(fitted, "strings")["input_columns"] == ["city"]
    assert child(fitted, "remainder")["input_columns"] == ["plan"]


def test_numpy_fitted_column_transformer_keeps_indices() -> None:
    X = np.arange(12.0).reshape(4, 3)
    columns = ColumnTransformer([("s", StandardScaler(), [0, 2])]).fit(X)
    assert child(structure(columns), "s")["input_columns"] == ["0", "2"]


def test_feature_union(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    numbers = X[["income", "id"]]
    union = FeatureUnion([("pca", PCA(n_components=1)), ("scale", StandardScaler())])
    model = make_pipeline(union, LogisticRegression()).fit(numbers, y)
    tree = structure(model)
    node = child(tree, "featureunion")
    assert [c["name"] for c in node["children"]] == ["pca", "scale"]
    assert child(node, "pca")["params"] == {"n_components": 1}
    assert node["output_features"] == ["pca__pca0", "scale__income", "scale__id"]
    assert (
        pipeline_summary(model)
        == "FeatureUnion(PCA, StandardScaler) → LogisticRegression"
    )


def test_grid_search_has_estimator_and_best_estimator(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = data
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SVC()), {"svc__C": [0.5]}, cv=2
    )
    unfitted = structure(search)
    assert [c["name"] for c in unfitted["children"]] == ["estimator"]
    assert unfitted["params"] == {
        "estimator": "Pipeline",
        "param_grid": {"svc__C": [0.5]},
        "cv": 2,
    }
    search.fit(X[["income", "id"]], y)
    fitted = structure(search)
    best = child(fitted, "best_estimator_")
    assert best["children"][1]["params"] == {"C": 0.5}
    assert best["input_columns"] == ["income", "id"]
    assert pipeline_summary(search) == "GridSearchCV(StandardScaler → SVC)"


def test_stacking_classifier() -> None:
    stack = StackingClassifier(
        [("forest", RandomForestClassifier(n_estimators=5)), ("svc", SVC())],
        final_estimator=LogisticRegression(C=2.0),
    )
    tree = structure(stack)
    assert [c["name"] for c in tree["children"]] == ["forest", "svc", "final_estimator"]
    assert child(tree, "forest")["params"] == {"n_estimators": 5}
    assert child(tree, "final_estimator")["params"] == {"C": 2.0}
    assert "estimators" not in tree["params"]
    assert tree["params"]["final_estimator"] == "LogisticRegression"
    assert (
        pipeline_summary(stack)
        == "StackingClassifier(RandomForestClassifier, SVC, LogisticRegression)"
    )


def test_meta_estimator_and_plain_estimator_summaries() -> None:
    assert pipeline_summary(OneVsRestClassifier(SVC())) == "OneVsRestClassifier(SVC)"
    assert pipeline_summary(LogisticRegression()) == "LogisticRegression"


def test_summary_of_column_transformer_pipeline(model: Pipeline) -> None:
    assert pipeline_summary(model) == (
        "ColumnTransformer(SimpleImputer → StandardScaler, OneHotEncoder)"
        " → LogisticRegression"
    )


def test_summary_skips_dropped_parts() -> None:
    columns = ColumnTransformer(
        [("a", StandardScaler(), [0]), ("b", "drop", [1]), ("c", "passthrough", [2])]
    )
    union = FeatureUnion([("p", PCA()), ("d", "drop")])
    model = Pipeline(
        [("cols", columns), ("union", union), ("skip", None), ("lr", SVC())]
    )
    assert pipeline_summary(model) == (
        "ColumnTransformer(StandardScaler, passthrough) → FeatureUnion(PCA) → SVC"
    )


def test_long_summary_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pipeline, "MAX_SUMMARY_LENGTH", 10)
    assert pipeline_summary(make_pipeline(StandardScaler(), SVC())) == "StandardS…"


def test_none_step_node() -> None:
    tree = structure(Pipeline([("skip", None), ("svc", SVC())]))
    assert tree["children"][0]["class"] == "None"


class Odd(BaseEstimator):  # type: ignore[misc]  # sklearn has no type hints
    """An estimator with unusual params, as third-party ones have."""

    def __init__(
        self,
        weights: Any = None,
        threshold: float = float("nan"),
        factory: Any = dict,
        label: str = "a",
        table: Any = None,
        values: Any = (1, 2),
        long_text: Any = None,
    ) -> None:
        self.weights = weights
        self.threshold = threshold
        self.factory = factory
        self.label = label
        self.table = table
        self.values = values
        self.long_text = long_text


def test_params_compare_with_nan_arrays_and_types() -> None:
    assert structure(Odd())["params"] == {}
    odd = Odd(
        weights=np.array([1.0, 2.0]),
        threshold=float("inf"),
        factory=list,
        table={"k": [1, 2]},
        values=(1, 2),
        long_text=np.arange(500),
    )
    params = structure(odd)["params"]
    assert params["threshold"] == "inf"
    assert params["factory"] == "list"
    assert params["table"] == {"k": [1, 2]}
    assert params["weights"] == "array([1., 2.])"
    assert len(params["long_text"]) == _pipeline.MAX_VALUE_LENGTH
    assert params["long_text"].endswith("…")
    assert "values" not in params
    json.dumps(params, allow_nan=False)


def test_param_equal_to_default_by_value() -> None:
    assert structure(Odd(threshold=float("nan"), label="a"))["params"] == {}
    assert structure(Odd(label="b"))["params"] == {"label": "b"}
    assert structure(Odd(threshold=0.5))["params"] == {"threshold": 0.5}


class Broken(BaseEstimator):  # type: ignore[misc]  # sklearn has no type hints
    """Its get_params fails and its feature names are wrong-typed."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        raise TypeError("broken")

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        raise ValueError("not fitted")


def test_broken_estimator_is_described_without_failing() -> None:
    tree = structure(Broken())
    assert (tree["params"], tree["output_features"], tree["children"]) == ({}, None, [])
    assert pipeline_summary(Broken()) == "Broken"


def test_feature_names_retry_without_inputs(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, _ = data
    scaler = StandardScaler().fit(X[["age", "income"]].to_numpy())
    assert _pipeline._output_names(scaler, ["not", "these", "three"]) == ["x0", "x1"]


def test_wide_names_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pipeline, "MAX_NAMES", 2)
    scaler = StandardScaler().fit(pd.DataFrame(np.ones((2, 5)), columns=list("abcde")))
    tree = structure(scaler)
    assert (tree["input_columns"], tree["output_features"]) == (["a", "b"], ["a", "b"])


def test_class_path_of_a_class_outside_public_modules() -> None:
    assert structure(Odd())["class"] == f"{__name__}.Odd"


def test_estimator_html_is_a_page(model: Pipeline) -> None:
    page = estimator_html(model)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Pipeline</title>" in page
    assert "OneHotEncoder" in page
    assert page.rstrip().endswith("</html>")


def fitted_tables(page: str) -> list[list[str]]:
    """The attribute names of each "Fitted attributes" table of a diagram."""
    tables = re.findall(
        r"<summary>Fitted attributes</summary>(.*?)</table>", page, re.S
    )
    return [re.findall(r'<td class="param">\s*<a[^>]*>\s*([^\s<]+)', t) for t in tables]


def stored_fitted(estimator: object) -> list[str]:
    return sorted(
        name
        for name in vars(estimator)
        if name.endswith("_") and not name.startswith("_")
    )


PROPERTY_READS: list[str] = []


class Probe(BaseEstimator):  # type: ignore[misc]  # sklearn has no type hints
    """An estimator with a fitted property that records each evaluation."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X: Any, y: Any = None) -> Probe:
        self.coef_ = np.arange(3.0)
        self.n_iter_ = 4
        self._private_ = 1
        return self

    @property
    def costly_(self) -> int:
        PROPERTY_READS.append("costly_")
        return 0


class Wide(BaseEstimator):  # type: ignore[misc]  # sklearn has no type hints
    """An estimator that stores more fitted attributes than a table shows."""

    def fit(self, X: Any, y: Any = None) -> Wide:
        for index in range(150):
            setattr(self, f"a{index:03d}_", index)
        return self


def test_estimator_html_lists_stored_attributes_without_properties() -> None:
    PROPERTY_READS.clear()
    model = make_pipeline(StandardScaler(), Probe()).fit(np.ones((4, 3)))
    page = estimator_html(model)
    assert PROPERTY_READS == []
    assert fitted_tables(page) == [
        stored_fitted(model[0]),
        ["coef_", "n_iter_"],
    ]
    assert "<span>Fitted</span>" in page
    assert 'class="sk-estimator fitted' in page


def test_estimator_html_of_a_forest_shows_its_stored_attributes() -> None:
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 2
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    page = estimator_html(forest)
    assert fitted_tables(page) == [stored_fitted(forest)]
    assert "estimators_" in fitted_tables(page)[0]
    assert "feature_importances_" not in page


def test_estimator_html_of_a_fitted_search_over_a_pipeline(
    data: tuple[pd.DataFrame, np.ndarray],
    model: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = data
    search = GridSearchCV(model, {"clf__C": [0.1, 1.0]}, cv=2).fit(X, y)
    entered: list[object] = []
    real = warnings.catch_warnings

    def spy(*args: Any, **kwargs: Any) -> Any:
        entered.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(warnings, "catch_warnings", spy)
    page = estimator_html(search)
    monkeypatch.undo()
    assert entered == []
    best = search.best_estimator_
    columns = best.named_steps["prep"]
    tables = fitted_tables(page)
    for part in (
        search,
        columns,
        columns.named_transformers_["num"][0],
        columns.named_transformers_["cat"],
        best.named_steps["clf"],
    ):
        assert stored_fitted(part) in tables
    assert page.count("<span>Fitted</span>") == 1


def test_estimator_html_leaves_the_estimator_unchanged(
    data: tuple[pd.DataFrame, np.ndarray], model: Pipeline
) -> None:
    model.fit(*data)
    parts = [model, *model.named_steps.values()]
    columns = model.named_steps["prep"]
    parts += [columns.named_transformers_["cat"], *columns.named_transformers_["num"]]
    before = [dict(vars(part)) for part in parts]
    estimator_html(model)
    assert [vars(part) for part in parts] == before


def test_estimator_html_caps_the_fitted_attributes() -> None:
    (names,) = fitted_tables(estimator_html(Wide().fit(None)))
    assert names == [f"a{index:03d}_" for index in range(101)] + ["..."]


def test_estimator_html_of_an_unfitted_pipeline(model: Pipeline) -> None:
    page = estimator_html(model)
    assert "<span>Not fitted</span>" in page
    assert fitted_tables(page) == []


def test_estimator_html_falls_back_without_the_private_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forest = RandomForestClassifier(n_estimators=2, random_state=0)
    forest.fit(np.arange(8.0).reshape(4, 2), [0, 1, 0, 1])
    monkeypatch.setitem(sys.modules, "sklearn.utils._repr_html.fitted_attributes", None)
    page = estimator_html(forest)
    assert "feature_importances_" in fitted_tables(page)[0]


def test_estimator_html_of_a_scikit_learn_without_fitted_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(BaseEstimator, "_get_fitted_attr_html")
    page = estimator_html(Probe().fit(None))
    assert "<span>Fitted</span>" in page
    assert fitted_tables(page) == []


def test_estimator_html_falls_back_when_the_table_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("AttrsDict changed")

    monkeypatch.setattr(_pipeline, "_stored_attributes", broken)
    PROPERTY_READS.clear()
    page = estimator_html(Probe().fit(None))
    assert "costly_" in PROPERTY_READS
    assert fitted_tables(page) == [["coef_", "costly_", "n_iter_"]]


def test_column_specs_as_name_index_array_and_unknown() -> None:
    columns = ColumnTransformer(
        [
            ("name", OneHotEncoder(), "city"),
            ("index", StandardScaler(), 1),
            ("array", StandardScaler(), np.array([0, 4])),
            ("odd", StandardScaler(), frozenset({"a"})),
        ]
    )
    tree = structure(columns)
    assert [c["input_columns"] for c in tree["children"]] == [
        ["city"],
        ["1"],
        ["0", "4"],
        None,
    ]


class Ensemble(BaseEstimator):  # type: ignore[misc]  # sklearn has no type hints
    """A third-party meta-estimator whose list holds bare estimators."""

    def __init__(self, estimators: Any = None) -> None:
        self.estimators = estimators


def test_bare_estimators_in_a_list() -> None:
    tree = structure(Ensemble([SVC(), PCA()]))
    assert [c["class"] for c in tree["children"]] == [
        "sklearn.svm.SVC",
        "sklearn.decomposition.PCA",
    ]
    assert pipeline_summary(Ensemble([SVC(), PCA()])) == "Ensemble(SVC, PCA)"


class Unequal:
    """A value whose == raises, as some array-likes do."""

    def __eq__(self, other: object) -> bool:
        raise TypeError("no ==")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Unequal()"


UNEQUAL = Unequal()


class WithCustomDefault(BaseEstimator):  # type: ignore[misc]  # sklearn has no type hints
    def __init__(self, value: Any = UNEQUAL) -> None:
        self.value = value


def test_params_whose_equality_raises_compare_by_repr() -> None:
    assert structure(WithCustomDefault(Unequal()))["params"] == {}


def test_class_in_a_private_top_level_module() -> None:
    hidden = type("Hidden", (Odd,), {"__module__": "_hidden.models"})
    assert structure(hidden())["class"] == "_hidden.models.Hidden"


def test_a_class_instead_of_an_estimator() -> None:
    assert structure(Ensemble([SVC]))["children"] == []
    assert _pipeline._params(SVC) == {}
