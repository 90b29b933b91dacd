"""``mltrail experiments``: list experiments, move them to the trash and back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click
from rich.table import Table

from mltrail._entities import Experiment, LifecycleStage, ViewType
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.cli import _render
from mltrail.cli._options import VIEWS, json_option, view_option

if TYPE_CHECKING:
    from mltrail.cli._main import Context
    from mltrail.tracking import TrackingClient

_LIST_HINT = "List experiments with `mltrail experiments list --view all`."


@click.group()
def experiments() -> None:
    """List experiments; delete and restore them."""


@experiments.command("list")
@view_option("experiments")
@json_option
@click.pass_obj
def list_experiments(obj: Context, view: str, as_json: bool) -> None:
    """List the experiments with their ids, names and artifact locations."""
    found = search_all_experiments(obj.client, VIEWS[view])
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
            _render.text(item.name),
            item.lifecycle_stage,
            _render.format_time(item.creation_time),
            _render.text(item.artifact_location),
        )
    _render.make_console().print(table)


@experiments.command("delete")
@click.argument("experiments", nargs=-1, required=True, metavar="EXPERIMENT...")
@click.pass_obj
def delete_experiments(obj: Context, experiments: tuple[str, ...]) -> None:
    """Move experiments (by name or id) to the trash, with their runs.

    Their runs stay as they are, hidden with the experiment; `mltrail
    experiments restore` brings both back, and `mltrail gc` purges them for good.
    """
    _move(
        obj, experiments, ViewType.ACTIVE_ONLY, obj.client.delete_experiment, "Deleted"
    )


@experiments.command("restore")
@click.argument("experiments", nargs=-1, required=True, metavar="EXPERIMENT...")
@click.pass_obj
def restore_experiments(obj: Context, experiments: tuple[str, ...]) -> None:
    """Take deleted experiments (by name or id) out of the trash."""
    _move(
        obj,
        experiments,
        ViewType.DELETED_ONLY,
        obj.client.restore_experiment,
        "Restored",
    )


def _move(
    obj: Context,
    references: Sequence[str],
    view: ViewType,
    move: Callable[[str], None],
    verb: str,
) -> None:
    """Resolve every experiment first, so that a wrong reference changes nothing."""
    found = [resolve_experiment(obj.client, ref, view) for ref in references]
    for experiment in found:
        move(experiment.experiment_id)
        name = _render.escape_controls(experiment.name)
        click.echo(f"{verb} experiment {experiment.experiment_id} ({name!r}).")


def resolve_experiment(
    client: TrackingClient, reference: str, view: ViewType = ViewType.ALL
) -> Experiment:
    """Return the experiment named ``reference``, or with that id, in ``view``.

    Raises
    ------
    NotFoundError
        If no experiment of the view has that name or id.
    InvalidValueError
        If one experiment has it as name and another as id.
    """
    matches: dict[str, Experiment] = {}
    by_name = client.get_experiment_by_name(reference)
    if by_name is not None:
        matches[by_name.experiment_id] = by_name
    if reference.isdigit() and reference.isascii():
        for item in search_all_experiments(client, ViewType.ALL):
            if item.experiment_id == str(int(reference)):
                matches[item.experiment_id] = item
    found = [item for item in matches.values() if _in_view(item, view)]
    if len(found) > 1:
        named = next(item for item in found if item.name == reference)
        other = next(item for item in found if item is not named)
        raise InvalidValueError(
            "experiment",
            reference,
            "the name or the id of one experiment",
            f"It names experiment {named.experiment_id} and is the id of "
            f"experiment {other.name!r}; give that one's name instead.",
        )
    if not found:
        stage = {ViewType.ACTIVE_ONLY: "active ", ViewType.DELETED_ONLY: "deleted "}
        raise NotFoundError(f"{stage.get(view, '')}experiment", reference, _LIST_HINT)
    return found[0]


def _in_view(experiment: Experiment, view: ViewType) -> bool:
    if view is ViewType.ALL:
        return True
    deleted = experiment.lifecycle_stage == LifecycleStage.DELETED.value
    return deleted == (view is ViewType.DELETED_ONLY)


def search_all_experiments(
    client: TrackingClient, view_type: ViewType
) -> list[Experiment]:
    """Return every experiment of the view, following the pages."""
    found: list[Experiment] = []
    token: str | None = None
    while True:
        page = client.search_experiments(view_type=view_type, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found
