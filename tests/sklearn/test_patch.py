"""Tests of the patching machinery: coverage, hooks, and exact restoration."""

from __future__ import annotations

import importlib
from typing import Any

import joblib  # type: ignore[import-untyped]  # no type hints
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from sklearn.utils import all_estimators

from mltrail.sklearn import autolog
from mltrail.sklearn.patches import _patch

VALIDATION = importlib.import_module(_patch.VALIDATION_MODULE)


def _defining_class(cls: type, name: str) -> type | None:
    owner = next((c for c in cls.__mro__ if name in c.__dict__), None)
    return None if owner is object else owner


def _estimator_classes() -> list[type]:
    """Every class under BaseEstimator, after importing all of scikit-learn."""
    all_estimators()
    found: list[type] = []
    stack: list[type] = [BaseEstimator]
    while stack:
        cls = stack.pop()
        if cls not in found:
            found.append(cls)
            stack.extend(type.__subclasses__(cls))
    return found


def _snapshot() -> dict[tuple[Any, str], object]:
    """The current entries of every attribute that autolog could patch."""
    entries: dict[tuple[Any, str], object] = {}
    for cls in _estimator_classes():
        for owner in cls.__mro__:
            for name in _patch.FIT_METHODS:
                entries[(owner, name)] = owner.__dict__.get(name)
    entries[(BaseEstimator, "__init_subclass__")] = BaseEstimator.__dict__.get(
        "__init_subclass__"
    )
    entries[(joblib.Parallel, "__call__")] = joblib.Parallel.__dict__["__call__"]
    for name in _patch.VALIDATION_HELPERS:
        entries[(VALIDATION, name)] = VALIDATION.__dict__.get(name)
    return entries


def test_patches_fit_methods_of_every_estimator_where_defined(autolog: None) -> None:
    expected = set()
    for _, cls in all_estimators():
        for name in _patch.PATCHED_METHODS:
            owner = _defining_class(cls, name)
            # FeatureAgglomeration hides fit_predict behind a property that raises.
            if owner is not None and not isinstance(owner.__dict__[name], property):
                expected.add((owner, name))
                assert _patch.is_patched(owner.__dict__[name]), (owner, name)
    patched = {key for key in _patch.patched_entries() if isinstance(key[0], type)}
    assert expected <= patched


def test_patched_classes_are_exactly_the_estimator_classes(autolog: None) -> None:
    expected = set()
    for cls in _estimator_classes():
        for name in _patch.PATCHED_METHODS:
            owner = _defining_class(cls, name)
            if owner is not None and not isinstance(owner.__dict__[name], property):
                expected.add((owner, name))
    patched = {key for key in _patch.patched_entries() if isinstance(key[0], type)}
    assert patched == expected | {
        (BaseEstimator, "__init_subclass__"),
        (joblib.Parallel, "__call__"),
    }


def test_patches_nothing_but_fit_methods_and_hooks(autolog: None) -> None:
    all_estimators()
    names = {name for _, name in _patch.patched_entries()}
    assert names == {*_patch.PATCHED_METHODS, "__init_subclass__", "__call__"} | set(
        _patch.VALIDATION_HELPERS
    )


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("sklearn.pipeline", "Pipeline"),
        ("sklearn.compose", "ColumnTransformer"),
        ("sklearn.model_selection", "GridSearchCV"),
        ("sklearn.model_selection", "RandomizedSearchCV"),
        ("sklearn.ensemble", "StackingClassifier"),
        ("sklearn.ensemble", "VotingRegressor"),
        ("sklearn.cluster", "KMeans"),
    ],
    ids=lambda value: value.rpartition(".")[2],
)
def test_patches_meta_estimators_and_clusterers(
    autolog: None, module: str, name: str
) -> None:
    cls = getattr(importlib.import_module(module), name)
    owner = _defining_class(cls, "fit")
    assert owner is not None
    assert _patch.is_patched(owner.__dict__["fit"])


def test_patches_halving_searches_imported_after_autolog(autolog: None) -> None:
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    owner = _defining_class(HalvingGridSearchCV, "fit")
    assert owner is not None
    assert _patch.is_patched(owner.__dict__["fit"])


def test_patches_class_defined_after_autolog(autolog: None) -> None:
    class Later(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
        def fit(self, X: Any, y: Any) -> Later:
            return self

    assert _patch.is_patched(Later.__dict__["fit"])


def test_subclass_hook_keeps_metadata_routing_methods(autolog: None) -> None:
    class Weighted(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Weighted:
            return self

    assert hasattr(Weighted, "set_fit_request")


def test_patches_available_if_descriptor_on_a_copy() -> None:
    original = Pipeline.__dict__["fit_transform"]
    original_function = original.fn
    autolog()
    try:
        patched = Pipeline.__dict__["fit_transform"]
        assert patched is not original
        assert _patch.is_patched(patched)
        assert original.fn is original_function
    finally:
        autolog(disable=True)


def test_disable_restores_every_entry_exactly() -> None:
    before = _snapshot()
    autolog()
    all_estimators()
    assert _snapshot() != before
    autolog(disable=True)
    after = _snapshot()
    assert after.keys() == before.keys()
    changed = [key for key, value in before.items() if after[key] is not value]
    assert changed == []


def test_disable_unpatches_classes_defined_while_enabled() -> None:
    autolog()

    class During(BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
        def fit(self, X: Any) -> During:
            return self

    original = _patch.patched_entries()[(During, "fit")]
    autolog(disable=True)
    assert During.__dict__["fit"] is original


def test_second_autolog_call_keeps_the_first_patches() -> None:
    autolog()
    try:
        first = Pipeline.__dict__["fit"]
        autolog(log_models=False)
        assert Pipeline.__dict__["fit"] is first
    finally:
        autolog(disable=True)


def test_disable_leaves_entries_replaced_by_someone_else() -> None:
    class Replaced(BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
        def fit(self, X: Any) -> Replaced:
            return self

    autolog()

    def other_fit(self: Any, X: Any) -> Any:
        return self

    Replaced.fit = other_fit  # type: ignore[method-assign]  # what another tool does
    autolog(disable=True)
    assert Replaced.__dict__["fit"] is other_fit


def test_disable_without_enable_changes_nothing() -> None:
    before = _snapshot()
    autolog(disable=True)
    assert _snapshot() == before


def test_subclass_hook_calls_an_existing_init_subclass() -> None:
    seen: list[str] = []

    class Base(BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
        def __init_subclass__(cls, **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            seen.append(cls.__name__)

    autolog()
    try:
        _patch._install_subclass_hook(Base)

        class Child(Base):
            def fit(self, X: Any) -> Child:
                return self

        assert seen == ["Child"]
        assert _patch.is_patched(Child.__dict__["fit"])
    finally:
        autolog(disable=True)
    assert "__init_subclass__" in Base.__dict__


def test_classes_created_while_settings_are_off_stay_unpatched() -> None:
    from mltrail.sklearn.shared import _state

    autolog()
    settings, _state.settings = _state.settings, None
    try:

        class Quiet(BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
            def fit(self, X: Any) -> Quiet:
                return self

        assert not _patch.is_patched(Quiet.__dict__["fit"])
    finally:
        _state.settings = settings
        autolog(disable=True)
