"""``mltrail.pyfunc.load_model``: loading, enforcement, and models MLflow wrote."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.dummy import DummyClassifier
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
    assert model.metadata.flavors["sklearn"]["serialization_format"] == "skops"
    assert model.metadata.signature is not None
    assert model.model_uri == str(saved)


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
        forest, tmp_path / "m", pyfunc_predict_fn="predict_proba"
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
    assert not hasattr(model.metadata, "mltrail_version")  # written by MLflow
    assert model.metadata.mlflow_version == mlflow.__version__
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


INPUTS = {
    "records": lambda frame: frame.to_dict("records"),
    "dict of columns": lambda frame: frame.to_dict("list"),
    "rows": lambda frame: frame.to_numpy().tolist(),
    "array": lambda frame: frame.to_numpy(),
}


@pytest.mark.parametrize("convert", INPUTS.values(), ids=INPUTS.keys())
def test_predict_takes_what_mlflow_pyfunc_takes(saved, forest, convert):
    model = mltrail.pyfunc.load_model(saved)
    np.testing.assert_array_equal(
        model.predict(convert(X.iloc[:7])), forest.predict(X.iloc[:7])
    )


def test_a_dict_of_scalars_is_one_row(saved, forest):
    model = mltrail.pyfunc.load_model(saved)
    row = X.iloc[0].to_dict()
    np.testing.assert_array_equal(model.predict(row), forest.predict(X.iloc[:1]))


@pytest.mark.mlflow
def test_records_predict_as_in_mlflow(saved):
    mlflow = import_mlflow()
    records = X.iloc[:7].to_dict("records")
    np.testing.assert_array_equal(
        mltrail.pyfunc.load_model(saved).predict(records),
        mlflow.pyfunc.load_model(str(saved)).predict(records),
    )


DOCUMENTS = ["good movie", "bad film", "great acting", "awful plot"] * 5
SENTIMENT = [1, 0, 1, 0] * 5


@pytest.fixture(scope="module")
def text_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
        DOCUMENTS, SENTIMENT
    )


TEXT_EXAMPLES = {
    "list": lambda: DOCUMENTS,
    "named series": lambda: pd.Series(DOCUMENTS, name="review"),
    "one-column frame": lambda: pd.DataFrame({"review": DOCUMENTS}),
}
TEXT_INPUTS = {
    "list": lambda docs: docs,
    "series": lambda docs: pd.Series(docs),
    "array": lambda docs: np.array(docs),
    "frame": lambda docs: pd.DataFrame({"review": docs}),
    "records": lambda docs: [{"review": doc} for doc in docs],
}


@pytest.mark.parametrize("example", TEXT_EXAMPLES.values(), ids=TEXT_EXAMPLES.keys())
@pytest.mark.parametrize("convert", TEXT_INPUTS.values(), ids=TEXT_INPUTS.keys())
def test_text_pipeline_predicts_one_row_per_document(
    tmp_path, text_pipeline, example, convert
):
    mltrail.sklearn.save_model(text_pipeline, tmp_path / "m", input_example=example())
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    documents = DOCUMENTS[:6]
    np.testing.assert_array_equal(
        model.predict(convert(documents)), text_pipeline.predict(documents)
    )


def test_a_one_column_model_with_two_d_input_keeps_its_frame(tmp_path):
    frame = X[["proline"]]
    estimator = LogisticRegression(max_iter=1000).fit(frame, y)
    mltrail.sklearn.save_model(estimator, tmp_path / "m", input_example=frame)
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(model.predict(frame), estimator.predict(frame))


class Collapsing(DummyClassifier):  # type: ignore[misc]  # sklearn is untyped
    """Predicts one value whatever it is given: the bug a wrong input shape causes."""

    def predict(self, X):
        return np.zeros(1)


def test_a_model_returning_fewer_rows_fails_loudly(tmp_path):
    estimator = Collapsing().fit(X, y)
    mltrail.sklearn.save_model(estimator, tmp_path / "m", serialization_format="pickle")
    model = mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)
    with pytest.raises(InvalidValueError, match="1 rows for 10 input rows"):
        model.predict(X.iloc[:10])


def test_multi_output_probabilities_are_one_array_per_output(tmp_path):
    targets = np.c_[y, y % 2]
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, targets)
    mltrail.sklearn.save_model(
        forest, tmp_path / "m", pyfunc_predict_fn="predict_proba"
    )
    predicted = mltrail.pyfunc.load_model(tmp_path / "m").predict(X)
    assert [p.shape for p in predicted] == [(len(X), 3), (len(X), 2)]


def test_params_are_refused(saved):
    model = mltrail.pyfunc.load_model(saved)
    assert len(model.predict(X.iloc[:2], params={})) == 2
    with pytest.raises(InvalidValueError, match="take no inference parameters"):
        model.predict(X.iloc[:2], params={"threshold": 0.5})


BROKEN_MLMODELS = {
    "not yaml": ("flavors: [unclosed\n", "not YAML"),
    "a list": ("- a\n- b\n", "'flavors' mapping"),
    "flavor not a mapping": ("flavors:\n  sklearn: [1, 2]\n", "mapping of mappings"),
    "signature not json": (
        "flavors:\n  sklearn: {}\nsignature:\n  inputs: 'not json'\n",
        "schema JSON",
    ),
    "tensor shape not integers": (
        "flavors:\n  sklearn: {}\nsignature:\n  inputs: "
        """'[{"type": "tensor", "tensor-spec": """
        """{"dtype": "float64", "shape": "x"}}]'\n""",
        "a 'shape' list of integers",
    ),
}


@pytest.mark.parametrize(
    ("text", "message"), BROKEN_MLMODELS.values(), ids=BROKEN_MLMODELS.keys()
)
def test_broken_mlmodel_gets_a_clear_error(tmp_path, text, message):
    (tmp_path / "MLmodel").write_text(text)
    with pytest.raises(InvalidValueError, match=message):
        mltrail.pyfunc.load_model(tmp_path)


def test_mlmodel_that_is_not_utf8_gets_a_clear_error(tmp_path):
    (tmp_path / "MLmodel").write_bytes(b"flavors: \xff\xfe\n")
    with pytest.raises(InvalidValueError, match="UTF-8 text"):
        mltrail.pyfunc.load_model(tmp_path)


def test_unreadable_mlmodel_gets_a_clear_error(tmp_path, saved, monkeypatch):
    from pathlib import Path

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(InvalidValueError, match="Permission denied"):
        mltrail.pyfunc.load_model(saved)


@pytest.mark.parametrize("model_uri", [None, 5, "", b"model"], ids=repr)
def test_model_uri_must_be_text_or_a_path(model_uri):
    with pytest.raises(InvalidValueError, match="model_uri must be a non-empty str"):
        mltrail.pyfunc.load_model(model_uri)


def test_truncated_pickle_gets_a_clear_error(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m", serialization_format="pickle")
    model_file = tmp_path / "m" / "model.pkl"
    model_file.write_bytes(model_file.read_bytes()[:100])
    with pytest.raises(InvalidValueError, match="pickle file that loads"):
        mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)


def test_pickle_of_a_missing_module_names_it(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m", serialization_format="pickle")
    model_file = tmp_path / "m" / "model.pkl"
    model_file.write_bytes(
        model_file.read_bytes().replace(b"sklearn.ensemble", b"sklearn.nowhere_")
    )
    with pytest.raises(InvalidValueError, match=r"installed; got 'sklearn\.nowhere_"):
        mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)


def test_rows_of_a_plain_list_are_counted(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m")  # no signature: data as given
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    rows = X.iloc[:3].to_numpy().tolist()
    with pytest.warns(UserWarning, match="feature names"):
        assert len(model.predict(rows)) == 3
