"""``mltrail runs compare``: runs side by side, the keys that differ marked."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mltrail._entities import Metric, Param
from mltrail._system_tags import GIT_COMMIT_TAG
from mltrail.cli import cli
from mltrail.tracking import TrackingClient

WIDE = {"COLUMNS": "200"}


@pytest.fixture
def pair(client: TrackingClient) -> tuple[str, str]:
    """Two runs that share ``penalty`` and differ in ``C`` and their metrics."""
    ids = []
    for name, C, accuracy, commit in (
        ("small-C", "0.1", 0.8, "abc"),
        ("large-C", "10", 0.9, "abc"),
    ):
        run_id = client.create_run("0", run_name=name).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("accuracy", accuracy, 0, 0), Metric("loss", 0.3, 0, 0)],
            params=[Param("C", C), Param("penalty", "l2")],
        )
        client.set_tag(run_id, GIT_COMMIT_TAG, commit)
        client.set_terminated(run_id)
        ids.append(run_id)
    client.set_tag(ids[0], "note", "first try")
    return ids[0], ids[1]


def _rows(document: dict[str, object], section: str) -> dict[str, dict[str, object]]:
    rows = document[section]
    assert isinstance(rows, list)
    return {row["key"]: row for row in rows}


def test_compare_json_lines_up_values_and_marks_differences(
    runner: CliRunner, pair: tuple[str, str]
) -> None:
    result = runner.invoke(cli, ["runs", "compare", "small-C", pair[1][:8], "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [run["run_id"] for run in document["runs"]] == list(pair)
    params = _rows(document, "params")
    assert params["C"] == {"key": "C", "values": ["0.1", "10"], "differs": True}
    assert params["penalty"]["differs"] is False
    metrics = _rows(document, "metrics")
    assert metrics["accuracy"]["values"] == [0.8, 0.9]
    assert metrics["loss"]["differs"] is False
    tags = _rows(document, "tags")
    assert tags["note"] == {
        "key": "note",
        "values": ["first try", None],
        "differs": True,
    }
    assert tags[GIT_COMMIT_TAG]["differs"] is False
    assert "mlflow.runName" not in tags
    assert _rows(document, "run")["status"]["values"] == ["FINISHED", "FINISHED"]


def test_compare_only_diff_keeps_the_differences(
    runner: CliRunner, pair: tuple[str, str]
) -> None:
    result = runner.invoke(cli, ["runs", "compare", *pair, "--only-diff", "--json"])
    document = json.loads(result.stdout)
    assert list(_rows(document, "params")) == ["C"]
    assert list(_rows(document, "metrics")) == ["accuracy"]
    assert all(
        row["differs"] for section in ("run", "tags") for row in document[section]
    )


def test_compare_table_marks_differing_rows(
    runner: CliRunner, pair: tuple[str, str]
) -> None:
    result = runner.invoke(cli, ["runs", "compare", *pair], env=WIDE)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Params (2, 1 differ)" in result.stdout
    assert "Metrics (2, 1 differ)" in result.stdout
    row_c = next(line for line in lines if "│ C " in line)
    row_penalty = next(line for line in lines if "penalty" in line)
    assert "≠" in row_c
    assert "0.1" in row_c
    assert "10" in row_c
    assert "≠" not in row_penalty
    header = next(line for line in lines if "small-C" in line)
    assert "large-C" in header


def test_compare_three_runs(
    runner: CliRunner, client: TrackingClient, pair: tuple[str, str]
) -> None:
    third = client.create_run("0", run_name="third").info.run_id
    result = runner.invoke(cli, ["runs", "compare", *pair, third, "--json"])
    params = _rows(json.loads(result.stdout), "params")
    assert params["penalty"] == {
        "key": "penalty",
        "values": ["l2", "l2", None],
        "differs": True,
    }


def test_compare_needs_two_runs(runner: CliRunner, pair: tuple[str, str]) -> None:
    result = runner.invoke(cli, ["runs", "compare", pair[0]])
    assert result.exit_code == 2
    assert "Give at least two runs to compare." in result.stderr


def test_compare_refuses_the_same_run_twice(
    runner: CliRunner, pair: tuple[str, str]
) -> None:
    result = runner.invoke(cli, ["runs", "compare", pair[0], "small-C"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: RUN must be a run not given before; got 'small-C'. "
        f"It is the same run as '{pair[0]}'; give each run once.\n"
    )


def test_compare_refuses_the_same_reference_twice(
    runner: CliRunner, pair: tuple[str, str]
) -> None:
    result = runner.invoke(cli, ["runs", "compare", "small-C", "small-C"])
    assert "It is the same run as 'small-C'; give each run once." in result.stderr


def test_compare_unknown_run_names_it(runner: CliRunner, pair: tuple[str, str]) -> None:
    result = runner.invoke(cli, ["runs", "compare", pair[0], "nope"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: run 'nope' does not exist.")
