"""``mltrail runs``: list runs, show one in full, delete and restore them.

``runs compare`` is in ``_compare`` and ``runs render`` in ``_plots``.

Every command that takes a run accepts its id, a unique prefix of the id (tables
show the first 8 characters) or its name: ``TrackingClient.resolve_run``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import click
from rich import box
from rich.table import Table
from rich.text import Text

from mltrail._entities import FileInfo, Run, ViewType
from mltrail._errors import NotFoundError
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.cli import _render, _run_view
from mltrail.cli._columns import (
    Column,
    default_columns,
    headers,
    order_columns,
    parse_columns,
)
from mltrail.cli._compare import compare_runs
from mltrail.cli._experiments import search_all_experiments
from mltrail.cli._options import (
    VIEWS,
    filter_option,
    json_option,
    order_by_option,
    view_option,
)
from mltrail.cli._plots import render_plots
from mltrail.cli._run_tree import Node, RunTree, list_run_tree, wrap

if TYPE_CHECKING:
    from mltrail.cli._main import Context

SHORT_ID_LENGTH = 8
# The store's page limit (store/_values.py), repeated so that --help loads no
# SQLAlchemy; tests/cli/test_runs.py checks that they agree.
MAX_RESULTS_LIMIT = 50_000
CELL_PADDING = 3  # a space on each side and the column separator
MAX_AUTO_COLUMNS = 8
MIN_NAME_WIDTH = 16
NAME_BUDGET = 20
TABLE_EDGES = 2
MIN_VALUE_WIDTH = 10
LONG_TIME_FORMAT = "%Y-%m-%d %H:%M"
SHORT_TIME_FORMAT = "%b %d %H:%M"
_BRANCH = ("├─ ", "└─ ")
_TRUNK = ("│  ", "   ")


@click.group()
def runs() -> None:
    """List, show, compare, delete and restore runs; draw their plots again.

    RUN is a run id, a unique prefix of one (tables show 8 characters) or a run
    name.
    """


runs.add_command(compare_runs)
runs.add_command(render_plots)


@runs.command("list")
@click.option(
    "--experiment",
    "experiment_name",
    metavar="NAME",
    help="Only runs of the experiment with this name [default: every active one].",
)
@filter_option
@order_by_option
@click.option(
    "--columns",
    multiple=True,
    metavar="KEYS",
    help=(
        "Columns to show, comma-separated: params.C, metrics.test_accuracy, "
        "tags.team, or a bare key [default: what differs between the runs]."
    ),
)
@view_option("runs")
@click.option(
    "--no-children",
    "children",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Leave out child runs (a search's candidates, nested runs).",
)
@click.option(
    "--max",
    "max_results",
    type=click.IntRange(min=1, max=MAX_RESULTS_LIMIT),
    default=100,
    show_default=True,
    help="Show at most this many top-level runs.",
)
@click.option(
    "--max-children",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Show at most this many children under each run, best first.",
)
@json_option
@click.pass_obj
def list_runs(
    obj: Context,
    experiment_name: str | None,
    filter_string: str,
    order_by: tuple[str, ...],
    columns: tuple[str, ...],
    view: str,
    children: bool,
    max_results: int,
    max_children: int,
    as_json: bool,
) -> None:
    """List runs, newest first unless --order-by says, children under their parent.

    A search's candidates are listed under the search's run, best first. Columns
    show the params and metrics that differ between the listed runs, as many as
    the terminal's width allows; --columns picks them instead.
    """
    names = _experiment_names(obj, experiment_name, VIEWS[view])
    obj.remember_sent("--filter", filter_string, wrap(filter_string), offset=1)
    tree = list_run_tree(
        obj.client,
        list(names),
        filter_string=filter_string,
        view=VIEWS[view],
        order_by=order_by,
        max_results=max_results,
        children=children,
        max_children=max_children,
    )
    found = tree.matching_runs()
    chosen = parse_columns(columns, found) if columns else None
    if as_json:
        _render.echo_json([_render.run_to_dict(run) for run in found])
        return
    console = _render.make_console()
    console.print(_runs_table(tree, names, chosen, order_by, console.width))
    notes = []
    if tree.has_more:
        notes.append(f"More runs match; raise --max (now {max_results}).")
    if any(not node.is_match for node, _ in tree.walk()):
        notes.append("Dim runs do not match; they are the parents of runs that do.")
    for note in notes:
        console.print(Text(note, "dim"))


def _runs_table(
    tree: RunTree,
    names: dict[str, str],
    chosen: list[Column] | None,
    order_by: Sequence[str],
    width: int,
) -> Table:
    """Draw the listing, one line per run, within ``width`` characters.

    Ids, statuses, times and durations stay whole; names end in "…" where the
    data columns need the room (never below a readable width). Without
    --columns, data columns are added, most telling first, while they fit.
    """
    rows = tree.walk()
    found = [node.run for node, _ in rows]
    layout = _started_layout(found)
    show_experiment = len({run.info.experiment_id for run in found}) > 1
    fixed = {
        "run_id": [run.info.run_id[:SHORT_ID_LENGTH] for run in found],
        "status": [run.info.status for run in found],
        "started": [_render.format_time(r.info.start_time, layout) for r in found],
        "duration": [
            _render.format_duration(r.info.start_time, r.info.end_time) for r in found
        ],
    }
    flexible = {"run_name": [_name(node, flags) for node, flags in rows]}
    if show_experiment:
        flexible["experiment"] = [names.get(r.info.experiment_id, "") for r in found]
    used = TABLE_EDGES + sum(_width(h, cells) for h, cells in fixed.items())
    shrunk = {h: [c[:NAME_BUDGET] for c in cells] for h, cells in flexible.items()}
    if chosen is None:
        room = width - used - sum(_width(h, cells) for h, cells in shrunk.items())
        candidates = default_columns(found, order_columns(order_by))
        chosen = _fit(candidates, found, room)
    used += sum(
        _width(column.key, [column.cell(r) for r in found]) for column in chosen
    )
    # What is left goes to the names, shared in proportion to their length.
    left = width - used - CELL_PADDING * len(flexible)
    wanted = {h: max(map(len, [h, *cells])) for h, cells in flexible.items()}
    total = sum(wanted.values())
    table = Table(
        title=f"Runs ({len(tree.matching_runs())})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for header in ("run_id", "run_name", "status", "started", "duration"):
        if header in flexible:
            share = max(MIN_NAME_WIDTH, left * wanted[header] // max(total, 1))
            table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=share)
        else:
            table.add_column(header, no_wrap=True)
    if show_experiment:
        share = max(MIN_NAME_WIDTH, left * wanted["experiment"] // max(total, 1))
        table.add_column(
            "experiment", no_wrap=True, overflow="ellipsis", max_width=share
        )
    for header in headers(chosen):
        table.add_column(
            _render.text(header),
            no_wrap=True,
            overflow="ellipsis",
            min_width=min(len(header), MIN_VALUE_WIDTH),
        )
    for node, flags in rows:
        _add_row(table, node, flags, chosen, layout, names if show_experiment else None)
    return table


def _started_layout(found: Sequence[Run]) -> str:
    """Return the time layout: without the year when every run started this year."""
    this_year = datetime.date.today().year
    years = {
        datetime.datetime.fromtimestamp(run.info.start_time / 1000).year
        for run in found
    }
    return SHORT_TIME_FORMAT if years <= {this_year} else LONG_TIME_FORMAT


def _add_row(
    table: Table,
    node: Node,
    flags: tuple[bool, ...],
    columns: Sequence[Column],
    layout: str,
    names: dict[str, str] | None,
) -> None:
    info = node.run.info
    style = "" if node.is_match else "dim"
    table.add_row(
        info.run_id[:SHORT_ID_LENGTH],
        _render.text(_name(node, flags)),
        _render.status_text(info.status),
        _render.format_time(info.start_time, layout),
        _render.format_duration(info.start_time, info.end_time),
        *([_render.text(names.get(info.experiment_id, ""))] if names else []),
        *(_render.text(column.cell(node.run)) for column in columns),
        style=style,
    )
    hidden = node.hidden_children
    if hidden or (node.has_more_children and node.children):
        more = f"{hidden}{'+' if node.has_more_children else ''}"
        prefix = _prefix((*flags, True))
        table.add_row(
            "",
            Text(f"{prefix}… {more} more (raise --max-children)", "dim"),
        )


def _prefix(flags: tuple[bool, ...]) -> str:
    """Return the tree guides for a row whose ancestors' last flags are ``flags``."""
    if len(flags) <= 1:
        return ""
    guides = "".join(_TRUNK[last] for last in flags[1:-1])
    return guides + _BRANCH[flags[-1]]


def _name(node: Node, flags: tuple[bool, ...]) -> str:
    return _prefix(flags) + node.run.info.run_name


def _width(header: str, cells: Sequence[str]) -> int:
    """Return the characters a column takes: its widest cell, and padding."""
    return max(map(len, [header, *cells])) + CELL_PADDING


def _fit(candidates: Sequence[Column], found: Sequence[Run], room: int) -> list[Column]:
    """Keep the leading candidates that fit in ``room`` characters."""
    kept: list[Column] = []
    for column in candidates[:MAX_AUTO_COLUMNS]:
        needed = _width(column.key, [column.cell(run) for run in found])
        if needed > room:
            break
        kept.append(column)
        room -= needed
    return kept


@runs.command("show")
@click.argument("run")
@json_option
@click.pass_obj
def show_run(obj: Context, run: str, as_json: bool) -> None:
    """Show RUN: params, metrics by dataset, tags, datasets, plots, code, artifacts.

    Metrics are grouped into training, each held-out dataset (test_*, <name>_*),
    cross-validation and the rest; datasets show their profile and split lineage;
    a search's candidates are listed best first; plots pair each PNG with its
    JSON; code shows the source and git state.
    """
    client = obj.client
    found = client.resolve_run(run)
    run_id = found.info.run_id
    experiment = client.get_experiment(found.info.experiment_id)
    artifacts = (item for item, _ in _walk_artifacts(obj, run_id, None, 0))
    children = client.search_runs(
        [found.info.experiment_id],
        f"tags.`{PARENT_RUN_ID_TAG}` = '{run_id}'",
        max_results=MAX_RESULTS_LIMIT,
    )
    document = _run_view.run_document(found, experiment, artifacts, children)
    if as_json:
        _render.echo_json(document)
        return
    _render.make_console().print(_run_view.run_tables(document))


@runs.command("delete")
@click.argument("runs", nargs=-1, required=True, metavar="RUN...")
@click.pass_obj
def delete_runs(obj: Context, runs: tuple[str, ...]) -> None:
    """Move runs to the trash; `mltrail gc` purges them, `runs restore` undoes it."""
    _move(obj, runs, ViewType.ACTIVE_ONLY, obj.client.delete_run, "Deleted")


@runs.command("restore")
@click.argument("runs", nargs=-1, required=True, metavar="RUN...")
@click.pass_obj
def restore_runs(obj: Context, runs: tuple[str, ...]) -> None:
    """Take deleted runs out of the trash."""
    _move(obj, runs, ViewType.DELETED_ONLY, obj.client.restore_run, "Restored")


def _move(
    obj: Context,
    references: Sequence[str],
    view: ViewType,
    move: Callable[[str], None],
    verb: str,
) -> None:
    """Resolve every run first, so that a wrong reference changes nothing."""
    found = [obj.client.resolve_run(ref, view_type=view) for ref in references]
    for run in found:
        move(run.info.run_id)
        name = _render.escape_controls(run.info.run_name)
        click.echo(f"{verb} run {run.info.run_id} ({name!r}).")


def _experiment_names(
    obj: Context, experiment_name: str | None, view: ViewType
) -> dict[str, str]:
    """Return ``{experiment_id: name}`` of the experiments to search.

    Listing deleted runs looks in deleted experiments too: their runs are in the
    trash with them.
    """
    client = obj.client
    if experiment_name is not None:
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            raise NotFoundError("experiment", experiment_name)
        return {experiment.experiment_id: experiment.name}
    experiment_view = (
        ViewType.ACTIVE_ONLY if view is ViewType.ACTIVE_ONLY else ViewType.ALL
    )
    found = search_all_experiments(client, experiment_view)
    return {item.experiment_id: item.name for item in found}


def _walk_artifacts(
    obj: Context, run_id: str, path: str | None, depth: int
) -> Iterator[tuple[FileInfo, int]]:
    """Yield ``(file, depth)`` for every artifact of the run, depth first."""
    for item in sorted(obj.client.list_artifacts(run_id, path), key=lambda f: f.path):
        yield item, depth
        if item.is_dir:
            yield from _walk_artifacts(obj, run_id, item.path, depth + 1)
