"""MLflow's log_table, load_table, log_image, and more of its model arguments."""

from __future__ import annotations

import io
import json
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from sklearn.linear_model import LinearRegression

import mltrail
from mltrail import InvalidValueError, MltrailWarning, NotFoundError
from tests.models._mlflow import import_mlflow

X = [[0.0], [1.0], [2.0]]
Y = [0.0, 1.0, 2.0]


def _fitted() -> LinearRegression:
    return LinearRegression().fit(X, Y)


@contextmanager
def _real_mlflow(tmp_path: Path) -> Iterator[ModuleType]:
    """Yield mlflow on its own SQLite store, its warnings (about SQLAlchemy) off."""
    mlflow = import_mlflow()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
        try:
            yield mlflow
        finally:
            mlflow.set_tracking_uri("")


def _artifact(run_id: str, path: str) -> bytes:
    target = mltrail.TrackingClient().download_artifacts(run_id, path, "copy")
    return Path(target).read_bytes()


# Tables ---------------------------------------------------------------------------


def test_log_table_writes_mlflows_json_and_tag(tmp_path: Path) -> None:
    table = {"inputs": ["a", "b"], "outputs": ["x", "y"], "score": [0.5, 1.0]}
    with mltrail.start_run() as run:
        mltrail.log_table(table, "eval/results.json")
    with _real_mlflow(tmp_path) as mlflow:
        with mlflow.start_run() as theirs:
            mlflow.log_table(table, "eval/results.json")
        client = mlflow.MlflowClient()
        expected = Path(
            client.download_artifacts(theirs.info.run_id, "eval/results.json", ".")
        ).read_bytes()
        expected_tag = client.get_run(theirs.info.run_id).data.tags[
            "mlflow.loggedArtifacts"
        ]
    ours = mltrail.get_run(run.info.run_id)
    assert _artifact(run.info.run_id, "eval/results.json") == expected
    assert ours.data.tags["mlflow.loggedArtifacts"] == expected_tag


def test_log_table_appends_to_an_existing_file() -> None:
    with mltrail.start_run() as run:
        mltrail.log_table({"inputs": ["a"]}, "eval.json")
        mltrail.log_table(pd.DataFrame({"inputs": ["b", "c"]}), "eval.json")
    content = json.loads(_artifact(run.info.run_id, "eval.json"))
    tags = mltrail.get_run(run.info.run_id).data.tags
    assert content == {"columns": ["inputs"], "data": [["a"], ["b"], ["c"]]}
    assert json.loads(tags["mlflow.loggedArtifacts"]) == [
        {"path": "eval.json", "type": "table"}
    ]


def test_log_table_of_scalars_is_one_row() -> None:
    with mltrail.start_run() as run:
        mltrail.log_table({"question": "q", "answer": "a"}, "one.json")
    content = json.loads(_artifact(run.info.run_id, "one.json"))
    assert content == {"columns": ["question", "answer"], "data": [["q", "a"]]}


@pytest.mark.parametrize(
    ("data", "artifact_file", "match"),
    [
        ([1, 2], "t.json", "data must be a dict of columns"),
        ({"a": [1]}, "t.csv", "ending in '.json'"),
        ({"a": [1]}, "a,b.json", "ending in '.json' without"),
    ],
    ids=["list", "suffix", "forbidden-character"],
)
def test_log_table_refuses(data: object, artifact_file: str, match: str) -> None:
    with mltrail.start_run(), pytest.raises(InvalidValueError, match=match):
        mltrail.log_table(data, artifact_file)  # type: ignore[arg-type]


def test_load_table_joins_runs_and_adds_extra_columns() -> None:
    with mltrail.start_run() as first:
        mltrail.log_table({"score": [1, 2]}, "scores.json")
    with mltrail.start_run() as second:
        mltrail.log_table({"score": [3]}, "scores.json")
    with mltrail.start_run():
        mltrail.log_table({"other": [0]}, "other.json")

    table = mltrail.load_table("scores.json", extra_columns=["run_id"])
    only = mltrail.load_table("scores.json", run_ids=[first.info.run_id])

    assert sorted(table["score"]) == [1, 2, 3]
    by_run = table.groupby("run_id")["score"].apply(sorted).to_dict()
    assert by_run == {first.info.run_id: [1, 2], second.info.run_id: [3]}
    assert only["score"].tolist() == [1, 2]


def test_load_table_without_such_table_raises() -> None:
    with mltrail.start_run():
        mltrail.log_table({"score": [1]}, "scores.json")
    with pytest.raises(NotFoundError, match=r"table 'missing\.json'"):
        mltrail.load_table("missing.json")


def test_mlflow_load_table_reads_an_mltrail_table(tmp_path: Path) -> None:
    with mltrail.start_run() as run:
        mltrail.log_table({"inputs": ["a", "b"], "n": [1, 2]}, "eval.json")
    path = mltrail.TrackingClient().download_artifacts(
        run.info.run_id, "eval.json", "copy"
    )
    with _real_mlflow(tmp_path) as mlflow:
        frame = mlflow.MlflowClient()._read_from_file(path)
    assert frame.to_dict("list") == {"inputs": ["a", "b"], "n": [1, 2]}


def test_client_log_table_takes_mlflows_arguments() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.log_table(run_id, data={"a": [1]}, artifact_file="t.json")
    table = client.load_table("0", "t.json", run_ids=[run_id])
    assert table.to_dict("list") == {"a": [1]}


# Images ---------------------------------------------------------------------------


def _png(run_id: str, path: str) -> Image.Image:
    return Image.open(io.BytesIO(_artifact(run_id, path)))


@pytest.mark.parametrize(
    ("image", "mode", "pixel"),
    [
        (np.full((4, 5, 3), 200, dtype=np.uint8), "RGB", (200, 200, 200)),
        (np.full((4, 5), 0.5), "L", 127),
        (np.ones((4, 5, 4), dtype=np.uint8) * 9, "RGBA", (9, 9, 9, 9)),
        (np.ones((4, 5, 1), dtype=bool), "L", 255),
        (Image.new("RGB", (5, 4), (1, 2, 3)), "RGB", (1, 2, 3)),
    ],
    ids=["uint8-rgb", "float-gray", "rgba", "bool-one-channel", "pil"],
)
def test_log_image_writes_a_png(image: object, mode: str, pixel: object) -> None:
    with mltrail.start_run() as run:
        mltrail.log_image(image, "images/img.png")
    written = _png(run.info.run_id, "images/img.png")
    assert (written.format, written.mode, written.size) == ("PNG", mode, (5, 4))
    assert written.getpixel((0, 0)) == pixel


def test_log_image_matches_mlflows_png(tmp_path: Path) -> None:
    image = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    with mltrail.start_run() as run:
        mltrail.log_image(image, "img.png")
    with _real_mlflow(tmp_path) as mlflow:
        with mlflow.start_run() as theirs:
            mlflow.log_image(image, "img.png")
        expected = Path(
            mlflow.MlflowClient().download_artifacts(theirs.info.run_id, "img.png", ".")
        ).read_bytes()
    assert _artifact(run.info.run_id, "img.png") == expected


def test_log_image_with_key_uses_mlflows_names_and_tag() -> None:
    with mltrail.start_run() as run:
        mltrail.log_image(np.zeros((300, 600, 3)), key="train/x", step=3, timestamp=7)
    listed = mltrail.TrackingClient().list_artifacts(run.info.run_id, "images")
    files = [f.path for f in listed]
    assert len(files) == 2
    stem = "images/train~x+step+3+timestamp+7+"
    assert all(path.startswith(stem) for path in files)
    thumbnail = next(path for path in files if path.endswith("+compressed.webp"))
    assert _png(run.info.run_id, thumbnail).size == (256, 128)
    assert mltrail.get_run(run.info.run_id).data.tags["mlflow.loggedImages"] == "True"


def test_log_image_refuses_integers_out_of_range() -> None:
    with mltrail.start_run(), pytest.raises(InvalidValueError, match=r"\[0, 255\]"):
        mltrail.log_image(np.full((2, 2), 300), "img.png")


def test_log_image_rescales_floats_out_of_range_with_a_warning() -> None:
    with mltrail.start_run() as run, pytest.warns(MltrailWarning, match="rescaled"):
        mltrail.log_image(np.array([[-1.0, 1.0]]), "img.png")
    written = _png(run.info.run_id, "img.png")
    assert [written.getpixel((0, 0)), written.getpixel((1, 0))] == [0, 255]


@pytest.mark.parametrize(
    ("image", "kwargs", "match"),
    [
        (np.zeros((2, 2, 2)), {"artifact_file": "a.png"}, "image shape"),
        (np.zeros((2, 2), dtype=complex), {"artifact_file": "a.png"}, "image dtype"),
        ([[0, 1]], {"artifact_file": "a.png"}, "numpy array or a PIL image"),
        (np.zeros((2, 2)), {}, "key must be a str when artifact_file is None"),
        (np.zeros((2, 2)), {"artifact_file": "a.png", "step": 1}, "artifact_file"),
        (np.zeros((2, 2)), {"key": "bad#key"}, "letters, digits"),
    ],
    ids=["channels", "dtype", "list", "neither", "both", "key"],
)
def test_log_image_refuses(
    image: object, kwargs: dict[str, object], match: str
) -> None:
    with mltrail.start_run(), pytest.raises(InvalidValueError, match=match):
        mltrail.log_image(image, **kwargs)  # type: ignore[arg-type]


def test_client_log_image_takes_mlflows_positional_arguments() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.log_image(run_id, np.zeros((2, 2)), None, "k", 1, 5, True)
    files = [f.path for f in client.list_artifacts(run_id, "images")]
    assert files[0].startswith("images/k+step+1+timestamp+5+")


# sklearn model arguments ----------------------------------------------------------


CONDA_ENV = {
    "channels": ["conda-forge"],
    "dependencies": ["python=3.11", "pip", {"pip": ["mlflow", "scikit-learn"]}],
    "name": "mlflow-env",
}


def test_serialization_format_constants_match_mlflow() -> None:
    mlflow = import_mlflow()
    for name in (
        "SERIALIZATION_FORMAT_CLOUDPICKLE",
        "SERIALIZATION_FORMAT_PICKLE",
        "SERIALIZATION_FORMAT_SKOPS",
        "SUPPORTED_SERIALIZATION_FORMATS",
    ):
        assert getattr(mltrail.sklearn, name) == getattr(mlflow.sklearn, name)


def test_conda_env_dict_is_written_as_conda_yaml() -> None:
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(_fitted(), name="model", conda_env=CONDA_ENV)
    directory = Path(mltrail.artifacts.download_artifacts(info.model_uri))
    conda = yaml.safe_load((directory / "conda.yaml").read_text())
    assert conda == CONDA_ENV
    assert (directory / "requirements.txt").read_text().splitlines() == [
        "mlflow",
        "scikit-learn",
    ]


def test_conda_env_file_is_read() -> None:
    Path("env.yaml").write_text(yaml.safe_dump(CONDA_ENV))
    info = mltrail.sklearn.save_model(_fitted(), "model", conda_env="env.yaml")
    assert yaml.safe_load(Path("model/conda.yaml").read_text()) == CONDA_ENV
    assert info.requirements == ["mlflow", "scikit-learn"]


def test_conda_env_with_pip_requirements_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="conda_env"):
        mltrail.sklearn.save_model(
            _fitted(), "model", conda_env=CONDA_ENV, pip_requirements=["numpy"]
        )
    assert not Path("model").exists()


def test_code_paths_are_copied_and_listed_and_loaded(tmp_path: Path) -> None:
    code = tmp_path / "src"
    (code / "helpers").mkdir(parents=True)
    (code / "helpers" / "__init__.py").write_text("VALUE = 1\n")
    (code / "single.py").write_text("X = 2\n")
    mltrail.sklearn.save_model(
        _fitted(),
        "model",
        code_paths=[str(code / "helpers"), code / "single.py"],
    )
    content = yaml.safe_load(Path("model/MLmodel").read_text())
    assert content["flavors"]["python_function"]["code"] == "code"
    assert content["flavors"]["sklearn"]["code"] == "code"
    assert Path("model/code/helpers/__init__.py").is_file()
    assert Path("model/code/single.py").read_text() == "X = 2\n"
    mlflow = import_mlflow()
    assert mlflow.pyfunc.load_model("model").predict(np.array([[3.0]])).round(3) == 3
    sys.path.remove(str(Path("model/code").resolve()))  # mlflow's copy
    mltrail.sklearn.load_model("model")  # not trusted: nothing may shadow modules
    assert str(Path("model/code").resolve()) not in sys.path
    mltrail.pyfunc.load_model("model")
    assert str(Path("model/code").resolve()) not in sys.path
    mltrail.sklearn.load_model("model", trusted=True)
    assert str(Path("model/code").resolve()) in sys.path
    sys.path.remove(str(Path("model/code").resolve()))


def test_extra_files_are_copied_and_listed() -> None:
    Path("notes.txt").write_text("read me")
    mltrail.sklearn.save_model(_fitted(), "model", extra_files=["notes.txt"])
    content = yaml.safe_load(Path("model/MLmodel").read_text())
    assert content["flavors"]["sklearn"]["extra_files"] == [
        {"path": "extra_files/notes.txt"}
    ]
    assert Path("model/extra_files/notes.txt").read_text() == "read me"


# Loading arguments ----------------------------------------------------------------


def test_load_model_accepts_mlflows_arguments(tmp_path: Path) -> None:
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(_fitted(), name="model")
    model = mltrail.pyfunc.load_model(
        info.model_uri, suppress_warnings=True, dst_path=tmp_path / "a"
    )
    estimator = mltrail.sklearn.load_model(info.model_uri, dst_path=tmp_path / "b")
    assert model.predict([[4.0]]).round(3).tolist() == [4.0]
    assert estimator.predict([[5.0]]).round(3).tolist() == [5.0]


def test_dst_path_receives_a_remote_models_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.models import _uris

    with mltrail.start_run() as run:
        mltrail.sklearn.log_model(_fitted(), name="model")
    # Treat the run's artifacts as remote, so they are downloaded.
    monkeypatch.setattr(_uris, "local_artifact_directory", lambda *args, **kwargs: None)
    estimator = mltrail.sklearn.load_model(
        f"runs:/{run.info.run_id}/model", dst_path=tmp_path / "copy"
    )
    assert (tmp_path / "copy" / "model" / "MLmodel").is_file()
    assert estimator.predict([[1.0]]).round(3).tolist() == [1.0]


def test_model_config_for_an_sklearn_model_is_refused() -> None:
    mltrail.sklearn.save_model(_fitted(), "model")
    with pytest.raises(InvalidValueError, match="None for a scikit-learn model"):
        mltrail.pyfunc.load_model("model", model_config={"a": 1})


class _Configured(mltrail.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [context.model_config["temperature"]] * len(model_input)


def test_model_config_overrides_a_python_models_saved_keys() -> None:
    mltrail.pyfunc.save_model(
        "model", python_model=_Configured(), model_config={"temperature": 0.1}
    )
    Path("config.yaml").write_text("temperature: 0.7\n")

    saved = mltrail.pyfunc.load_model("model", trusted=True)
    given = mltrail.pyfunc.load_model(
        "model", model_config={"temperature": 0.9}, trusted=True
    )
    from_file = mltrail.pyfunc.load_model(
        "model", model_config="config.yaml", trusted=True
    )
    with pytest.warns(MltrailWarning, match=r"\['unknown'\] are ignored"):
        ignored = mltrail.pyfunc.load_model(
            "model", model_config={"unknown": 1}, trusted=True
        )

    assert saved.predict([1]) == [0.1]
    assert given.predict([1]) == [0.9]
    assert from_file.predict([1]) == [0.7]
    assert ignored.predict([1]) == [0.1]


def test_a_constant_image_outside_zero_to_one_is_black() -> None:
    from mltrail.tracking._client_media import to_pil_image

    with pytest.warns(mltrail.MltrailWarning, match="rescaled"):
        picture = to_pil_image(np.full((2, 2), 3.0))
    assert np.asarray(picture).tolist() == [[0, 0], [0, 0]]


def test_two_code_paths_of_one_name_are_refused(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "helpers.py").write_text("X = 1\n")
    with pytest.raises(mltrail.InvalidValueError, match="code_paths entry"):
        mltrail.sklearn.save_model(
            _fitted(),
            "model",
            code_paths=[tmp_path / "a" / "helpers.py", tmp_path / "b" / "helpers.py"],
        )
    assert not Path("model").exists()
