"""``mltrail runs list`` and ``mltrail runs show``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mltrail._entities import Metric, Param
from mltrail.cli import cli
from mltrail.tracking import TrackingClient
from tests.cli.conftest import Logged

WIDE = {"COLUMNS": "200"}


def _listed_ids(runner: CliRunner, *args: str) -> list[str]:
    result = runner.invoke(cli, ["runs", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return [item["info"]["run_id"] for item in json.loads(result.stdout)]


def test_list_json_has_info_data_and_inputs(runner: CliRunner, logged: Logged) -> None:
    result = runner.invoke(cli, ["runs", "list", "--json"])
    listed = {item["info"]["run_id"]: item for item in json.loads(result.stdout)}
    good = listed[logged.good_run_id]
    assert set(good) == {"info", "data", "inputs"}
    assert good["info"]["experiment_id"] == logged.experiment_id
    assert good["info"]["run_name"] == "good-run"
    assert good["data"]["params"] == {"C": "1.0", "penalty": "l2"}
    assert good["data"]["metrics"]["loss"] == 0.2


def test_list_covers_every_active_experiment(
    runner: CliRunner, logged: Logged, client: TrackingClient
) -> None:
    other = client.create_run(client.create_experiment("other")).info.run_id
    assert set(_listed_ids(runner)) == {logged.good_run_id, logged.bad_run_id, other}


def test_list_experiment_option_restricts_runs(
    runner: CliRunner, logged: Logged, client: TrackingClient
) -> None:
    client.create_run(client.create_experiment("other"))
    listed = _listed_ids(runner, "--experiment", "churn")
    assert set(listed) == {logged.good_run_id, logged.bad_run_id}


def test_list_filter_selects_matching_runs(runner: CliRunner, logged: Logged) -> None:
    assert _listed_ids(runner, "--filter", "metrics.accuracy > 0.9") == [
        logged.good_run_id
    ]


@pytest.mark.parametrize(
    ("order", "first"),
    [("ASC", "bad"), ("DESC", "good")],
    ids=["ascending", "descending"],
)
def test_list_order_by_sorts_runs(
    runner: CliRunner, logged: Logged, order: str, first: str
) -> None:
    listed = _listed_ids(runner, "--order-by", f"metrics.accuracy {order}")
    expected = logged.bad_run_id if first == "bad" else logged.good_run_id
    assert listed[0] == expected


def test_list_max_limits_the_count(runner: CliRunner, logged: Logged) -> None:
    assert len(_listed_ids(runner, "--max", "1")) == 1


def test_list_table_shows_short_ids_names_and_sorted_on_metric_first(
    runner: CliRunner, logged: Logged
) -> None:
    result = runner.invoke(
        cli, ["runs", "list", "--order-by", "metrics.loss DESC"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert logged.good_run_id[:8] in result.stdout
    assert logged.good_run_id not in result.stdout  # 8 characters are enough
    assert "good-run" in result.stdout
    header = next(line for line in result.stdout.splitlines() if "run_id" in line)
    assert header.index("loss") < header.index("accuracy")


def test_list_table_names_experiments_when_runs_span_several(
    runner: CliRunner, logged: Logged, client: TrackingClient
) -> None:
    client.create_run(client.create_experiment("other-team"))
    result = runner.invoke(cli, ["runs", "list"], env=WIDE)
    header = next(line for line in result.stdout.splitlines() if "run_id" in line)
    assert "experiment" in header
    assert "other-team" in result.stdout
    assert "churn" in result.stdout


def test_list_table_drops_data_columns_on_narrow_terminals(
    runner: CliRunner, logged: Logged
) -> None:
    wide = runner.invoke(cli, ["runs", "list"], env=WIDE).stdout
    narrow = runner.invoke(cli, ["runs", "list"], env={"COLUMNS": "70"}).stdout
    assert "accuracy" in wide
    assert "accuracy" not in narrow
    assert logged.good_run_id[:8] in narrow
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 70


@pytest.mark.parametrize(
    "order_by",
    ["params.C ASC", "metrics.`loss` DESC", "attributes.start_time"],
    ids=["param", "quoted-metric", "attribute"],
)
def test_list_table_accepts_any_order_by(
    runner: CliRunner, logged: Logged, order_by: str
) -> None:
    result = runner.invoke(cli, ["runs", "list", "--order-by", order_by], env=WIDE)
    assert result.exit_code == 0, result.output
    assert logged.bad_run_id[:8] in result.stdout


def test_list_table_says_when_more_runs_match(
    runner: CliRunner, logged: Logged
) -> None:
    result = runner.invoke(cli, ["runs", "list", "--max", "1"], env=WIDE)
    assert "More runs match; raise --max (now 1)." in result.stdout


def test_list_unknown_experiment_exits_1(runner: CliRunner, logged: Logged) -> None:
    result = runner.invoke(cli, ["runs", "list", "--experiment", "nope"])
    assert result.exit_code == 1
    assert "Error: experiment 'nope' does not exist." in result.stderr


def test_list_bad_filter_exits_1_with_position(
    runner: CliRunner, logged: Logged
) -> None:
    result = runner.invoke(cli, ["runs", "list", "--filter", "metrics.accuracy >"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid --filter at position 18")


def test_show_json_has_run_experiment_and_artifacts(
    runner: CliRunner, logged: Logged
) -> None:
    result = runner.invoke(cli, ["runs", "show", logged.good_run_id, "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["info"]["run_id"] == logged.good_run_id
    assert shown["experiment"]["name"] == "churn"
    assert shown["data"]["tags"]["team"] == "risk"
    artifacts = {item["path"]: item for item in shown["artifacts"]}
    assert artifacts["model"]["is_dir"] is True
    assert artifacts["model/MLmodel"]["file_size"] == len("flavors: {}\n")
    assert artifacts["notes.txt"]["file_size"] == 2048
    dataset = shown["inputs"]["dataset_inputs"][0]
    assert dataset["dataset"]["digest"] == "3f2a9c1d"


def test_show_json_writes_nan_as_a_string(runner: CliRunner, logged: Logged) -> None:
    result = runner.invoke(cli, ["runs", "show", logged.good_run_id, "--json"])
    assert '"diverged": "NaN"' in result.stdout


def test_show_table_has_every_section(runner: CliRunner, logged: Logged) -> None:
    result = runner.invoke(cli, ["runs", "show", logged.good_run_id], env=WIDE)
    assert result.exit_code == 0, result.output
    for title in (
        "Run",
        "Params (2)",
        "Metrics (3)",
        "Tags (1)",
        "System tags",
        "Datasets (1)",
    ):
        assert title in result.stdout
    for text in (
        "FINISHED",
        "churn",
        "penalty",
        "risk",
        "wine-train",
        "train",
        "mlflow.runName",
    ):
        assert text in result.stdout


def test_show_table_draws_artifact_tree_with_sizes(
    runner: CliRunner, logged: Logged
) -> None:
    result = runner.invoke(cli, ["runs", "show", logged.good_run_id], env=WIDE)
    lines = result.stdout.splitlines()
    model = next(i for i, line in enumerate(lines) if "model/" in line)
    assert "MLmodel" in lines[model + 1]
    assert "12 B" in lines[model + 1]
    assert any("notes.txt" in line and "2.0 KB" in line for line in lines)


def test_show_unknown_run_exits_1(runner: CliRunner, logged: Logged) -> None:
    result = runner.invoke(cli, ["runs", "show", "f" * 32])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: run '{'f' * 32}' does not exist.")


def test_max_is_bounded_by_the_store_page_limit(runner: CliRunner) -> None:
    from mltrail.cli import _runs
    from mltrail.store import _values

    assert _runs.MAX_RESULTS_LIMIT == _values.MAX_RESULTS_LIMIT
    result = runner.invoke(cli, ["runs", "list", "--max", "50001"])
    assert result.exit_code == 2
    assert "50001 is not in the range 1<=x<=50000" in result.stderr


def test_show_lists_a_searchs_candidates_best_first(
    runner: CliRunner, client: TrackingClient
) -> None:
    parent = client.create_run("0", run_name="search").info.run_id
    for rank, C in ((2, "10"), (1, "1"), (3, "0.1")):
        child = client.create_run(
            "0",
            run_name=f"candidate-{C}",
            tags={"mlflow.parentRunId": parent},
        ).info.run_id
        client.log_batch(
            child,
            metrics=[Metric("rank_test_score", rank, 0, 0)],
            params=[Param("C", C), Param("solver", "lbfgs")],
        )
    result = runner.invoke(cli, ["runs", "show", "search", "--json"])
    document = json.loads(result.stdout)
    assert [c["run_name"] for c in document["children"]] == [
        "candidate-1",
        "candidate-10",
        "candidate-0.1",
    ]
    assert document["child_columns"] == ["params.C", "metrics.rank_test_score"]
    assert document["children"][0]["values"] == {
        "params.C": "1",
        "metrics.rank_test_score": 1.0,
    }
    table = runner.invoke(cli, ["runs", "show", "search"], env=WIDE).stdout
    assert "Child runs (3, best first)" in table
    lines = [line for line in table.splitlines() if "candidate-" in line]
    assert ["candidate-1 " in lines[0], "candidate-10" in lines[1]] == [True, True]


def test_show_of_a_run_without_children_has_no_child_table(
    runner: CliRunner, logged: Logged
) -> None:
    result = runner.invoke(cli, ["runs", "show", logged.good_run_id, "--json"])
    document = json.loads(result.stdout)
    assert (document["children"], document["child_columns"]) == ([], [])
    table = runner.invoke(cli, ["runs", "show", logged.good_run_id], env=WIDE)
    assert "Child runs" not in table.stdout
