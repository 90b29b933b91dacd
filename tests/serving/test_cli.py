"""``mltrail models``: list, show, register, alias, predict; and serve, live."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mltrail import TrackingClient
from mltrail.cli import cli
from tests.server._live import free_port, start, stop
from tests.serving.conftest import Trained


def _invoke(model: Trained, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["--tracking-uri", model.tracking_uri, "models", *args],
        env={"COLUMNS": "200"},
    )
    return result.exit_code, result.stdout, result.stderr


def test_serve_owns_its_process(
    regressor: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command is a process of its own: its start is frozen (frozen_startup)."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(
        "mltrail.serving._serve.serve",
        lambda options, **kw: calls.append((options, kw)),
    )
    code, _, _ = _invoke(regressor, "serve", "-m", "models:/diabetes@champion")
    assert code == 0
    assert [(options.model_uri, kw) for options, kw in calls] == [
        ("models:/diabetes@champion", {"owns_process": True})
    ]


def test_list_and_show(classifier: Trained) -> None:
    code, out, _ = _invoke(classifier, "list")
    assert code == 0
    assert "churn" in out
    assert "@champion→v1" in out
    code, out, _ = _invoke(classifier, "show", "churn", "--json")
    document = json.loads(out)
    assert document["registered_model"]["aliases"] == {"champion": 1}
    assert document["versions"][0]["run_id"]
    assert document["alias_history"][0]["alias"] == "champion"
    code, out, _ = _invoke(classifier, "show", "churn")
    assert "Alias history" in out
    assert code == 0
    _, listed, _ = _invoke(classifier, "list", "--json", "--filter", "name = 'churn'")
    assert [m["name"] for m in json.loads(listed)] == ["churn"]


def test_show_finds_the_versions_of_a_name_with_quotes_and_backslashes(
    classifier: Trained,
) -> None:
    version = TrackingClient(classifier.tracking_uri).get_model_version("churn", 1)
    name = "it's a \\' name"
    code, _, err = _invoke(
        classifier, "register", f"runs:/{version.run_id}/model", name
    )
    assert code == 0, err
    code, out, err = _invoke(classifier, "show", name, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["registered_model"]["name"] == name
    assert [v["version"] for v in shown["versions"]] == [1]


def test_register_and_move_aliases(classifier: Trained) -> None:
    client = TrackingClient(classifier.tracking_uri)
    version = client.get_model_version("churn", 1)
    code, out, err = _invoke(
        classifier,
        "register",
        f"runs:/{version.run_id}/model",
        "churn-copy",
        "--alias",
        "canary",
    )
    assert code == 0, err
    assert "Registered churn-copy v1" in out
    assert "@canary" in out
    code, out, _ = _invoke(classifier, "alias", "churn-copy", "stable", "1")
    assert out.strip() == "@stable → churn-copy v1"
    code, out, _ = _invoke(classifier, "alias", "churn-copy", "stable", "--delete")
    assert out.strip() == "Deleted @stable (was v1)."
    code, _, err = _invoke(classifier, "alias", "churn-copy", "stable")
    assert code == 2
    assert "Give a VERSION" in err
    code, out, _ = _invoke(
        classifier, "register", f"runs:/{version.run_id}/model", "churn-copy", "--json"
    )
    assert json.loads(out)["version"] == 2
    history = client.get_alias_history("churn-copy")
    assert [(c.alias, c.version) for c in history] == [
        ("canary", 1),
        ("stable", 1),
        ("stable", None),
    ]
    client.delete_registered_model("churn-copy")


def test_errors_are_one_line(classifier: Trained) -> None:
    code, _, err = _invoke(classifier, "show", "nope")
    assert code == 1
    assert err.startswith("Error: registered model 'nope' does not exist.")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_predict_a_file(classifier: Trained, tmp_path: Path, suffix: str) -> None:
    X = classifier.X_test
    source = tmp_path / f"input{suffix}"
    if suffix == ".csv":
        X.to_csv(source, index=False)
    elif suffix == ".parquet":
        X.to_parquet(source)
    else:
        source.write_text(
            json.dumps(
                {"dataframe_split": json.loads(X.to_json(orient="split", index=False))}
            )
        )
    target = tmp_path / "predictions.csv"
    code, _, err = _invoke(
        classifier,
        "predict",
        "-m",
        "models:/churn@champion",
        "-i",
        str(source),
        "-o",
        str(target),
    )
    assert code == 0, err
    assert f"Predicted {len(X):,} rows" in err
    predicted = pd.read_csv(target)["prediction"].to_numpy()
    np.testing.assert_array_equal(predicted, classifier.estimator.predict(X))


def test_predict_to_stdout_and_parquet_with_warnings(
    regressor: Trained, tmp_path: Path
) -> None:
    X = regressor.X_test.copy()
    X.loc[0, "bmi"] = 5.0  # far outside the training range
    source = tmp_path / "input.csv"
    X.to_csv(source, index=False)
    code, out, err = _invoke(
        regressor, "predict", "-m", "models:/diabetes/1", "-i", str(source)
    )
    assert code == 0, err
    assert out.splitlines()[0] == "prediction"
    assert len(out.splitlines()) == len(X) + 1
    assert "Warning: 1 value(s) of 'bmi' outside the train range" in err
    target = tmp_path / "out.parquet"
    code, _, err = _invoke(
        regressor,
        "predict",
        "-m",
        "models:/diabetes/1",
        "-i",
        str(source),
        "-o",
        str(target),
    )
    assert code == 0, err
    np.testing.assert_allclose(
        pd.read_parquet(target)["prediction"], regressor.estimator.predict(X)
    )
    code, _, err = _invoke(
        regressor, "predict", "-m", "models:/diabetes/1", "-i", str(source), "--strict"
    )
    assert code == 1
    assert "values like the training data's" in err


def test_predict_large_inputs_in_chunks_with_progress(
    regressor: Trained, tmp_path: Path
) -> None:
    from mltrail.serving._batch import predict_file

    X = pd.concat([regressor.X_test] * 30, ignore_index=True)
    source = tmp_path / "big.csv"
    X.to_csv(source, index=False)
    target = tmp_path / "big-out.csv"
    summary = predict_file(
        "models:/diabetes/1",
        source,
        target,
        tracking_uri=regressor.tracking_uri,
        chunk_rows=500,
        progress_min_rows=10,
    )
    assert summary.rows == len(X)
    np.testing.assert_allclose(
        pd.read_csv(target)["prediction"], regressor.estimator.predict(X)
    )


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stdout.read().decode() if process.stdout else "")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2):  # noqa: S310 - local
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    raise RuntimeError("the scoring server did not answer /ping")


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_mlflows_client_and_curl(
    classifier: Trained, tmp_path: Path, workers: str
) -> None:
    from tests.models._mlflow import import_mlflow

    port = free_port()
    process = start(
        [
            sys.executable,
            "-m",
            "mltrail.cli",
            "--tracking-uri",
            classifier.tracking_uri,
            "models",
            "serve",
            "-m",
            "models:/churn@champion",
            "--port",
            str(port),
            "--workers",
            workers,
            "--max-batch-size",
            "32",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process)
        X = classifier.X_test.iloc[:5]
        expected = classifier.estimator.predict(X).tolist()
        # The curl line of MLflow's docs: dataframe_split as JSON.
        request = urllib.request.Request(  # noqa: S310 - a local URL
            f"{url}/invocations",
            data=json.dumps(
                {"dataframe_split": json.loads(X.to_json(orient="split", index=False))}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert json.loads(response.read())["predictions"] == expected
        mlflow = import_mlflow()
        from mlflow.pyfunc.scoring_server.client import ScoringServerClient

        scored = ScoringServerClient("127.0.0.1", port).invoke(X)  # type: ignore[no-untyped-call]  # mlflow is untyped
        assert scored.get_predictions().iloc[:, 0].tolist() == expected
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:  # noqa: S310
            metrics = response.read().decode()
        assert "mltrail_serving_requests_total" in metrics
        assert mlflow is not None
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("command", ["serve", "predict"])
def test_an_untrusted_model_gets_the_clis_hint(
    regressor: Trained, tmp_path: Path, command: str
) -> None:
    import mltrail

    directory = tmp_path / "model"
    mltrail.sklearn.save_model(
        regressor.estimator, directory, serialization_format="pickle"
    )
    rows = tmp_path / "rows.csv"
    regressor.X_test.head(2).to_csv(rows, index=False)
    extra = ["-i", str(rows)] if command == "predict" else []
    code, _, err = _invoke(regressor, command, "-m", str(directory), *extra)
    assert code == 1
    assert err.startswith(f"Error: model file '{directory / 'model.pkl'}' holds pickle")
    assert "Pass --trusted only if you trust" in err
    assert "load_model" not in err
