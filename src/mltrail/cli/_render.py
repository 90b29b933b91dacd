"""Rendering for the CLI: JSON for scripts, rich tables and trees for people.

JSON keys are the entity field names (``run_id``, ``experiment_id``, ...). Non-finite
metric values become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, as in
the protobuf JSON that MLflow's REST API speaks, so the output is strict JSON.

Run data never reaches the terminal raw: every string from the store goes into a
table through ``text``, which shows control and formatting characters escaped the
way Python's ``ascii()`` does, so a run name cannot set the window title, clear the
screen, open a hyperlink or reorder a line; JSON escapes them itself.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from mltrail._entities import Experiment, FileInfo, Run
from mltrail._system_tags import SYSTEM_PREFIX

SYSTEM_TAG_PREFIXES = (SYSTEM_PREFIX,)
_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")
# Control (Cc), format (Cf: bidi overrides, zero-width), surrogate (Cs) and line or
# paragraph separator (Zl, Zp) characters; a newline and a tab only break lines.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LAYOUT = frozenset("\n\t")
_STATUS_STYLES = {
    "FINISHED": "green",
    "FAILED": "red",
    "KILLED": "yellow",
    "RUNNING": "cyan",
}


def escape_controls(value: str) -> str:
    """Return ``value`` with every character that could drive a terminal escaped.

    Each such character becomes its ``ascii()`` escape (ESC becomes the four
    characters backslash, x, 1, b): what a person sees is what the store holds,
    and nothing in it acts on the terminal.
    """
    if value.isprintable():
        return value
    return "".join(
        ascii(char)[1:-1]
        if char not in _LAYOUT and unicodedata.category(char) in _UNSAFE_CATEGORIES
        else char
        for char in value
    )


def text(value: object, style: str = "") -> Text:
    """Return a table cell for ``value``: escaped, and never read as rich markup."""
    return Text(escape_controls(str(value)), style=style)


def make_console() -> Console:
    """Return a console on the current stdout (CliRunner swaps it in tests)."""
    return Console(highlight=False)


def echo_json(value: object) -> None:
    """Print ``value`` as indented, strict JSON."""
    click.echo(json.dumps(_strict(value), indent=2, allow_nan=False))


def _strict(value: object) -> object:
    """Replace non-finite floats with their protobuf JSON spellings, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, Mapping):
        return {str(key): _strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(item) for item in value]
    return value


def experiment_to_dict(experiment: Experiment) -> dict[str, Any]:
    """Return the experiment's fields as a JSON-ready dict."""
    return dataclasses.asdict(experiment)


def run_to_dict(run: Run) -> dict[str, Any]:
    """Return ``{"info", "data", "inputs"}`` with the entities' field names."""
    return {
        "info": dataclasses.asdict(run.info),
        "data": dataclasses.asdict(run.data),
        "inputs": dataclasses.asdict(run.inputs),
    }


def format_time(milliseconds: int | None, layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Return a local time such as ``2024-05-01 14:03:59``, or ``-`` when unknown."""
    if milliseconds is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(milliseconds / 1000)
    return moment.strftime(layout)


def format_duration(start_time: int | None, end_time: int | None) -> str:
    """Return a duration such as ``4.2s`` or ``3m 05s``, or ``-`` while running."""
    if start_time is None or end_time is None:
        return "-"
    seconds = max(end_time - start_time, 0) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_size(size: int | None) -> str:
    """Return a size such as ``512 B`` or ``1.5 MB``."""
    if size is None:
        return "-"
    value = float(size)
    for unit in _SIZE_UNITS:
        if value < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_value(value: object) -> str:
    """Return a param or metric value for a table cell."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def status_text(status: str) -> Text:
    """Return the status colored: green, red, yellow, cyan or plain."""
    return text(status, style=_STATUS_STYLES.get(status, ""))


def is_system_tag(key: str) -> bool:
    """Whether a tag is written by mltrail or MLflow rather than by the user."""
    return key.startswith(SYSTEM_TAG_PREFIXES)


def key_value_table(
    title: str, items: Mapping[str, object], *, dim: bool = False
) -> Table:
    """Return a two-column table of ``items`` sorted by key."""
    style = "dim" if dim else ""
    table = Table(
        title=text(title),
        title_justify="left",
        style=style,
        header_style=style,
        min_width=len(title),  # a title never wraps above a narrow table
    )
    table.add_column("key", style=style, overflow="fold")
    table.add_column("value", style=style, overflow="fold")
    for key in sorted(items):
        table.add_row(text(key), text(format_value(items[key])))
    return table


def artifact_tree(root_label: str, entries: Iterable[tuple[FileInfo, int]]) -> Tree:
    """Return a tree of ``(file, depth)`` entries listed depth first."""
    tree = Tree(text(root_label, style="bold"))
    parents: list[Tree] = [tree]
    for info, depth in entries:
        name = info.path.rsplit("/", 1)[-1]
        del parents[depth + 1 :]
        if info.is_dir:
            parents.append(parents[depth].add(text(f"{name}/", style="bold blue")))
        else:
            label = text(name)
            label.append(f"  {format_size(info.file_size)}", style="dim")
            parents[depth].add(label)
    return tree
