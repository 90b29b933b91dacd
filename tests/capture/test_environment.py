"""Environment capture: Python version, model requirements, installed packages."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
import types

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from mltrail.capture import (
    _environment,
    distribution_of_module,
    installed_packages,
    pinned_requirement,
    python_version,
    requirements_for,
)

X, y = load_iris(return_X_y=True)


class LocalScaler(StandardScaler):  # type: ignore[misc]  # sklearn is untyped
    """A class from this test module: local code, installed by no distribution."""


def _pin(name: str) -> str:
    return f"{name}=={importlib.metadata.version(name)}"


def test_python_version_is_the_running_one():
    assert python_version() == platform.python_version()


def test_requirements_pin_the_installed_versions():
    requirements = requirements_for(LogisticRegression())
    assert requirements == sorted(requirements, key=str.lower)
    assert not any(line.startswith("mltrail") for line in requirements)
    for name in ("numpy", "scikit-learn", "scipy", "skops"):
        assert _pin(name) in requirements
    assert not any(
        line.startswith(("pandas==", "cloudpickle==")) for line in requirements
    )


@pytest.mark.parametrize(
    ("serialization_format", "present", "absent"),
    [
        ("skops", "skops", "cloudpickle"),
        ("cloudpickle", "cloudpickle", "skops"),
        ("pickle", None, "skops"),
    ],
    ids=["skops", "cloudpickle", "pickle"],
)
def test_format_package_is_required(serialization_format, present, absent):
    requirements = requirements_for(
        LogisticRegression(), serialization_format=serialization_format
    )
    names = {line.partition("==")[0] for line in requirements}
    assert present is None or present in names
    assert absent not in names


def test_pandas_is_required_for_dataframes():
    assert _pin("pandas") in requirements_for(LogisticRegression(), is_pandas=True)


def test_extra_distributions_are_pinned_and_absent_ones_skipped():
    requirements = requirements_for(
        LogisticRegression(), extra=["PyYAML", "no-such-distribution-here"]
    )
    assert _pin("PyYAML") in requirements
    assert not any(line.startswith("no-such") for line in requirements)


def test_local_class_maps_to_no_distribution():
    pipeline = make_pipeline(LocalScaler(), LogisticRegression()).fit(X, y)
    assert distribution_of_module(type(pipeline.steps[0][1]).__module__) is None
    names = {line.partition("==")[0] for line in requirements_for(pipeline)}
    assert names == {"numpy", "scikit-learn", "scipy", "skops"}


def test_third_party_distribution_is_found_inside_a_pipeline():
    import yaml

    transformer = FunctionTransformer(func=yaml.safe_dump)  # a function from PyYAML
    requirements = requirements_for(make_pipeline(transformer, LogisticRegression()))
    assert _pin("PyYAML") in requirements


@pytest.mark.parametrize(
    "estimator",
    [
        GridSearchCV(
            make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()), {}
        ),
        StackingClassifier([("lr", LogisticRegression(max_iter=1000))]),
        ColumnTransformer([("scale", StandardScaler(), [0])]),
        GradientBoostingClassifier(n_estimators=2),
    ],
    ids=["search", "stacking", "column-transformer", "boosting"],
)
def test_nested_estimators_are_walked(estimator):
    fitted = estimator.fit(X, y)
    modules = _environment._estimator_modules(fitted)
    assert type(fitted).__module__ in modules
    assert any(
        module.startswith("sklearn.") and module != type(fitted).__module__
        for module in modules
    )


def test_walk_finds_estimators_in_object_arrays():
    boosting = GradientBoostingClassifier(n_estimators=2).fit(X, y)
    assert "sklearn.tree._classes" in _environment._estimator_modules(boosting)


def test_walk_survives_cycles():
    scaler = StandardScaler()
    scaler.myself = scaler  # a cycle on purpose
    assert "sklearn.preprocessing._data" in _environment._estimator_modules(scaler)


def test_walk_records_classes_passed_as_parameters():
    modules = _environment._estimator_modules({"kind": LocalScaler})
    assert __name__ in modules


def test_walk_uses_get_params_without_dict():
    class Slotted:
        __slots__ = ()

        def get_params(self, deep=False):
            return {"inner": LogisticRegression()}

    modules = _environment._estimator_modules(Slotted())
    assert "sklearn.linear_model._logistic" in modules


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("sklearn.linear_model", "scikit-learn"),
        ("numpy.linalg", "numpy"),
        ("skops.io", "skops"),
        ("yaml", "PyYAML"),
        ("json", None),
        ("__main__", None),
        ("", None),
    ],
    ids=["sklearn", "numpy", "same-name", "other-name", "stdlib", "main", "empty"],
)
def test_distribution_of_module(module, expected):
    assert distribution_of_module(module) == expected


def test_unimported_module_uses_the_full_map(monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)
    _environment._distribution_of_top.cache_clear()
    try:
        assert distribution_of_module("yaml") == "PyYAML"
    finally:
        _environment._distribution_of_top.cache_clear()


def test_module_without_file_has_no_distribution(monkeypatch):
    monkeypatch.setitem(sys.modules, "fakepkg", types.ModuleType("fakepkg"))
    _environment._distribution_of_top.cache_clear()
    try:
        assert distribution_of_module("fakepkg.sub") is None
    finally:
        _environment._distribution_of_top.cache_clear()


def test_distribution_named_like_module_must_provide_it():
    # The "pytest" distribution installs "pytest" and "_pytest"; "py" is its own.
    assert distribution_of_module("_pytest.python") == "pytest"


def test_pinned_requirement_drops_local_version(monkeypatch):
    monkeypatch.setattr(_environment, "_installed_version", lambda name: "2.1.0+cu118")
    assert pinned_requirement("torch") == "torch==2.1.0"


def test_installed_packages_lists_every_distribution_sorted():
    packages = installed_packages()
    names_in_order = [line.partition("==")[0].lower() for line in packages]
    assert names_in_order == sorted(names_in_order)
    assert _pin("numpy") in packages
    assert len(packages) == len({line.partition("==")[0].lower() for line in packages})
    names = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert {line.partition("==")[0].lower() for line in packages} == names


def test_installed_packages_returns_a_fresh_list():
    installed_packages().clear()
    assert installed_packages()


def test_installed_packages_match_the_full_metadata_of_each_distribution():
    full: dict[str, str] = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"]
        full.setdefault(name.lower(), f"{name}=={distribution.version}")
    _environment._installed_packages.cache_clear()
    assert installed_packages() == [full[key] for key in sorted(full)]


def test_installed_version_is_importlib_metadata_s_for_every_distribution():
    names = {dist.metadata["Name"] for dist in importlib.metadata.distributions()}
    assert len(names) > 50
    _environment._installed_version.cache_clear()
    for name in sorted(names):
        assert _environment._installed_version(name) == importlib.metadata.version(
            name
        ), name
    assert _environment._installed_version("no-such-distribution-here") is None


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_name_and_version_come_from_the_headers_not_the_description(tmp_path, newline):
    info = tmp_path / "fake_dist-1.0.dist-info"
    info.mkdir()
    lines = [
        "Metadata-Version: 2.1",
        "Name: fake-dist",
        "Version: 1.0.post2",
        "",
        "Name: not-this-one",
        "Version: 9.9",
    ]
    (info / "METADATA").write_bytes(newline.join(lines).encode())
    distribution = importlib.metadata.PathDistribution(info)
    assert _environment._name_and_version(distribution) == ("fake-dist", "1.0.post2")


def test_name_and_version_fall_back_to_pkg_info_and_to_none(tmp_path):
    egg = tmp_path / "old.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: old\nVersion: 0.1\n")
    read = _environment._name_and_version
    assert read(importlib.metadata.PathDistribution(egg)) == ("old", "0.1")
    empty = tmp_path / "empty.dist-info"
    empty.mkdir()
    assert read(importlib.metadata.PathDistribution(empty)) == (None, None)
