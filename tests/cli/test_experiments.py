"""``mltrail experiments list``."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from mltrail._entities import Experiment
from mltrail.cli import cli
from mltrail.tracking import TrackingClient


def test_list_table_shows_each_experiment(
    runner: CliRunner, client: TrackingClient
) -> None:
    experiment_id = client.create_experiment("churn")
    result = runner.invoke(cli, ["experiments", "list"])
    assert result.exit_code == 0, result.output
    assert "churn" in result.stdout
    assert "Default" in result.stdout
    assert f"│ {experiment_id} " in result.stdout


def test_list_json_keys_are_experiment_fields(
    runner: CliRunner, client: TrackingClient
) -> None:
    client.create_experiment("churn")
    result = runner.invoke(cli, ["experiments", "list", "--json"])
    listed = json.loads(result.stdout)
    fields = {field.name for field in dataclasses.fields(Experiment)}
    assert [set(item) for item in listed] == [fields] * len(listed)
    assert "churn" in [item["name"] for item in listed]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("active", {"Default", "kept"}),
        ("deleted", {"gone"}),
        ("all", {"Default", "kept", "gone"}),
    ],
    ids=["active", "deleted", "all"],
)
def test_list_view_selects_lifecycle_stage(
    runner: CliRunner, client: TrackingClient, view: str, expected: set[str]
) -> None:
    client.create_experiment("kept")
    client.delete_experiment(client.create_experiment("gone"))
    result = runner.invoke(cli, ["experiments", "list", "--view", view, "--json"])
    assert {item["name"] for item in json.loads(result.stdout)} == expected


def test_list_follows_pages(
    runner: CliRunner, client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(3):
        client.create_experiment(f"e{index}")
    original = TrackingClient.search_experiments

    def one_per_page(self: TrackingClient, **kwargs: object) -> object:
        return original(self, max_results=1, **kwargs)  # type: ignore[arg-type]  # kwargs hold the page token

    monkeypatch.setattr(TrackingClient, "search_experiments", one_per_page)
    result = runner.invoke(cli, ["experiments", "list", "--json"])
    assert {item["name"] for item in json.loads(result.stdout)} == {
        "Default",
        "e0",
        "e1",
        "e2",
    }


def test_list_shows_names_verbatim_not_as_markup(
    runner: CliRunner, client: TrackingClient
) -> None:
    client.create_experiment("[bold]team[/bold]")
    result = runner.invoke(cli, ["experiments", "list"], env={"COLUMNS": "200"})
    assert "[bold]team[/bold]" in result.stdout
