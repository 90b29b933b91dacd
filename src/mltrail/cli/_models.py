"""``mltrail models``: the model registry, serving and batch prediction.

``list``, ``show`` (versions, aliases and the alias history), ``register``,
``alias`` (set, move or delete), ``serve`` (the scoring server) and ``predict``
(a file in, a file out, with the same validation as the server).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mltrail.cli._options import json_option

if TYPE_CHECKING:
    from mltrail._registry_entities import ModelVersion, RegisteredModel
    from mltrail.cli._main import Context

# Rows per predict call of `models predict`: bounds memory on large inputs.
PREDICT_CHUNK_ROWS = 50_000
PROGRESS_MIN_ROWS = 100_000


def _model_to_dict(model: RegisteredModel) -> dict[str, Any]:
    return dataclasses.asdict(model)


def _aliases(model: RegisteredModel) -> str:
    return ", ".join(f"@{alias}→v{version}" for alias, version in model.aliases.items())


@click.group()
def models() -> None:
    """Register models, move aliases, serve a model and predict in batch."""


@models.command("list")
@click.option(
    "--filter", "filter_string", default="", help="Such as \"name LIKE 'wine%'\"."
)
@json_option
@click.pass_obj
def list_models(obj: Context, filter_string: str, as_json: bool) -> None:
    """List registered models with their newest version and aliases."""
    from rich.table import Table

    from mltrail.cli import _render

    found: list[RegisteredModel] = []
    token: str | None = None
    while True:
        page = obj.client.search_registered_models(
            filter_string, max_results=1000, page_token=token
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    if as_json:
        _render.echo_json([_model_to_dict(model) for model in found])
        return
    table = Table(title=f"Registered models ({len(found)})", title_justify="left")
    for column in ("name", "latest", "aliases", "updated", "description"):
        table.add_column(column, overflow="fold")
    for model in found:
        latest = max((v.version for v in model.latest_versions), default=None)
        table.add_row(
            _render.text(model.name),
            "" if latest is None else f"v{latest}",
            _render.text(_aliases(model)),
            _render.format_time(model.last_updated_timestamp),
            _render.text(model.description),
        )
    _render.make_console().print(table)


def _all_versions(obj: Context, name: str) -> list[ModelVersion]:
    from mltrail.store._registry_values import filter_literal

    return list(
        obj.client.search_model_versions(
            f"name = {filter_literal(name)}", order_by=["version_number DESC"]
        )
    )


@models.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def show_model(obj: Context, name: str, as_json: bool) -> None:
    """Show a model: its versions, aliases and the history of every alias move."""
    from rich.table import Table

    from mltrail.cli import _render

    model = obj.client.get_registered_model(name)
    versions = _all_versions(obj, name)
    history = obj.client.get_alias_history(name)
    if as_json:
        _render.echo_json(
            {
                "registered_model": _model_to_dict(model),
                "versions": [dataclasses.asdict(v) for v in versions],
                "alias_history": [dataclasses.asdict(c) for c in history],
            }
        )
        return
    console = _render.make_console()
    console.print(_render.text(f"{model.name}", "bold"))
    if model.description:
        console.print(_render.text(model.description))
    if model.tags:
        console.print(_render.key_value_table("tags", model.tags))
    table = Table(title=f"Versions ({len(versions)})", title_justify="left")
    for column in ("version", "aliases", "stage", "run_id", "source", "created"):
        table.add_column(column, overflow="fold")
    for version in versions:
        table.add_row(
            f"v{version.version}",
            _render.text(", ".join(f"@{a}" for a in version.aliases)),
            _render.text(version.current_stage),
            _render.text(version.run_id),
            _render.text(version.source),
            _render.format_time(version.creation_timestamp),
        )
    console.print(table)
    moves = Table(title=f"Alias history ({len(history)})", title_justify="left")
    for column in ("when", "alias", "from", "to", "by"):
        moves.add_column(column, overflow="fold")
    for change in history:
        moves.add_row(
            _render.format_time(change.timestamp),
            _render.text(f"@{change.alias}"),
            "" if change.previous_version is None else f"v{change.previous_version}",
            "(deleted)" if change.version is None else f"v{change.version}",
            _render.text(change.user_id),
        )
    console.print(moves)


@models.command("register")
@click.argument("model_uri")
@click.argument("name")
@click.option("--alias", "aliases", multiple=True, help="Point this alias at it too.")
@json_option
@click.pass_obj
def register(
    obj: Context, model_uri: str, name: str, aliases: tuple[str, ...], as_json: bool
) -> None:
    """Register MODEL_URI (runs:/<run_id>/model, a directory) as a version of NAME."""
    from mltrail.cli import _render
    from mltrail.registry._register import register_with_client

    version = register_with_client(obj.client, model_uri, name)
    for alias in aliases:
        obj.client.set_registered_model_alias(name, alias, version.version)
    version = obj.client.get_model_version(name, version.version)
    if as_json:
        _render.echo_json(dataclasses.asdict(version))
        return
    click.echo(
        f"Registered {_render.escape_controls(name)} v{version.version} "
        f"({_render.escape_controls(version.source)})"
        + "".join(f" @{_render.escape_controls(a)}" for a in version.aliases)
    )


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Delete the alias instead of moving it.")
@click.pass_obj
def alias(
    obj: Context, name: str, alias: str, version: str | None, delete: bool
) -> None:
    """Point ALIAS of model NAME at VERSION (or --delete it); every move is kept."""
    from mltrail.cli import _render

    client = obj.client
    if delete == (version is not None):
        raise click.UsageError("Give a VERSION to move the alias to, or --delete.")
    previous = client.get_registered_model(name).aliases.get(alias)
    if delete:
        client.delete_registered_model_alias(name, alias)
        click.echo(f"Deleted @{_render.escape_controls(alias)} (was v{previous}).")
        return
    client.set_registered_model_alias(name, alias, str(version))
    moved = "" if previous is None else f" (was v{previous})"
    click.echo(
        f"@{_render.escape_controls(alias)} → "
        f"{_render.escape_controls(name)} v{version}{moved}"
    )


def _model_option(function: Any) -> Any:
    return click.option(
        "-m",
        "--model-uri",
        required=True,
        metavar="URI",
        help="models:/<name>@<alias>, models:/<name>/<version>, runs:/<run_id>/model "
        "or a directory.",
    )(function)


def _trusted_option(function: Any) -> Any:
    return click.option(
        "--trusted",
        is_flag=True,
        help="Trust the model file: load pickle formats and unaudited skops types.",
    )(function)


@contextlib.contextmanager
def _trust_hint_for_the_cli() -> Iterator[None]:
    """Give a refusal to load an untrusted model the CLI's hint, ``--trusted``."""
    from mltrail._errors import MltrailError
    from mltrail.models import UntrustedModelError

    try:
        yield
    except UntrustedModelError as error:
        what = (
            f"types that are not trusted by default: {error.types}"
            if error.serialization_format == "skops"
            else f"{error.serialization_format} format, which can run any code"
        )
        raise MltrailError(
            f"model file {error.path!r} holds {what}. Pass --trusted only if you "
            "trust where the file comes from."
        ) from None


@models.command("serve")
@_model_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "-p",
    "--port",
    default=5001,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "-w",
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes, each with the model loaded.",
)
@_trusted_option
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse input that differs from the training data (400) instead of warning.",
)
@click.option(
    "--max-batch-size",
    default=0,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Micro-batch concurrent requests up to this many rows (0: off).",
)
@click.option(
    "--max-batch-delay-ms",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0, 1000),
    help="The longest a request waits for others to join its batch.",
)
@click.pass_obj
def serve(
    obj: Context,
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    trusted: bool,
    strict: bool,
    max_batch_size: int,
    max_batch_delay_ms: float,
) -> None:
    """Serve one model with MLflow's scoring protocol (POST /invocations)."""
    from mltrail.serving._serve import ServeOptions
    from mltrail.serving._serve import serve as run

    with _trust_hint_for_the_cli():
        run(
            ServeOptions(
                model_uri=model_uri,
                host=host,
                port=port,
                workers=workers,
                trusted=trusted,
                tracking_uri=obj.tracking_uri,
                strict=strict,
                max_batch_size=max_batch_size,
                max_batch_delay_ms=max_batch_delay_ms,
            ),
            owns_process=True,
        )


@models.command("predict")
@_model_option
@click.option(
    "-i",
    "--input-path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV, Parquet (.parquet) or JSON in MLflow's request format (.json).",
)
@click.option(
    "-o",
    "--output-path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where predictions go (CSV, or Parquet by extension); default stdout.",
)
@_trusted_option
@click.option("--strict", is_flag=True, help="Fail on input unlike the training data.")
@click.pass_obj
def predict(
    obj: Context,
    model_uri: str,
    input_path: Path,
    output_path: Path | None,
    trusted: bool,
    strict: bool,
) -> None:
    """Predict a file of rows with a model, validated as the scoring server does."""
    from mltrail.cli import _render
    from mltrail.serving._batch import predict_file

    with _trust_hint_for_the_cli():
        summary = predict_file(
            model_uri,
            input_path,
            output_path,
            trusted=trusted,
            strict=strict,
            tracking_uri=obj.tracking_uri,
            chunk_rows=PREDICT_CHUNK_ROWS,
            progress_min_rows=PROGRESS_MIN_ROWS,
        )
    for finding in summary.findings:
        click.echo(f"Warning: {_render.escape_controls(finding.message)}", err=True)
    if output_path is not None:
        target = _render.escape_controls(str(output_path))
        click.echo(f"Predicted {summary.rows:,} rows into {target}", err=True)
