"""``mltrail.pyfunc.load_model``: loading, enforcement, and models MLflow wrote."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
from mltrail._errors import InvalidValueError, MltrailWarning, NotFoundError
from mltrail.models import UntrustedModelError
from mltrail.pyfunc import PyFuncModel
from tests.models._mlflow import import_mlflow

X, y = load_wine(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def forest():
    return RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)


@pytest.fixture
def saved(tmp_path, forest):
    path = tmp_path / "model"
    mltrail.sklearn.save_model(forest, path, input_example=X)
    return path


def test_load_model_predicts_like_the_estimator(saved, forest):
    model = mltrail.pyfunc.load_model(saved)
    assert isinstance(model, PyFuncModel)
    np.testing.assert_array_equal(model.predict(X), forest.predict(X))


def test_metadata_exposes_mlmodel(saved):
    model = mltrail.pyfunc.load_model(saved)
    assert model.metadata.serialization_format == "skops"
    assert model.metadata.signature is not None
    assert model.metadata.model_uri == str(saved)


def test_get_raw_model_returns_estimator(saved):
    assert isinstance(
        mltrail.pyfunc.load_model(saved).get_raw_model(), RandomForestClassifier
    )


def test_repr_names_uri_and_estimator(saved):
    assert "RandomForestClassifier" in repr(mltrail.pyfunc.load_model(saved))


def test_predict_casts_int64_to_double(saved, forest):
    model = mltrail.pyfunc.load_model(saved)
    X_int = X.round().astype("int64")
    np.testing.assert_array_equal(
        model.predict(X_int), forest.predict(X_int.astype(float))
    )


def test_predict_reorders_columns(saved, forest):
    model = mltrail.pyfunc.load_model(saved)
    np.testing.assert_array_equal(model.predict(X[X.columns[::-1]]), forest.predict(X))


def test_predict_drops_extra_columns_with_warning(saved, forest):
    model = mltrail.pyfunc.load_model(saved)
    with pytest.warns(MltrailWarning, match="'extra'"):
        predicted = model.predict(X.assign(extra=1))
    np.testing.assert_array_equal(predicted, forest.predict(X))


def test_predict_missing_column_raises_naming_it(saved):
    model = mltrail.pyfunc.load_model(saved)
    with pytest.raises(InvalidValueError, match="Missing: 'proline'"):
        model.predict(X.drop(columns="proline"))


def test_predict_unsafe_cast_raises(saved):
    model = mltrail.pyfunc.load_model(saved)
    with pytest.raises(
        InvalidValueError, match=r"column 'alcohol'.*'double'.*got 'str'"
    ):
        model.predict(X.astype({"alcohol": "str"}))


def test_model_without_signature_passes_data_through(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m")
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(model.predict(X), forest.predict(X))


def test_predict_proba_fn_is_used(tmp_path, forest):
    mltrail.sklearn.save_model(
        forest, tmp_path / "m", input_example=X, pyfunc_predict_fn="predict_proba"
    )
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(X), forest.predict_proba(X))


def test_pickle_model_needs_trust(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m", serialization_format="pickle")
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        mltrail.pyfunc.load_model(tmp_path / "m")
    assert mltrail.pyfunc.load_model(tmp_path / "m", trusted=True) is not None


def test_missing_directory_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="No MLmodel file"):
        mltrail.pyfunc.load_model(tmp_path / "nothing")


def test_model_without_pyfunc_flavor_is_refused(tmp_path):
    scaler = StandardScaler().fit(X)
    mltrail.sklearn.save_model(scaler, tmp_path / "m")
    with pytest.raises(InvalidValueError, match=r"loader_module 'mlflow\.sklearn'"):
        mltrail.pyfunc.load_model(tmp_path / "m")


def test_model_without_sklearn_flavor_is_refused(tmp_path):
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
    )
    with pytest.raises(InvalidValueError, match="includes 'sklearn'"):
        mltrail.pyfunc.load_model(tmp_path)


@pytest.mark.parametrize(
    ("pickled_model", "match"),
    [("../outside.pkl", "inside the model directory"), ("", "the model file's name")],
    ids=["escape", "empty"],
)
def test_model_file_outside_directory_is_refused(tmp_path, pickled_model, match):
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  sklearn:\n    serialization_format: pickle\n"
        f"    pickled_model: '{pickled_model}'\n"
    )
    with pytest.raises(InvalidValueError, match=match):
        mltrail.sklearn.load_model(tmp_path, trusted=True)


def test_missing_model_file_is_not_found(tmp_path):
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  sklearn:\n    pickled_model: model.pkl\n"
    )
    with pytest.raises(NotFoundError, match=r"model\.pkl"):
        mltrail.sklearn.load_model(tmp_path, trusted=True)


# MLflow 3.17.2 compares a pandas 3 Index with a range when it saves a DataFrame
# example, which pandas deprecates; the warning is MLflow's, not ours.
MLFLOW_PANDAS_WARNING = (
    "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning"
)


@pytest.mark.mlflow
@pytest.mark.slow  # MLflow validates the example by serving it in-process
@pytest.mark.filterwarnings(MLFLOW_PANDAS_WARNING)
@pytest.mark.parametrize("serialization_format", ["skops", "cloudpickle"])
def test_loads_model_written_by_mlflow(tmp_path, serialization_format):
    mlflow = import_mlflow()

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(X, y)
    mlflow.sklearn.save_model(
        pipeline,
        tmp_path / "m",
        serialization_format=serialization_format,
        input_example=X.iloc[:5],
        pip_requirements=["scikit-learn"],
    )
    trusted = True if serialization_format == "cloudpickle" else None
    model = mltrail.pyfunc.load_model(tmp_path / "m", trusted=trusted)
    np.testing.assert_array_equal(model.predict(X), pipeline.predict(X))
    assert model.metadata.mltrail_version is None
    assert model.metadata.signature is not None


@pytest.mark.mlflow
def test_loads_mlflow_forest_without_reading_its_trusted_list(tmp_path, forest):
    mlflow = import_mlflow()

    mlflow.sklearn.save_model(
        forest,
        tmp_path / "m",
        skops_trusted_types=["sklearn.tree._tree.Tree"],
        pip_requirements=["scikit-learn"],
    )
    loaded = mltrail.sklearn.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


@pytest.mark.mlflow
@pytest.mark.slow  # MLflow validates the example by serving it in-process
def test_mlflow_numpy_signature_is_enforced(tmp_path):
    mlflow = import_mlflow()

    X_array = X.to_numpy()
    estimator = LogisticRegression(max_iter=5000).fit(X_array, y)
    mlflow.sklearn.save_model(
        estimator,
        tmp_path / "m",
        input_example=X_array[:5],
        pip_requirements=["scikit-learn"],
    )
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(model.predict(X_array), estimator.predict(X_array))
    with pytest.raises(InvalidValueError, match="input shape"):
        model.predict(X_array[:, :3])
    assert isinstance(model.predict(pd.DataFrame(X_array)), np.ndarray)


@pytest.mark.mlflow
def test_trusted_list_written_by_mlflow_is_not_used(tmp_path):
    mlflow = import_mlflow()
    from tests.models.test_serialization import Doubler

    pipeline = make_pipeline(Doubler(), StandardScaler(), LogisticRegression()).fit(
        X, y
    )
    doubler = f"{Doubler.__module__}.Doubler"
    mlflow.sklearn.save_model(
        pipeline,
        tmp_path / "m",
        skops_trusted_types=[doubler],
        pip_requirements=["scikit-learn"],
    )
    with pytest.raises(UntrustedModelError, match=re.escape(doubler)):
        mltrail.pyfunc.load_model(tmp_path / "m")
    model = mltrail.pyfunc.load_model(tmp_path / "m", trusted=[doubler])
    np.testing.assert_array_equal(model.predict(X), pipeline.predict(X))
