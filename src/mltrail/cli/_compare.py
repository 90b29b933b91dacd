"""``mltrail runs compare``: runs side by side, with the keys that differ marked.

``compare_document`` is what ``--json`` prints; the tables are drawn only from it.
A key differs when the runs do not all show the same value for it, a missing value
counting as one of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click
from rich.console import Group
from rich.table import Table
from rich.text import Text

from mltrail._entities import Run
from mltrail._errors import InvalidValueError
from mltrail._system_tags import (
    GIT_BRANCH_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    SOURCE_PATH_TAG,
)
from mltrail.cli import _render
from mltrail.cli._options import json_option

if TYPE_CHECKING:
    from mltrail.cli._main import Context

SHORT_ID_LENGTH = 8
DIFFERS_MARK = "≠"
# System tags worth comparing: which code made each run.
COMPARED_SYSTEM_TAGS = (GIT_COMMIT_TAG, GIT_BRANCH_TAG, GIT_DIRTY_TAG, SOURCE_PATH_TAG)
SECTIONS = ("run", "params", "metrics", "tags")


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, metavar="RUN RUN [RUN...]")
@click.option(
    "--only-diff", is_flag=True, help="Show only the keys whose values differ."
)
@json_option
@click.pass_obj
def compare_runs(
    obj: Context, runs: tuple[str, ...], only_diff: bool, as_json: bool
) -> None:
    """Compare runs side by side: params, metrics and tags, differences marked ≠.

    Each RUN is a run id, a unique prefix of one or a run name.
    """
    if len(runs) < 2:
        raise click.UsageError("Give at least two runs to compare.")
    found = [obj.client.resolve_run(ref) for ref in runs]
    seen: dict[str, int] = {}
    for index, run in enumerate(found):
        first = seen.setdefault(run.info.run_id, index)
        if first != index:
            raise InvalidValueError(
                "RUN",
                runs[index],
                "a run not given before",
                f"It is the same run as {runs[first]!r}; give each run once.",
            )
    document = compare_document(found, only_diff=only_diff)
    if as_json:
        _render.echo_json(document)
        return
    _render.make_console().print(compare_tables(document))


def _row(key: str, values: Sequence[object]) -> dict[str, Any]:
    shown = {None if value is None else _render.format_value(value) for value in values}
    return {"key": key, "values": list(values), "differs": len(shown) > 1}


def _section(
    runs: Sequence[Run], entity: str, keys: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    values: list[Mapping[str, object]] = [getattr(run.data, entity) for run in runs]
    if keys is None:
        keys = sorted({key for mapping in values for key in mapping})
    return [_row(key, [mapping.get(key) for mapping in values]) for key in keys]


def compare_document(runs: Sequence[Run], *, only_diff: bool) -> dict[str, Any]:
    """Return the runs, and each section's rows: key, one value per run, differs."""
    infos = [run.info for run in runs]
    tags = sorted(
        {key for run in runs for key in run.data.tags if not _render.is_system_tag(key)}
    )
    present = [
        key for key in COMPARED_SYSTEM_TAGS if any(key in r.data.tags for r in runs)
    ]
    sections = {
        "run": [
            _row("experiment_id", [info.experiment_id for info in infos]),
            _row("status", [info.status for info in infos]),
            _row("user_id", [info.user_id for info in infos]),
            _row("start_time", [info.start_time for info in infos]),
            _row("end_time", [info.end_time for info in infos]),
            _row("lifecycle_stage", [info.lifecycle_stage for info in infos]),
        ],
        "params": _section(runs, "params"),
        "metrics": _section(runs, "metrics"),
        "tags": _section(runs, "tags", [*tags, *present]),
    }
    if only_diff:
        sections = {
            name: [row for row in rows if row["differs"]]
            for name, rows in sections.items()
        }
    return {
        "runs": [{"run_id": info.run_id, "run_name": info.run_name} for info in infos],
        **sections,
    }


def _cell(key: str, value: object) -> Text:
    if value is None:
        return Text("-", style="dim")
    if key in ("start_time", "end_time") and isinstance(value, int):
        return _render.text(_render.format_time(value))
    return _render.text(_render.format_value(value))


def compare_tables(document: Mapping[str, Any]) -> Group:
    """Return one table per section, runs as columns, differing rows marked."""
    tables = []
    for section in SECTIONS:
        rows = document[section]
        differing = sum(row["differs"] for row in rows)
        title = f"{section.capitalize()} ({len(rows)}, {differing} differ)"
        table = Table(title=title, title_justify="left", min_width=len(title))
        table.add_column("", no_wrap=True)
        table.add_column("key", overflow="fold")
        for run in document["runs"]:
            header = _render.text(run["run_name"], style="bold")
            header.append(f"\n{run['run_id'][:SHORT_ID_LENGTH]}", style="dim")
            table.add_column(header, overflow="fold")
        for row in rows:
            style = "bold" if row["differs"] else "dim"
            table.add_row(
                DIFFERS_MARK if row["differs"] else "",
                _render.text(row["key"]),
                *(_cell(row["key"], value) for value in row["values"]),
                style=style,
            )
        tables.append(table)
    return Group(*tables)
