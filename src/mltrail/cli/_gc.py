"""``mltrail gc``: purge deleted runs and experiments, with their artifacts, for good.

Like ``mlflow gc``: ``--older-than``, ``--run-ids``, ``--experiment-ids``. Without
ids it empties the whole trash (what is old enough); with ids, exactly those, and
every one must be in the trash (and old enough) or nothing is purged.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

import click

from mltrail._entities import Experiment, RunInfo, ViewType
from mltrail._errors import InvalidValueError
from mltrail.cli._experiments import resolve_experiment, search_all_experiments
from mltrail.cli._render import escape_controls

if TYPE_CHECKING:
    from mltrail.cli._main import Context

_DURATION = re.compile(
    r"((?P<days>\d+(\.\d+)?)d)?((?P<hours>\d+(\.\d+)?)h)?"
    r"((?P<minutes>\d+(\.\d+)?)m)?((?P<seconds>\d+(\.\d+)?)s)?"
)


def parse_duration(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime.timedelta | None:
    """Read ``30d``, ``12h`` or ``1d2h3m4s`` as ``mlflow gc --older-than`` does."""
    if value is None:
        return None
    text = value.strip()
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise click.BadParameter(
            f"{value!r} is not a duration. Use days, hours, minutes and seconds "
            "such as 30d, 12h or 1d2h30m.",
            ctx,
            param,
        )
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return datetime.timedelta(**parts)


def format_duration(duration: datetime.timedelta) -> str:
    """Write a duration the way --older-than reads it: ``1d12h``, ``90s``."""
    seconds = duration.total_seconds()
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{int(count)}{unit}")
    if seconds or not parts:
        parts.append(f"{seconds:g}s")
    return "".join(parts)


def _split(values: tuple[str, ...]) -> list[str]:
    """Return the entries of a repeatable, comma-separated option."""
    return [
        item.strip() for value in values for item in value.split(",") if item.strip()
    ]


@click.command("gc")
@click.option(
    "--older-than",
    callback=parse_duration,
    metavar="DURATION",
    help=(
        "Only what was deleted at least this long ago, such as 30d, 12h or "
        "1d2h30m [default: everything in the trash]."
    ),
)
@click.option(
    "--run-ids",
    multiple=True,
    metavar="RUNS",
    help=(
        "Purge only these deleted runs: comma-separated ids, id prefixes or "
        "names; repeatable."
    ),
)
@click.option(
    "--experiment-ids",
    multiple=True,
    metavar="EXPERIMENTS",
    help=(
        "Purge only these deleted experiments, with all their runs: "
        "comma-separated ids or names; repeatable."
    ),
)
@click.option(
    "--dry-run", is_flag=True, help="Say what would be purged, and purge nothing."
)
@click.pass_obj
def gc(
    obj: Context,
    older_than: datetime.timedelta | None,
    run_ids: tuple[str, ...],
    experiment_ids: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Purge deleted runs and experiments for good, with their artifacts.

    `mltrail runs delete` and `mltrail experiments delete` move things to the
    trash; gc empties it. Without --run-ids or --experiment-ids, everything in
    the trash (deleted --older-than ago) goes.
    """
    client = obj.client
    runs, experiments = _select(
        obj, older_than, _split(run_ids), _split(experiment_ids)
    )
    verb = "Would purge" if dry_run else "Purged"
    if not runs and not experiments:
        click.echo("Nothing to purge.")
        return
    if not dry_run:
        client.purge_runs([info.run_id for info in runs])
    for info in runs:
        name = escape_controls(info.run_name)
        click.echo(f"{verb} run {info.run_id} ({name!r}).")
    for experiment in experiments:
        if dry_run:
            count = _count_runs(obj, experiment.experiment_id)
        else:
            count = len(client.purge_experiments([experiment.experiment_id]))
        name = escape_controls(experiment.name)
        click.echo(
            f"{verb} experiment {experiment.experiment_id} ({name!r}) "
            f"and its {count} run{'' if count == 1 else 's'}."
        )


def _count_runs(obj: Context, experiment_id: str) -> int:
    count = 0
    token: str | None = None
    while True:
        page = obj.client.search_runs(
            [experiment_id], run_view_type=ViewType.ALL, page_token=token
        )
        count += len(page)
        token = page.token
        if not token:
            return count


def _select(
    obj: Context,
    older_than: datetime.timedelta | None,
    run_refs: list[str],
    experiment_refs: list[str],
) -> tuple[list[RunInfo], list[Experiment]]:
    """Return the runs and experiments to purge; refuse any that may not be."""
    client = obj.client
    old_runs = client.list_deleted_runs(older_than)
    if not run_refs and not experiment_refs:
        experiments = _old_experiments(obj, older_than)
        going = {experiment.experiment_id for experiment in experiments}
        # A deleted experiment's runs are deleted with it, and purged with it.
        return [i for i in old_runs if i.experiment_id not in going], experiments
    old_ids = {info.run_id for info in old_runs}
    runs = []
    for ref in run_refs:
        info = client.resolve_run(ref, view_type=ViewType.DELETED_ONLY).info
        if info.run_id not in old_ids:
            raise InvalidValueError(
                "--run-ids entry",
                ref,
                f"a run deleted at least {_ago(older_than)} ago",
                "Leave out --older-than to purge it now.",
            )
        if info not in runs:
            runs.append(info)
    experiments = []
    old_experiments = {e.experiment_id for e in _old_experiments(obj, older_than)}
    for ref in experiment_refs:
        experiment = resolve_experiment(client, ref, ViewType.DELETED_ONLY)
        if experiment.experiment_id not in old_experiments:
            raise InvalidValueError(
                "--experiment-ids entry",
                ref,
                f"an experiment deleted at least {_ago(older_than)} ago",
                "Leave out --older-than to purge it now.",
            )
        if experiment not in experiments:
            experiments.append(experiment)
    return runs, experiments


def _ago(older_than: datetime.timedelta | None) -> str:
    return "0s" if older_than is None else format_duration(older_than)


def _old_experiments(
    obj: Context, older_than: datetime.timedelta | None
) -> list[Experiment]:
    """Return the deleted experiments last changed at least ``older_than`` ago."""
    deleted = search_all_experiments(obj.client, ViewType.DELETED_ONLY)
    if older_than is None:
        return deleted
    threshold = datetime.datetime.now() - older_than
    limit = int(threshold.timestamp() * 1000)
    return [item for item in deleted if item.last_update_time <= limit]
