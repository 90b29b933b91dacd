"""``mltrail import URI``: copy an MLflow store into the current mltrail store."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from mltrail._errors import InvalidValueError
from mltrail.cli._render import escape_controls

if TYPE_CHECKING:
    from mltrail.cli._main import Context
    from mltrail.importer import ImportSummary
    from mltrail.importer._source import Source
    from mltrail.store._sql import SqlStore

__all__ = ["import_command"]


@click.command("import")
@click.argument("uri")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar of runs and bytes [default: on a terminal]",
)
@click.pass_obj
def import_command(obj: Context, uri: str, progress: bool | None) -> None:
    """Copy an MLflow store at URI into the tracking store.

    URI is a file store folder (./mlruns), an MLflow database (sqlite:///mlflow.db,
    postgresql://..., mysql://...) or an MLflow server (http://host:5000). It
    copies experiments, runs with params, tags, full metric histories, dataset
    inputs and artifacts, logged models, and registered models with their
    versions, tags and aliases. The source is only read.

    Ids are kept where they are free; a taken id gets a new one, recorded in the
    tag mlflow.mltrail.import.source_run_id (or source_model_id, ...). Running it
    again copies only what is new, and finishes an import that was stopped.
    """
    from mltrail._config import get_tracking_uri
    from mltrail.importer import import_store, open_source
    from mltrail.store._open import open_store
    from mltrail.store._sql import SqlStore

    target_uri = obj.tracking_uri or get_tracking_uri()
    store = open_store(target_uri)
    if not isinstance(store, SqlStore):
        raise InvalidValueError(
            "tracking URI",
            target_uri,
            "a database (sqlite:///..., postgresql://..., mysql://...)",
            "Import into the server's own database: pass its --backend-store-uri "
            "as --tracking-uri.",
        )
    source = open_source(uri)
    try:
        if progress is None:
            progress = sys.stderr.isatty()
        summary = _with_bar(source, store) if progress else import_store(source, store)
    finally:
        source.close()
    click.echo(_describe(summary, source.uri))


def _with_bar(source: Source, store: SqlStore) -> ImportSummary:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    from mltrail.importer import import_store

    columns = (TextColumn("{task.description:>5}"), BarColumn())
    with Progress(
        *columns,
        MofNCompleteColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
    ) as bar:
        runs = bar.add_task("runs", total=None)
        sizes = bar.add_task("bytes", total=0)

        def report(event: str, amount: int) -> None:
            if event == "runs_total":
                bar.update(runs, total=amount)
            elif event == "run":
                bar.advance(runs, amount)
            elif event == "bytes_total":
                task = bar.tasks[sizes]
                bar.update(sizes, total=(task.total or 0) + amount)
            else:
                bar.advance(sizes, amount)

        return import_store(source, store, progress=report)


def _describe(summary: ImportSummary, uri: str) -> str:
    lines = [
        f"Imported from {escape_controls(uri)}:",
        f"  experiments created: {summary.experiments}",
        f"  runs: {summary.runs} (skipped, already there: {summary.runs_skipped})",
        f"  metric points: {summary.metric_points}",
        f"  artifact files: {summary.files} ({summary.bytes} bytes)",
        f"  logged models: {summary.logged_models} "
        f"(skipped: {summary.logged_models_skipped})",
        f"  registered models created: {summary.registered_models}",
        f"  model versions: {summary.model_versions} "
        f"(skipped: {summary.model_versions_skipped})",
    ]
    for kind, old, new in summary.mapped:
        lines.append(f"  {kind} {escape_controls(old)} imported as {new} (id taken)")
    return "\n".join(lines)
