"""``mltrail runs show`` on what autologging records (issue 4), and its helpers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from mltrail._entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    InputTag,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)
from mltrail.cli import _run_view, cli

WIDE = {"COLUMNS": "220"}
SCRIPT = """\
import mltrail
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

mltrail.sklearn.autolog()
X, y = load_wine(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
model = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
model.fit(X_train, y_train)
model.predict(X_test)
mltrail.evaluate(model, X_test.iloc[::2], y_test.iloc[::2], name="holdout")
print(mltrail.last_active_run().info.run_id)
"""


@dataclass(frozen=True)
class WineRun:
    """A real autologged run: where its store is, and what the script ran from."""

    tracking_uri: str
    run_id: str
    script: Path
    commit: str


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    completed = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return completed.stdout.strip()


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory: pytest.TempPathFactory) -> WineRun:
    """Run a wine script once in a dirty git repository, as a user would."""
    directory = tmp_path_factory.mktemp("wine")
    script = directory / "train.py"
    script.write_text(SCRIPT)
    _git(directory, "init", "-q", "-b", "main")
    _git(directory, "add", "train.py")
    _git(directory, "commit", "-q", "-m", "Train on wine")
    script.write_text(SCRIPT + "# tuned\n")  # uncommitted: a diff to record
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MLTRAIL_", "MLFLOW_"))
    }
    completed = subprocess.run(
        [sys.executable, str(script)],
        cwd=directory,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return WineRun(
        tracking_uri=f"sqlite:///{directory / 'mltrail.db'}",
        run_id=completed.stdout.split()[-1],
        script=script.resolve(),
        commit=_git(directory, "rev-parse", "HEAD"),
    )


def _show(wine_run: WineRun, *args: str) -> str:
    command = ["--tracking-uri", wine_run.tracking_uri, "runs", "show"]
    result = CliRunner().invoke(cli, [*command, wine_run.run_id, *args], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.stdout


def _shown(wine_run: WineRun) -> dict[str, Any]:
    return dict(json.loads(_show(wine_run, "--json")))


@pytest.mark.slow
def test_json_groups_training_and_held_out_metrics(wine_run: WineRun) -> None:
    groups = {g["name"]: g for g in _shown(wine_run)["metric_groups"]}
    assert [(g["name"], g["kind"]) for g in groups.values()] == [
        ("training", "training"),
        ("test", "held_out"),
        ("holdout", "held_out"),
        ("other", "other"),
    ]
    assert groups["training"]["metrics"]["training_accuracy_score"] == 1.0
    assert {"test_accuracy", "test_roc_auc", "test_log_loss"} <= set(
        groups["test"]["metrics"]
    )
    assert "holdout_f1_macro" in groups["holdout"]["metrics"]
    assert groups["other"]["metrics"] == {"train_test_shared_rows": 0.0}


@pytest.mark.slow
def test_json_pairs_each_plot_png_with_its_json(wine_run: WineRun) -> None:
    plots = {(p["dataset"], p["plot"]): p for p in _shown(wine_run)["plots"]}
    roc = plots["test", "roc_curve"]
    assert roc["png"]["path"] == "plots/test_roc_curve.png"
    assert roc["json"]["path"] == "plots/test_roc_curve.json"
    assert roc["png"]["file_size"] > 0
    assert {("training", "confusion_matrix"), ("holdout", "confusion_matrix")} <= set(
        plots
    )
    assert plots[None, "feature_importance"]["json"] is not None
    assert all(p["png"] is not None and p["json"] is not None for p in plots.values())


@pytest.mark.slow
def test_json_summarises_datasets_with_split_lineage(wine_run: WineRun) -> None:
    from sklearn.datasets import load_wine

    from mltrail.capture._datasets import dataset_digest

    X, y = load_wine(return_X_y=True, as_frame=True)
    datasets = {d["name"]: d for d in _shown(wine_run)["datasets"]}
    train, test = datasets["train"], datasets["test"]
    assert (train["context"], test["context"]) == ("train", "test")
    assert (train["shape"], test["shape"]) == ([133, 13], [45, 13])
    assert train["dtypes"] == {"float64": 13}
    assert train["null_count"] == 0
    assert test["target"]["class_counts"] == {"0": 15, "1": 18, "2": 12}
    for part in (train, test):
        assert part["split"] == {
            "parent_digest": dataset_digest(X, y),
            "test_size": 0.25,
            "train_size": None,
            "random_state": 0,
            "shuffle": True,
            "stratify": "Series of length 178",
        }
    assert datasets["holdout"]["context"] == "eval"


@pytest.mark.slow
def test_json_has_code_and_git_state(wine_run: WineRun) -> None:
    code = _shown(wine_run)["code"]
    assert code["source_path"] == str(wine_run.script)
    assert code["source_kind"] == "script"
    assert code["git_commit"] == wine_run.commit
    assert code["git_branch"] == "main"
    assert code["git_repo_url"] is None  # no remote
    assert code["is_git_dirty"] is True
    paths = [entry["path"] for entry in code["artifacts"]]
    assert paths[:2] == ["code/train.py", "code/uncommitted.diff"]


@pytest.mark.slow
def test_json_has_pipeline_summary(wine_run: WineRun) -> None:
    pipeline = _shown(wine_run)["pipeline"]
    assert pipeline["summary"] == "RandomForestClassifier"
    paths = [entry["path"] for entry in pipeline["artifacts"]]
    assert paths == ["pipeline.json", "estimator.html"]


@pytest.mark.slow
def test_json_keeps_the_run_as_the_api_returns_it(wine_run: WineRun) -> None:
    shown = _shown(wine_run)
    assert shown["info"]["run_id"] == wine_run.run_id
    assert shown["data"]["tags"]["mlflow.mltrail.pipeline"] == "RandomForestClassifier"
    assert len(shown["inputs"]["dataset_inputs"]) == 3
    assert {"path": "plots", "is_dir": True, "file_size": None} in shown["artifacts"]


@pytest.mark.slow
def test_table_shows_every_section(wine_run: WineRun) -> None:
    output = _show(wine_run)
    for title in (
        "Training metrics (",
        "Held-out metrics: test (",
        "Held-out metrics: holdout (",
        "Other metrics (1)",
        "Datasets (3)",
        "Split lineage (3)",
        "Plots (",
        "Code",
        "Pipeline",
        "Artifacts (",
    ):
        assert title in output
    lines = output.splitlines()
    train = next(line for line in lines if line.startswith("│ train "))
    assert "133 x 13" in train
    assert "13 float64" in train
    assert "multiclass: 0=44, 1=53, 2=36" in train
    after_title = output[output.index("Split lineage (3)") :].splitlines()
    lineage = next(line for line in after_title if line.startswith("│ test "))
    assert "0.25" in lineage
    assert "Series of length 178" in lineage
    roc = next(line for line in lines if "│ roc_curve" in line and "│ test " in line)
    assert "test_roc_curve.png" in roc
    assert "test_roc_curve.json" in roc
    for text in (str(wine_run.script), wine_run.commit, "uncommitted.diff"):
        assert text in output
    assert "RandomForestClassifier" in output


# --- helpers, on hand-made runs --------------------------------------------------


def _run(
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    inputs: list[DatasetInput] | None = None,
) -> Run:
    info = RunInfo(
        run_id="a" * 32,
        experiment_id="0",
        run_name="r",
        user_id="u",
        status="FINISHED",
        start_time=0,
        end_time=1,
        artifact_uri="runs/0/a",
        lifecycle_stage="active",
    )
    data = RunData(metrics=metrics or {}, params={}, tags=tags or {})
    return Run(info, data, RunInputs(inputs or []))


def _document(run: Run, files: tuple[str, ...] = ()) -> dict[str, Any]:
    directories = sorted({path.rsplit("/", 1)[0] for path in files if "/" in path})
    artifacts = [FileInfo(path, True, None) for path in directories]
    artifacts += [FileInfo(path, False, 10) for path in files]
    return _run_view.run_document(
        run, Experiment("0", "Default", "runs/0", "active", 0, 0), artifacts
    )


def _input(name: str, context: str, profile: object) -> DatasetInput:
    text = profile if isinstance(profile, str) else json.dumps(profile)
    dataset = Dataset(name, "d1", "code", "{}", None, text)
    return DatasetInput(dataset, [InputTag("mlflow.data.context", context)])


def test_metrics_go_to_the_longest_matching_dataset_name() -> None:
    run = _run(
        metrics={"test_accuracy": 1.0, "test_big_accuracy": 0.5, "cv_r2_mean": 0.2},
        inputs=[_input("test_big", "eval", {})],
    )
    groups = {g["name"]: g["metrics"] for g in _document(run)["metric_groups"]}
    assert groups == {
        "test": {"test_accuracy": 1.0},
        "test_big": {"test_big_accuracy": 0.5},
        "cv": {"cv_r2_mean": 0.2},
    }


def test_evaluation_tag_names_a_held_out_group() -> None:
    run = _run(
        metrics={"valid_mse": 2.0},
        tags={"mlflow.mltrail.evaluation": json.dumps(["valid"])},
    )
    groups = _document(run)["metric_groups"]
    assert groups == [
        {"name": "valid", "kind": "held_out", "metrics": {"valid_mse": 2.0}}
    ]


def test_malformed_evaluation_tag_is_ignored() -> None:
    run = _run(
        metrics={"valid_mse": 2.0}, tags={"mlflow.mltrail.evaluation": "{not json"}
    )
    assert _document(run)["metric_groups"][0]["name"] == "other"


def test_plot_without_json_and_json_without_png() -> None:
    files = ("plots/training_residuals.png", "plots/notes.json", "plots/a.txt")
    plots = _document(_run(), files)["plots"]
    assert plots == [
        {
            "dataset": None,
            "plot": "notes",
            "png": None,
            "json": {"path": "plots/notes.json", "file_size": 10},
        },
        {
            "dataset": "training",
            "plot": "residuals",
            "png": {"path": "plots/training_residuals.png", "file_size": 10},
            "json": None,
        },
    ]
    text = _render_text(_document(_run(), files))
    notes = next(line for line in text.splitlines() if "│ notes" in line)
    assert notes.split("│")[3].strip() == "-"
    assert "notes.json  10 B" in notes


def test_regression_target_of_an_array_dataset() -> None:
    profile = {
        "shape": [4, 2],
        "columns": [
            {"name": "0", "dtype": "float64", "null_count": 1},
            {"name": "1", "dtype": "int64", "null_count": 0},
        ],
        "target": {"type": "continuous", "min": 0.5, "max": 5.0, "mean": 2.25},
    }
    run = _run(inputs=[_input("train", "train", profile)])
    document = _document(run)
    dataset = document["datasets"][0]
    assert dataset["dtypes"] == {"float64": 1, "int64": 1}
    assert dataset["null_count"] == 1
    assert dataset["split"] is None
    console_text = _render_text(document)
    assert "continuous: 0.5 to 5, mean 2.25" in console_text
    assert "4 x 2" in console_text
    assert "Split lineage" not in console_text


@pytest.mark.parametrize(
    "profile",
    ["not json", "[1, 2]", {"columns": "none", "shape": 3, "target": [1]}],
    ids=["invalid-json", "not-an-object", "wrong-types"],
)
def test_foreign_profiles_give_empty_summaries(profile: object) -> None:
    dataset = _document(_run(inputs=[_input("d", "train", profile)]))["datasets"][0]
    assert dataset == {
        "name": "d",
        "context": "train",
        "digest": "d1",
        "source_type": "code",
        "shape": None,
        "dtypes": {},
        "null_count": None,
        "target": None,
        "split": None,
    }


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            {"type": "binary", "n_classes": 2, "class_counts": {"a": 3, "b": 1}},
            "binary: a=3, b=1",
        ),
        ({"type": "continuous", "min": -1.0, "max": 2.5}, "continuous: -1 to 2.5"),
        ({"type": "sparse", "shape": [3, 2]}, "sparse"),
        (None, None),
    ],
    ids=["classes", "range-without-mean", "sparse", "no-target"],
)
def test_target_text(target: dict[str, Any] | None, expected: str | None) -> None:
    assert _run_view._target_text(target) == expected


def test_many_classes_are_cut_in_the_table() -> None:
    counts = {str(i): 1 for i in range(12)}
    target = {"type": "multiclass", "n_classes": 12, "class_counts": counts}
    run = _run(inputs=[_input("train", "train", {"target": target})])
    assert "9=1, … (12 classes)" in _render_text(_document(run))


def test_run_without_autolog_records_has_no_extra_sections() -> None:
    document = _document(_run(metrics={"loss": 0.1}))
    assert document["code"] == {
        "source_path": None,
        "source_kind": None,
        "git_commit": None,
        "git_branch": None,
        "git_repo_url": None,
        "is_git_dirty": None,
        "artifacts": [],
    }
    assert document["pipeline"] == {"summary": None, "artifacts": []}
    text = _render_text(document)
    assert "Metrics (1)" in text
    assert "Datasets (0)" in text
    for title in ("Plots", "Code", "Pipeline", "Split lineage"):
        assert title not in text


def test_run_without_metrics_still_has_a_metrics_table() -> None:
    assert "Metrics (0)" in _render_text(_document(_run()))


def test_clean_repository_reads_as_not_dirty() -> None:
    run = _run(
        tags={
            "mlflow.mltrail.git.dirty": "false",
            "mlflow.mltrail.source.kind": "history",
        }
    )
    document = _document(run)
    assert document["code"]["is_git_dirty"] is False
    assert "is_git_dirty │ false" in _render_text(document)


def _render_text(document: dict[str, Any]) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(_run_view.run_tables(document))
    return console.export_text()


def test_names_agree_with_what_autolog_writes() -> None:
    from mltrail import _run_sections as sections
    from mltrail.sklearn.recorders import _code, _crossval, _extras
    from mltrail.sklearn.shared import _evaluate

    assert sections.TEST_DATASET == _evaluate.TEST_NAME == _evaluate.TEST_CONTEXT
    assert sections.CROSS_VALIDATION_GROUP == _crossval.CV_PREFIX
    assert sections.TRAINING_GROUP == _extras.TRAINING_PLOT_PREFIX
    assert sections.PIPELINE_ARTIFACTS == (
        _extras.PIPELINE_ARTIFACT,
        _extras.ESTIMATOR_HTML_ARTIFACT,
    )
    assert f"{_code.SOURCE_DIRECTORY}/" == sections.CODE_DIRECTORY


def test_hand_made_run_shows_lineage_code_and_pipeline_tables() -> None:
    split = {"parent_digest": "p1", "test_size": 0.2, "shuffle": False}
    run = _run(
        metrics={"training_score": 0.9, "test_r2": 0.8},
        tags={
            "mlflow.mltrail.source.path": "/src/fit.py",
            "mlflow.source.git.repoURL": "https://git.example.com/a/b.git",
            "mlflow.mltrail.pipeline": "StandardScaler → Ridge",
        },
        inputs=[_input("test", "test", {"split": split})],
    )
    files = ("code/fit.py", "estimator.html")
    text = _render_text(_document(run, files))
    after_title = text[text.index("Split lineage (1)") :].splitlines()
    lineage = next(line for line in after_title if line.startswith("│ test "))
    assert [cell.strip() for cell in lineage.split("│")[1:-1]] == [
        "test",
        "p1",
        "0.2",
        "-",
        "-",
        "false",
        "-",
    ]
    for row in (
        "source_path  │ /src/fit.py",
        "git_repo_url │ https://git.example.com/a/b.git",
        "artifact     │ code/fit.py  10 B",
        "summary  │ StandardScaler → Ridge",
        "artifact │ estimator.html  10 B",
    ):
        assert row in text
    assert "Training metrics (1)" in text
    assert "Held-out metrics: test (1)" in text
