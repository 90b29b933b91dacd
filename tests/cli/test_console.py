"""Each command as a user runs it: a real ``python -m mltrail.cli`` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mltrail._entities import Metric, Param
from mltrail.tracking import TrackingClient


def _mltrail(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "mltrail.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _runs(client: TrackingClient) -> tuple[str, str]:
    ids = []
    for name, C in (("small-C", "0.1"), ("large-C", "10")):
        run_id = client.create_run("0", run_name=name).info.run_id
        client.log_batch(
            run_id, metrics=[Metric("acc", float(C), 0, 0)], params=[Param("C", C)]
        )
        client.set_terminated(run_id)
        ids.append(run_id)
    return ids[0], ids[1]


def test_runs_compare_in_a_process(client: TrackingClient, tmp_path: Path) -> None:
    _, second = _runs(client)
    result = _mltrail("runs", "compare", "small-C", second[:8], "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    params = json.loads(result.stdout)["params"]
    assert params == [{"key": "C", "values": ["0.1", "10"], "differs": True}]


@pytest.mark.slow
def test_runs_delete_restore_and_gc_in_processes(
    client: TrackingClient, tmp_path: Path
) -> None:
    first, second = _runs(client)
    deleted = _mltrail("runs", "delete", "small-C", cwd=tmp_path)
    assert deleted.stdout == f"Deleted run {first} ('small-C').\n"
    restored = _mltrail("runs", "restore", first[:8], cwd=tmp_path)
    assert restored.stdout == f"Restored run {first} ('small-C').\n"
    _mltrail("runs", "delete", "large-C", cwd=tmp_path)
    purged = _mltrail("gc", "--older-than", "0s", cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout == f"Purged run {second} ('large-C').\n"
    assert [r.info.run_id for r in client.search_runs(["0"], run_view_type="ALL")] == [
        first
    ]


@pytest.mark.slow
def test_experiments_delete_and_restore_in_processes(
    client: TrackingClient, tmp_path: Path
) -> None:
    experiment_id = client.create_experiment("churn")
    deleted = _mltrail("experiments", "delete", "churn", cwd=tmp_path)
    assert deleted.stdout == f"Deleted experiment {experiment_id} ('churn').\n"
    restored = _mltrail("experiments", "restore", experiment_id, cwd=tmp_path)
    assert restored.stdout == f"Restored experiment {experiment_id} ('churn').\n"
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--order-by", "test_accuracy"], "Error: invalid --order-by at position 0"),
        (
            ["--filter", "(" * 400 + "metrics.a > 1" + ")" * 400],
            "Error: invalid --filter at position 32: expected fewer nested",
        ),
        (["--filter", "NOT " * 400 + "metrics.a > 1"], "Error: invalid --filter"),
    ],
    ids=["bare-key", "400-parentheses", "400-nots"],
)
def test_bad_input_prints_an_error_not_a_traceback(
    tmp_path: Path, args: list[str], error: str
) -> None:
    result = _mltrail("runs", "list", *args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(error)
    assert "Traceback" not in result.stderr


SEARCH_SCRIPT = """
import mltrail
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

mltrail.sklearn.autolog()
X, y = load_iris(return_X_y=True)
with mltrail.start_run(run_name="search"):
    GridSearchCV(
        LogisticRegression(max_iter=300), {"C": [0.001, 10.0, 0.1]}, cv=3
    ).fit(X, y)
"""


@pytest.mark.slow
def test_an_autologged_search_lists_its_candidates_best_first(tmp_path: Path) -> None:
    script = tmp_path / "search.py"
    script.write_text(SEARCH_SCRIPT)
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, timeout=300, check=True)
    listed = _mltrail("runs", "list", "--json", cwd=tmp_path)
    runs = json.loads(listed.stdout)
    assert runs[0]["info"]["run_name"] == "search"
    ranks = [run["data"]["metrics"]["rank_test_score"] for run in runs[1:]]
    assert len(ranks) == 3
    assert ranks == sorted(ranks)
    assert runs[1]["data"]["params"]["C"] == "10.0"  # the best C on iris
    shown = json.loads(
        _mltrail("runs", "show", "search", "--json", cwd=tmp_path).stdout
    )
    assert [c["run_id"] for c in shown["children"]] == [
        run["info"]["run_id"] for run in runs[1:]
    ]
    table = _mltrail("runs", "list", cwd=tmp_path).stdout
    names = [run["info"]["run_name"] for run in runs[1:]]
    assert [f"├─ {names[0]}", f"├─ {names[1]}", f"└─ {names[2]}"] == [
        next(
            f"{glyph} {name}"
            for line in table.splitlines()
            if f"{glyph} {name}" in line
        )
        for glyph, name in zip(("├─", "├─", "└─"), names, strict=True)
    ]
