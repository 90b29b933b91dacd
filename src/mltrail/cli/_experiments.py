"""``mltrail experiments``: list the experiments of a store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.table import Table
from rich.text import Text

from mltrail._entities import Experiment, ViewType
from mltrail.cli import _render

if TYPE_CHECKING:
    from mltrail.cli._main import Context

VIEWS = {
    "active": ViewType.ACTIVE_ONLY,
    "deleted": ViewType.DELETED_ONLY,
    "all": ViewType.ALL,
}


@click.group()
def experiments() -> None:
    """List and inspect experiments."""


@experiments.command("list")
@click.option(
    "--view",
    type=click.Choice(sorted(VIEWS)),
    default="active",
    show_default=True,
    help="Which experiments to show: active ones, deleted ones, or all.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_experiments(obj: Context, view: str, as_json: bool) -> None:
    """List the experiments with their ids, names and artifact locations."""
    found = search_all_experiments(obj, VIEWS[view])
    if as_json:
        _render.echo_json([_render.experiment_to_dict(item) for item in found])
        return
    table = Table(title=f"Experiments ({len(found)})", title_justify="left")
    for column in (
        "experiment_id",
        "name",
        "lifecycle_stage",
        "created",
        "artifact_location",
    ):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(
            item.experiment_id,
            Text(item.name),
            item.lifecycle_stage,
            _render.format_time(item.creation_time),
            Text(item.artifact_location),
        )
    _render.make_console().print(table)


def search_all_experiments(obj: Context, view_type: ViewType) -> list[Experiment]:
    """Return every experiment of the view, following the pages."""
    found: list[Experiment] = []
    token: str | None = None
    while True:
        page = obj.client.search_experiments(view_type=view_type, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found
