"""Errors speak command line: options and commands named, prefixes suggested."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mltrail._entities import Metric, Param
from mltrail._errors import NotFoundError
from mltrail.cli import cli
from mltrail.cli._hints import message_for
from mltrail.tracking import TrackingClient


@pytest.fixture
def scored(client: TrackingClient) -> str:
    run_id = client.create_run("0").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("test_accuracy", 0.9, 0, 0)],
        params=[Param("max_depth", "8")],
    )
    client.set_tag(run_id, "team", "risk")
    return run_id


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (
            ["--order-by", "test_accuracy"],
            "Did you mean --order-by 'metrics.test_accuracy'?",
        ),
        (
            ["--order-by", "max_depth DESC"],
            "Did you mean --order-by 'params.max_depth DESC'?",
        ),
        (
            ["--filter", "team = 'risk'"],
            "Did you mean --filter \"tags.team = 'risk'\"?",
        ),
        (
            ["--filter", "params.max_depth = '8' and test_accuracy > 0.5"],
            "Did you mean --filter \"params.max_depth = '8' and "
            'metrics.test_accuracy > 0.5"?',
        ),
        (
            ["--order-by", "unheard_of"],
            "Did you mean --order-by 'metrics.unheard_of'?",
        ),
    ],
    ids=["metric", "param-with-direction", "tag", "second-condition", "unknown-key"],
)
def test_bare_key_gets_its_prefix_suggested(
    runner: CliRunner, scored: str, args: list[str], suggestion: str
) -> None:
    result = runner.invoke(cli, ["runs", "list", *args])
    assert result.exit_code == 1
    option = args[0]
    assert result.stderr.startswith(f"Error: invalid {option} at position")
    assert suggestion in result.stderr
    assert result.stderr.rstrip().endswith(
        "Keys need a prefix: metrics., params., tags. or attributes."
    )


def test_other_filter_errors_name_the_option_without_a_suggestion(
    runner: CliRunner, scored: str
) -> None:
    result = runner.invoke(cli, ["runs", "list", "--order-by", "metrics.x SIDEWAYS"])
    assert result.stderr == (
        "Error: invalid --order-by at position 10: expected ASC, DESC or the end of "
        "the clause.\n    metrics.x SIDEWAYS\n              ^\n"
    )


def test_missing_run_points_to_the_list_command(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["runs", "show", "0" * 32])
    assert result.stderr == (
        f"Error: run '{'0' * 32}' does not exist. List runs with `mltrail runs list` "
        "(deleted ones with `--view all`).\n"
    )
    assert "()" not in result.stderr


def test_a_neutral_hint_is_kept_before_the_command_hint() -> None:
    message = message_for(NotFoundError("run", "zz", "Give a run id."), None)
    assert message == (
        "run 'zz' does not exist. Give a run id. List runs with `mltrail runs list` "
        "(deleted ones with `--view all`)."
    )


def test_missing_experiment_points_to_the_list_command() -> None:
    error = NotFoundError("experiment", "7", "See get_experiment().")
    assert message_for(error, None) == (
        "experiment '7' does not exist. List experiments with "
        "`mltrail experiments list`."
    )


def test_other_errors_keep_their_message_escaped() -> None:
    error = NotFoundError("artifact", "a\x1b[2Jb", "Check the path.")
    assert message_for(error, None) == (
        "artifact 'a\\x1b[2Jb' does not exist. Check the path."
    )


@pytest.mark.parametrize(
    ("levels", "position"), [(400, 32), (32, 31)], ids=["400-deep", "at-the-limit"]
)
def test_a_deeply_nested_filter_is_an_error_in_the_users_text(
    runner: CliRunner, scored: str, levels: int, position: int
) -> None:
    # runs list adds one level of its own: the user's text gets one level less,
    # and the error still points into it.
    text = "(" * levels + "metrics.test_accuracy > 0.5" + ")" * levels
    result = runner.invoke(cli, ["runs", "list", "--filter", text])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: invalid --filter at position {position}: expected fewer nested "
        "NOTs and parentheses.\n"
    )
    assert result.stderr.splitlines()[1] == f"    {text}"


def test_a_filter_cannot_close_the_parentheses_the_command_adds(
    runner: CliRunner, scored: str
) -> None:
    result = runner.invoke(
        cli, ["runs", "list", "--filter", "metrics.test_accuracy > 2) OR (1 = 1"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: invalid --filter at position 25: expected AND, OR or the end"
    )
