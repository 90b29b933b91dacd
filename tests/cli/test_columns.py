"""``mltrail runs list`` columns: chosen from what differs, or named by --columns."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mltrail._entities import Metric, Param, Run, RunData, RunInfo, RunInputs
from mltrail.cli import cli
from mltrail.cli._columns import Column, default_columns, headers, order_columns
from mltrail.tracking import TrackingClient

WIDE = {"COLUMNS": "250"}


def _logged(client: TrackingClient, params: dict[str, str], **metrics: float) -> str:
    run_id = client.create_run("0").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
    )
    return run_id


def _run(params: dict[str, str], metrics: dict[str, float]) -> Run:
    info = RunInfo("a" * 32, "r", "0", "ada", "FINISHED", 0, 1, "runs/a", "active")
    return Run(info, RunData(metrics=metrics, params=params), RunInputs())


def _header(runner: CliRunner, *args: str) -> list[str]:
    result = runner.invoke(cli, ["runs", "list", *args], env=WIDE)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "run_id" in line)
    return line.split()


def test_default_columns_are_what_differs(
    runner: CliRunner, client: TrackingClient
) -> None:
    for C, accuracy in (("0.1", 0.8), ("1.0", 0.9)):
        _logged(
            client,
            {"C": C, "solver": "lbfgs", "max_iter": "100"},
            training_accuracy=0.99,
            test_accuracy=accuracy,
            training_score=accuracy + 0.05,
        )
    header = _header(runner)
    assert header[header.index("duration") + 1 :] == [
        "C",
        "test_accuracy",
        "training_score",
    ]


def test_metrics_rank_held_out_first_and_detail_last() -> None:
    keys = [
        "split0_test_score",
        "training_f1",
        "cv_accuracy_mean",
        "cv_accuracy_fold",
        "custom",
        "test_f1",
        "mean_fit_time",
        "rank_test_score",
        "std_test_score",
        "mean_test_score",
    ]
    runs = [_run({}, {k: float(i) for k in keys}) for i in range(2)]
    assert [c.key for c in default_columns(runs, [])] == [
        "mean_test_score",
        "test_f1",
        "cv_accuracy_mean",
        "rank_test_score",
        "custom",
        "training_f1",
        "cv_accuracy_fold",
        "mean_fit_time",
        "split0_test_score",
        "std_test_score",
    ]


def test_a_key_that_differs_only_by_presence_is_left_out() -> None:
    runs = [_run({"C": "1", "tol": "0.1"}, {}), _run({"C": "2"}, {})]
    assert default_columns(runs, []) == [Column("params", "C")]


def test_nan_equals_nan_when_choosing_columns() -> None:
    runs = [_run({}, {"loss": float("nan")}), _run({}, {"loss": float("nan")})]
    assert default_columns(runs, []) == []


def test_a_single_run_shows_its_metrics() -> None:
    run = _run({"C": "1"}, {"training_score": 0.9, "test_accuracy": 0.8})
    assert [c.key for c in default_columns([run], [])] == [
        "test_accuracy",
        "training_score",
    ]


def test_order_by_keys_lead_the_columns() -> None:
    runs = [_run({"C": str(i)}, {"b": i, "a": -i}) for i in range(2)]
    first = order_columns(["metrics.`b` DESC", "attributes.start_time", "tags.t"])
    assert first == [Column("metrics", "b"), Column("tags", "t")]
    assert [c.name for c in default_columns(runs, first)][:3] == [
        "metrics.b",
        "tags.t",
        "params.C",
    ]


def test_headers_are_prefixed_only_where_keys_clash() -> None:
    columns = [Column("params", "C"), Column("metrics", "C"), Column("tags", "t")]
    assert headers(columns) == ["params.C", "metrics.C", "t"]


def test_columns_option_names_params_metrics_and_tags(
    runner: CliRunner, client: TrackingClient
) -> None:
    run_id = _logged(client, {"C": "1.0"}, test_accuracy=0.9, loss=0.1)
    client.set_tag(run_id, "team", "risk")
    header = _header(runner, "--columns", "tags.team,loss", "--columns", "params.C")
    assert header[header.index("duration") + 1 :] == ["team", "loss", "C"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("accuracy", "Did you mean metrics.test_accuracy?"),
        ("metrics.C", "must be a key that a listed run has in its metrics"),
        ("zzz", "Write params.<key>, metrics.<key> or tags.<key>"),
        ("both", "It is a key of several kinds; write 'params.both' or 'metrics"),
    ],
    ids=["close-key", "wrong-kind", "unknown", "ambiguous"],
)
def test_columns_option_rejects_what_no_run_has(
    runner: CliRunner, client: TrackingClient, spec: str, message: str
) -> None:
    _logged(client, {"C": "1.0", "both": "x"}, test_accuracy=0.9, both=1.0)
    result = runner.invoke(cli, ["runs", "list", "--columns", spec])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --columns entry must be")
    assert message in result.stderr


def test_columns_option_with_no_runs_lists_nothing(
    runner: CliRunner, client: TrackingClient
) -> None:
    result = runner.invoke(cli, ["runs", "list", "--columns", "metrics.x,,"])
    assert result.exit_code == 0, result.output
    assert "Runs (0)" in result.stdout
