"""Custom ``PythonModel``s: saved as MLflow saves them, loaded only when trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.models import UntrustedModelError
from mltrail.pyfunc import PythonModel, PythonModelContext
from tests.models._mlflow import import_mlflow

X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0, 30.0]})


class Scaler(PythonModel):
    """Multiplies by a factor from model_config, plus one word count per artifact."""

    def load_context(self, context: PythonModelContext) -> None:
        self.words = Path(context.artifacts["words"]).read_text().split()
        self.factor = context.model_config.get("factor", 1)

    def predict(self, context, model_input, params=None):
        offset = (params or {}).get("offset", 0)
        return model_input * self.factor + len(self.words) + offset


class NoContext(PythonModel):
    """MLflow 3 lets predict leave out the context."""

    def predict(self, model_input, params=None):  # type: ignore[override]  # allowed
        return np.asarray(model_input).sum(axis=1)


class NoParams(PythonModel):
    def predict(self, context, model_input):  # type: ignore[override]  # on purpose
        return model_input


@pytest.fixture
def words(tmp_path: Path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text("one two three")
    return path


@pytest.fixture
def saved(tmp_path: Path, words: Path) -> Path:
    mltrail.pyfunc.save_model(
        tmp_path / "m",
        python_model=Scaler(),
        artifacts={"words": str(words)},
        model_config={"factor": 2},
        input_example=X,
    )
    return tmp_path / "m"


def test_saved_directory_is_mlflows_layout(saved):
    content = yaml.safe_load((saved / "MLmodel").read_text())
    flavor = content["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.model"
    assert flavor["python_model"] == "python_model.pkl"
    assert flavor["artifacts"]["words"]["path"] == "artifacts/words"
    assert flavor["config"] == {"factor": 2}
    assert (saved / "artifacts" / "words").read_text() == "one two three"
    assert "sklearn" not in content["flavors"]
    requirements = (saved / "requirements.txt").read_text().splitlines()
    names = {line.partition("==")[0] for line in requirements}
    assert "cloudpickle" in names
    assert "scikit-learn" not in names  # the model needs no scikit-learn


def test_loads_back_with_its_context(saved):
    model = mltrail.pyfunc.load_model(saved, trusted=True)
    expected = X * 2 + 3
    pd.testing.assert_frame_equal(model.predict(X), expected)
    pd.testing.assert_frame_equal(model.predict(X, params={"offset": 1}), expected + 1)
    assert isinstance(model.unwrap_python_model(), Scaler)
    assert model.metadata.signature is not None


def test_signature_is_enforced(saved):
    model = mltrail.pyfunc.load_model(saved, trusted=True)
    with pytest.raises(InvalidValueError, match="Missing: 'b'"):
        model.predict(X[["a"]])
    pd.testing.assert_frame_equal(model.predict(X.to_dict("records")), X * 2 + 3)


@pytest.mark.parametrize("trusted", [None, False, ["tests.Scaler"]])
def test_a_python_model_is_code_and_needs_trust(saved, trusted):
    with pytest.raises(UntrustedModelError, match="can run any code"):
        mltrail.pyfunc.load_model(saved, trusted=trusted)


def test_predict_may_leave_out_the_context(tmp_path):
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=NoContext())
    model = mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)
    assert model.predict([[1, 2], [3, 4]]).tolist() == [3, 7]


def test_params_for_a_predict_without_params_are_refused(tmp_path):
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=NoParams())
    model = mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)
    assert model.predict([1]) == [1]
    with pytest.raises(InvalidValueError, match="takes no params"):
        model.predict([1], params={"x": 1})


def test_a_function_is_a_model(tmp_path):
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=np.negative)
    model = mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)
    assert model.predict(np.array([1, 2])).tolist() == [-1, -2]


def test_something_else_is_not_a_model(tmp_path):
    with pytest.raises(InvalidValueError, match="a PythonModel subclass instance"):
        mltrail.pyfunc.save_model(tmp_path / "m", python_model=42)
    assert not (tmp_path / "m").exists()


def test_the_base_class_predict_says_what_to_do():
    with pytest.raises(NotImplementedError, match="define predict"):
        PythonModel().predict(PythonModelContext({}, {}), [1])


def test_a_folder_artifact_is_copied(tmp_path):
    folder = tmp_path / "vocabulary"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    mltrail.pyfunc.save_model(
        tmp_path / "m", python_model=NoContext(), artifacts={"vocabulary": str(folder)}
    )
    assert (tmp_path / "m" / "artifacts" / "vocabulary" / "a.txt").read_text() == "x"


def test_a_run_artifact_is_copied(tmp_path):
    with mltrail.start_run() as run:
        mltrail.log_text("one two three", "words.txt")
    mltrail.pyfunc.save_model(
        tmp_path / "m",
        python_model=Scaler(),
        artifacts={"words": f"runs:/{run.info.run_id}/words.txt"},
    )
    model = mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)
    assert model.predict(np.array([1.0])).tolist() == [4.0]


@pytest.mark.parametrize(
    ("artifacts", "error", "message"),
    [
        ({"a/b": "x"}, InvalidValueError, "artifact name"),
        ({"": "x"}, InvalidValueError, "artifact name"),
        ({"a": 5}, InvalidValueError, "a local path or a file"),
        ({"a": "s3://bucket/key"}, InvalidValueError, "a local path or a file"),
        ({"a": "file:///no/such/file"}, NotFoundError, "does not exist"),
    ],
    ids=["slash", "empty", "int", "s3", "missing"],
)
def test_bad_artifacts_are_refused(tmp_path, artifacts, error, message):
    with pytest.raises(error, match=message):
        mltrail.pyfunc.save_model(
            tmp_path / "m", python_model=NoContext(), artifacts=artifacts
        )
    assert not (tmp_path / "m").exists()


def test_log_model_logs_a_python_model(words):
    with mltrail.start_run() as run:
        info = mltrail.pyfunc.log_model(
            name="scaler",
            python_model=Scaler(),
            artifacts={"words": str(words)},
            registered_model_name="scaler",
        )
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.registered_model_version == 1
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/scaler", "models:/scaler/1"):
        model = mltrail.pyfunc.load_model(uri, trusted=True)
        assert model.predict(np.array([1.0])).tolist() == [4.0]


def test_unwrap_python_model_of_a_scikit_learn_model_says_so(tmp_path):
    from sklearn.linear_model import LinearRegression

    mltrail.sklearn.save_model(
        LinearRegression().fit([[0], [1]], [0, 1]), tmp_path / "m"
    )
    with pytest.raises(InvalidValueError, match="use get_raw_model"):
        mltrail.pyfunc.load_model(tmp_path / "m").unwrap_python_model()


def _flavor_file(tmp_path: Path, python_model: Any) -> Path:
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n"
        + (f"    python_model: {python_model}\n" if python_model else "")
    )
    return tmp_path


@pytest.mark.parametrize(
    ("python_model", "error", "message"),
    [
        (None, InvalidValueError, "'python_model' file name"),
        ("../escape.pkl", InvalidValueError, "inside the model directory"),
        ("python_model.pkl", NotFoundError, r"python_model\.pkl"),
    ],
    ids=["missing-key", "escape", "missing-file"],
)
def test_malformed_python_model_flavor_is_refused(
    tmp_path, python_model, error, message
):
    with pytest.raises(error, match=message):
        mltrail.pyfunc.load_model(_flavor_file(tmp_path, python_model), trusted=True)


@pytest.mark.mlflow
def test_loads_a_python_model_written_by_mlflow(tmp_path, words, monkeypatch):
    mlflow = import_mlflow()
    from mlflow.pyfunc.utils import data_validation

    # MLflow asks for type hints on predict each time the class is defined (it
    # would check the input by them), under a "once" filter of its own that no
    # warning filter of the test can override.
    monkeypatch.setattr(data_validation, "color_warning", lambda *a, **k: None)
    base: Any = mlflow.pyfunc.PythonModel

    class Times(base):  # type: ignore[misc]  # MLflow's class, untyped
        def load_context(self, context):
            self.count = len(Path(context.artifacts["words"]).read_text().split())

        def predict(self, context, model_input, params=None):
            return model_input * self.count

    mlflow.pyfunc.save_model(
        tmp_path / "m",
        python_model=Times(),
        artifacts={"words": str(words)},
        pip_requirements=["pandas"],
    )
    loaded = mltrail.pyfunc.load_model(tmp_path / "m", trusted=True)
    assert loaded.predict(np.array([1.0, 2.0])).tolist() == [3.0, 6.0]
