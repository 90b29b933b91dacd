"""MLflow's post-training metric names, beside mltrail's ``test_*`` suite (#13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

import mltrail
from mltrail._entities import Run
from mltrail.sklearn import autolog

ListRuns = Callable[[], list[Run]]

# The same lines run under mltrail here and under MLflow in a subprocess.
SCRIPT = """
X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = LogisticRegression(max_iter=500).fit(X_train, y_train)
y_pred = model.predict(X_test)
first = accuracy_score(y_test, y_pred)
second = accuracy_score(y_test, y_pred)
macro = f1_score(y_test, y_pred, average="macro")
score = model.score(X_test, y_test)
p2 = model.predict(X_train)
on_train = accuracy_score(y_train, p2)
X_test = X_test.copy()
p3 = model.predict(X_test)
on_copy = accuracy_score(y_test, p3)
"""
EXPECTED_INFO = {
    "LogisticRegression_score_X_test": "LogisticRegression.score(X=X_test, y=y_test)",
    "accuracy_score-2_X_test": "accuracy_score(y_true=y_test, y_pred=y_pred)",
    "accuracy_score-3_X_train": "accuracy_score(y_true=y_train, y_pred=p2)",
    "accuracy_score-4_X_test-2": "accuracy_score(y_true=y_test, y_pred=p3)",
    "accuracy_score_X_test": "accuracy_score(y_true=y_test, y_pred=y_pred)",
    "f1_score_X_test": "f1_score(y_true=y_test, y_pred=y_pred, average='macro')",
}


def _run_script() -> tuple[dict[str, float], Run]:
    names = {
        "load_iris": load_iris,
        "train_test_split": train_test_split,
        "LogisticRegression": LogisticRegression,
        "accuracy_score": accuracy_score,
        "f1_score": f1_score,
    }
    exec(SCRIPT, names)  # noqa: S102 - our own constant, run as a user's script
    run = mltrail.last_active_run()
    assert run is not None
    return names, mltrail.get_run(run.info.run_id)


def _metric_info(run: Run) -> dict[str, str]:
    root = Path(run.info.artifact_uri.removeprefix("file://"))
    info: dict[str, str] = json.loads((root / "metric_info.json").read_text())
    return info


def test_metric_calls_log_mlflows_names_and_values(autolog: None) -> None:
    values, run = _run_script()

    metrics = run.data.metrics
    assert {key: metrics[key] for key in EXPECTED_INFO} == {
        "LogisticRegression_score_X_test": values["score"],
        "accuracy_score-2_X_test": values["second"],
        "accuracy_score-3_X_train": values["on_train"],
        "accuracy_score-4_X_test-2": values["on_copy"],
        "accuracy_score_X_test": values["first"],
        "f1_score_X_test": values["macro"],
    }
    assert _metric_info(run) == EXPECTED_INFO
    assert metrics["test_accuracy_score"] == values["first"]  # our suite stays


def test_an_unnamed_dataset_is_unknown_dataset(autolog: None) -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X[::2], y[::2])
    predicted = model.predict(X[1::2])
    value = accuracy_score(y[1::2], predicted)

    run = mltrail.get_run(mltrail.last_active_run().info.run_id)  # type: ignore[union-attr]
    assert run.data.metrics["accuracy_score_unknown_dataset"] == value


def test_log_post_training_metrics_false_logs_none_of_them() -> None:
    autolog(log_post_training_metrics=False)
    try:
        _, run = _run_script()
    finally:
        autolog(disable=True)

    assert not set(EXPECTED_INFO) & set(run.data.metrics)
    assert "test_accuracy_score" in run.data.metrics
    root = Path(run.info.artifact_uri.removeprefix("file://"))
    assert not (root / "metric_info.json").exists()


@pytest.mark.slow
def test_mlflow_logs_the_same_names(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys, warnings
            warnings.simplefilter("ignore")
            import mlflow
            mlflow.set_tracking_uri("sqlite:///mlflow.db")
            mlflow.sklearn.autolog(silent=True, log_models=False)
            # MLflow follows only metric functions imported after autolog().
            from sklearn.datasets import load_iris
            from sklearn.linear_model import LogisticRegression
            from sklearn.metrics import accuracy_score, f1_score
            from sklearn.model_selection import train_test_split
            """
        )
        + SCRIPT
        + textwrap.dedent(
            """
            run = mlflow.get_run(mlflow.last_active_run().info.run_id)
            keys = [k for k in run.data.metrics if not k.startswith("training_")]
            print(json.dumps(sorted(keys)))
            """
        )
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "MLTRAIL_"))
    }
    completed = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )

    assert json.loads(completed.stdout.splitlines()[-1]) == sorted(EXPECTED_INFO)
