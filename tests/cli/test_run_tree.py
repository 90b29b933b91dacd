"""``mltrail runs list``: children under their parent, best first, on every backend."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from mltrail._entities import Metric, Param
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.cli import _run_tree, cli
from mltrail.tracking import TrackingClient

WIDE = {"COLUMNS": "200"}


def _run(
    client: TrackingClient,
    name: str,
    start_time: int,
    *,
    parent: str | None = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
) -> str:
    tags = {PARENT_RUN_ID_TAG: parent} if parent else None
    run_id = client.create_run(
        "0", start_time=start_time, tags=tags, run_name=name
    ).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, start_time, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
    )
    client.set_terminated(run_id, end_time=start_time + 1000)
    return run_id


def _search(client: TrackingClient) -> dict[str, str]:
    """A search run with four candidates logged worst-first, and a lone run."""
    ids = {"solo": _run(client, "solo", 500, params={"C": "0.5"})}
    ids["search"] = _run(client, "search", 1000, metrics={"test_accuracy": 0.9})
    for rank, C in ((3, "0.01"), (1, "1"), (4, "0.001"), (2, "10")):
        ids[f"rank{rank}"] = _run(
            client,
            f"candidate-C{C}",
            2000 + rank,
            parent=ids["search"],
            metrics={"rank_test_score": rank, "mean_test_score": 1 - rank / 10},
            params={"C": C},
        )
    return ids


def _listed(runner: CliRunner, *args: str) -> list[str]:
    result = runner.invoke(cli, ["runs", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return [item["info"]["run_id"] for item in json.loads(result.stdout)]


def _names(runner: CliRunner, *args: str) -> list[str]:
    result = runner.invoke(cli, ["runs", "list", *args], env=WIDE)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "run_id" in line) + 2
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return [re.split(r"\s{3,}", line[13:])[0] for line in lines[start:end]]


def test_children_are_listed_under_their_parent_best_first(
    runner: CliRunner, backend: TrackingClient
) -> None:
    ids = _search(backend)
    expected = ["search", "rank1", "rank2", "rank3", "rank4", "solo"]
    assert _listed(runner) == [ids[key] for key in expected]
    assert _names(runner) == [
        "search",
        "├─ candidate-C1",
        "├─ candidate-C10",
        "├─ candidate-C0.01",
        "└─ candidate-C0.001",
        "solo",
    ]


def test_no_children_leaves_them_out(
    runner: CliRunner, backend: TrackingClient
) -> None:
    ids = _search(backend)
    assert _listed(runner, "--no-children") == [ids["search"], ids["solo"]]


def test_max_children_keeps_the_best_and_counts_the_rest(
    runner: CliRunner, backend: TrackingClient
) -> None:
    ids = _search(backend)
    listed = _listed(runner, "--max-children", "2")
    assert listed == [ids["search"], ids["rank1"], ids["rank2"], ids["solo"]]
    assert "└─ … 2 more (raise --max-children)" in _names(runner, "--max-children", "2")


def test_children_that_match_show_their_parent_as_context(
    runner: CliRunner, backend: TrackingClient
) -> None:
    ids = _search(backend)
    selected = ["--filter", "metrics.rank_test_score <= 2"]
    assert _listed(runner, *selected) == [ids["rank1"], ids["rank2"]]
    result = runner.invoke(cli, ["runs", "list", *selected], env=WIDE)
    assert "Runs (2)" in result.stdout
    assert "Dim runs do not match; they are the parents of runs that do." in (
        result.stdout
    )
    assert _names(runner, *selected) == [
        "search",
        "├─ candidate-C1",
        "└─ candidate-C10",
    ]


def test_children_of_a_parent_cut_by_max_are_left_out(
    runner: CliRunner, backend: TrackingClient
) -> None:
    ids = _search(backend)
    oldest_first = ["--order-by", "attributes.start_time", "--max", "1"]
    assert _listed(runner, *oldest_first) == [ids["solo"]]
    assert _listed(runner, "--max", "1") == [
        ids[key] for key in ("search", "rank1", "rank2", "rank3", "rank4")
    ]


def test_order_by_a_child_key_orders_the_children(
    runner: CliRunner, backend: TrackingClient
) -> None:
    ids = _search(backend)
    listed = _listed(runner, "--order-by", "params.C DESC")
    # Strings sort as strings: "10" > "1" > "0.5" > "0.01" > "0.001".
    children = [ids[key] for key in ("rank2", "rank1", "rank3", "rank4")]
    assert listed[listed.index(ids["search"]) + 1 :][:4] == children


def test_grandchildren_nest_two_levels(
    runner: CliRunner, backend: TrackingClient
) -> None:
    top = _run(backend, "top", 100)
    middle = _run(backend, "middle", 200, parent=top)
    _run(backend, "bottom", 300, parent=middle)
    _run(backend, "sibling", 250, parent=top)
    assert _names(runner) == ["top", "├─ middle", "│  └─ bottom", "└─ sibling"]


def test_child_of_a_missing_parent_stands_alone(
    runner: CliRunner, backend: TrackingClient
) -> None:
    orphan = _run(backend, "orphan", 100, parent="f" * 32)
    assert _listed(runner) == [orphan]
    assert _names(runner) == ["orphan"]


def test_view_lists_deleted_runs(runner: CliRunner, backend: TrackingClient) -> None:
    ids = _search(backend)
    backend.delete_run(ids["solo"])
    assert ids["solo"] not in _listed(runner)
    assert _listed(runner, "--view", "deleted") == [ids["solo"]]
    assert set(_listed(runner, "--view", "all")) == set(ids.values())


def test_many_parents_are_searched_in_chunks(
    runner: CliRunner, backend: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(backend, "first", 100)
    second = _run(backend, "second", 200)
    children = [_run(backend, f"child-{p}", 300, parent=p) for p in (first, second)]
    monkeypatch.setattr(_run_tree, "IN_LIST_SIZE", 1)
    assert _listed(runner) == [second, children[1], first, children[0]]
