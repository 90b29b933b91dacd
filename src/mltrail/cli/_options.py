"""Options that several commands share, spelled and explained once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from mltrail._entities import ViewType

F = TypeVar("F", bound=Callable[..., Any])

VIEWS = {
    "active": ViewType.ACTIVE_ONLY,
    "deleted": ViewType.DELETED_ONLY,
    "all": ViewType.ALL,
}


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Record the option's text on the shared context, for error messages."""
    from mltrail.cli._main import Context

    obj = ctx.find_object(Context)
    if obj is not None and value:
        name = param.opts[0]
        obj.remember(name, [value] if isinstance(value, str) else value)
    return value


def filter_option(function: F) -> F:
    """Add ``--filter FILTER``, the search grammar of ``search_runs``."""
    return click.option(
        "--filter",
        "filter_string",
        default="",
        metavar="FILTER",
        callback=_remember,
        help=(
            'Only runs that match, e.g. "metrics.test_accuracy > 0.9 and '
            "params.C = '1.0'\" (keys take a metrics., params., tags. or "
            "attributes. prefix; AND, OR, NOT and parentheses combine them)."
        ),
    )(function)


def order_by_option(function: F) -> F:
    """Add ``--order-by CLAUSE``, repeatable."""
    return click.option(
        "--order-by",
        multiple=True,
        metavar="CLAUSE",
        callback=_remember,
        help=(
            "Sort key such as 'metrics.test_accuracy DESC'; repeat it for more "
            "keys [default: newest first]."
        ),
    )(function)


def view_option(noun: str) -> Callable[[F], F]:
    """Add ``--view active|deleted|all`` for ``noun`` (runs or experiments)."""

    def decorate(function: F) -> F:
        return click.option(
            "--view",
            type=click.Choice(list(VIEWS)),
            default="active",
            show_default=True,
            help=f"Which {noun} to show: active ones, deleted ones, or all.",
        )(function)

    return decorate


def json_option(function: F) -> F:
    """Add ``--json``: JSON for scripts instead of tables for people."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON instead of tables."
    )(function)
