"""``mltrail runs``: search runs and show one run in full."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import click
from rich import box
from rich.table import Table
from rich.text import Text

from mltrail._entities import FileInfo, Run, ViewType
from mltrail._errors import NotFoundError
from mltrail.cli import _render, _run_view
from mltrail.cli._experiments import search_all_experiments

if TYPE_CHECKING:
    from mltrail.cli._main import Context

MAX_METRIC_COLUMNS = 3
WIDTH_WITHOUT_METRICS = 90  # run_id, run_name, status, started, duration
COLUMN_WIDTH = 12
_METRIC_CLAUSE = re.compile(r'\s*metrics\.(`[^`]+`|"[^"]+"|\S+)')


@click.group()
def runs() -> None:
    """Search runs and show one run's params, metrics, tags and artifacts."""


@runs.command("list")
@click.option(
    "--experiment",
    "experiment_name",
    metavar="NAME",
    help="Only runs of the experiment with this name [default: every active one].",
)
@click.option(
    "--filter",
    "filter_string",
    default="",
    metavar="FILTER",
    help="A search filter, e.g. \"metrics.accuracy > 0.9 and params.C = '1.0'\".",
)
@click.option(
    "--order-by",
    multiple=True,
    metavar="CLAUSE",
    help="Sort key such as 'metrics.accuracy DESC'; repeat it for more keys.",
)
@click.option(
    "--max",
    "max_results",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Show at most this many runs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_runs(
    obj: Context,
    experiment_name: str | None,
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
    as_json: bool,
) -> None:
    """List the runs that match a filter, newest first unless --order-by says."""
    names = _experiment_names(obj, experiment_name)
    found = obj.client.search_runs(
        list(names),
        filter_string=filter_string,
        order_by=list(order_by),
        max_results=max_results,
    )
    if as_json:
        _render.echo_json([_render.run_to_dict(run) for run in found])
        return
    console = _render.make_console()
    # Metric columns only as the terminal's width allows; run ids never break.
    show_experiment = len({run.info.experiment_id for run in found}) > 1
    used = WIDTH_WITHOUT_METRICS + (COLUMN_WIDTH if show_experiment else 0)
    room = max(0, (console.width - used) // COLUMN_WIDTH)
    keys = _metric_columns(found, order_by)[:room]
    table = Table(
        title=f"Runs ({len(found)})", title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("run_id", no_wrap=True)
    table.add_column("run_name", overflow="fold")
    if show_experiment:
        table.add_column("experiment", overflow="fold")
    for column in ("status", "started", "duration", *keys):
        table.add_column(column, overflow="fold")
    for run in found:
        info = run.info
        experiment = names.get(info.experiment_id, info.experiment_id)
        table.add_row(
            info.run_id,
            Text(info.run_name),
            *([Text(experiment)] if show_experiment else []),
            _render.status_text(info.status),
            _render.format_time(info.start_time),
            _render.format_duration(info.start_time, info.end_time),
            *(_metric_cell(run, key) for key in keys),
        )
    console.print(table)
    if found.token:
        console.print(Text(f"More runs match; raise --max (now {max_results}).", "dim"))


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_obj
def show_run(obj: Context, run_id: str, as_json: bool) -> None:
    """Show RUN_ID: params, metrics by dataset, tags, datasets, plots, code, artifacts.

    Metrics are grouped into training, each held-out dataset (test_*, <name>_*),
    cross-validation and the rest; datasets show their profile and split lineage;
    plots pair each PNG with its JSON; code shows the source and git state.
    """
    client = obj.client
    run = client.get_run(run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    artifacts = (item for item, _ in _walk_artifacts(obj, run_id, None, 0))
    document = _run_view.run_document(run, experiment, artifacts)
    if as_json:
        _render.echo_json(document)
        return
    _render.make_console().print(_run_view.run_tables(document))


def _experiment_names(obj: Context, experiment_name: str | None) -> dict[str, str]:
    """Return ``{experiment_id: name}`` of the experiments to search."""
    client = obj.client
    if experiment_name is not None:
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            hint = "See the names with `mltrail experiments list`."
            raise NotFoundError("experiment", experiment_name, hint)
        return {experiment.experiment_id: experiment.name}
    active = search_all_experiments(obj, ViewType.ACTIVE_ONLY)
    return {item.experiment_id: item.name for item in active}


def _metric_columns(found: Sequence[Run], order_by: Sequence[str]) -> list[str]:
    """Return the metrics to show as columns: those sorted on first, then by name."""
    keys: list[str] = []
    for clause in order_by:
        match = _METRIC_CLAUSE.match(clause)
        if match:
            keys.append(match.group(1).strip('`"'))
    present = sorted({key for run in found for key in run.data.metrics})
    keys.extend(key for key in present if key not in keys)
    return keys[:MAX_METRIC_COLUMNS]


def _metric_cell(run: Run, key: str) -> str:
    """Return the latest value of a metric, or an empty cell."""
    value = run.data.metrics.get(key)
    return "" if value is None else _render.format_value(value)


def _walk_artifacts(
    obj: Context, run_id: str, path: str | None, depth: int
) -> Iterator[tuple[FileInfo, int]]:
    """Yield ``(file, depth)`` for every artifact of the run, depth first."""
    for item in sorted(obj.client.list_artifacts(run_id, path), key=lambda f: f.path):
        yield item, depth
        if item.is_dir:
            yield from _walk_artifacts(obj, run_id, item.path, depth + 1)
