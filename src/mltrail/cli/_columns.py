"""Which params, metrics and tags ``runs list`` shows as columns, and their cells.

By default the columns are chosen from what differs between the listed runs: the
params that were varied first (they explain the runs), then the metrics that moved,
held-out ones before cross-validation, training and the rest, keys present in more
runs first. A key every run has with the same value tells nothing and is left out.
``--columns`` names them instead: ``params.C``, ``metrics.test_accuracy``,
``tags.team``, or a bare key that some listed run has.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mltrail._entities import Run
from mltrail._errors import InvalidValueError
from mltrail.cli._render import format_value, is_system_tag

ENTITIES = ("params", "metrics", "tags")
# Prefixes people write, and the entity each one means (as in the filter grammar).
ENTITY_PREFIXES = {
    "param": "params",
    "params": "params",
    "metric": "metrics",
    "metrics": "metrics",
    "tag": "tags",
    "tags": "tags",
}
# Metric families, most telling first: held-out scores (a search candidate's mean
# test score too), cross-validation summaries and ranks, the rest, training; then
# the detail: one value per fold or split, spreads and timings.
_SPLIT_METRIC = re.compile(r"split\d+_")
MAX_SUGGESTIONS = 3
FIRST_COLUMNS_OF_EACH = 3
_COLUMNS_HINT = (
    "Write params.<key>, metrics.<key> or tags.<key>, or a key that a listed run has."
)


@dataclass(frozen=True, slots=True)
class Column:
    """One data column: an entity (``params``, ``metrics``, ``tags``) and a key."""

    entity: str
    key: str

    @property
    def name(self) -> str:
        """The column as ``--columns`` spells it: ``metrics.test_accuracy``."""
        return f"{self.entity}.{self.key}"

    def value(self, run: Run) -> str | float | None:
        """Return the run's value for this column, or None when it has none."""
        values: dict[str, str] | dict[str, float] = getattr(run.data, self.entity)
        return values.get(self.key)

    def cell(self, run: Run) -> str:
        """Return the value as a table cell: empty when missing."""
        value = self.value(run)
        return "" if value is None else format_value(value)


def headers(columns: Sequence[Column]) -> list[str]:
    """Return the header of each column: its key, prefixed only where keys clash."""
    keys = [column.key for column in columns]
    return [
        column.name if keys.count(column.key) > 1 else column.key for column in columns
    ]


def _keys(found: Sequence[Run], entity: str) -> set[str]:
    keys = {key for run in found for key in getattr(run.data, entity)}
    if entity == "tags":
        keys = {key for key in keys if not is_system_tag(key)}
    return keys


def parse_columns(specs: Iterable[str], found: Sequence[Run]) -> list[Column]:
    """Return the columns that ``--columns`` names (comma-separated, repeatable).

    Raises
    ------
    InvalidValueError
        If a bare key is no listed run's param, metric or tag, or is several of
        them; or if a prefixed key is missing from every listed run. The message
        suggests close keys.
    """
    present = {entity: _keys(found, entity) for entity in ENTITIES}
    columns: list[Column] = []
    for spec in specs:
        for name in (part.strip() for part in spec.split(",")):
            if not name:
                continue
            column = _parse_column(name, present, check=bool(found))
            if column not in columns:
                columns.append(column)
    return columns


def _parse_column(name: str, present: dict[str, set[str]], *, check: bool) -> Column:
    prefix, dot, rest = name.partition(".")
    if dot and prefix.lower() in ENTITY_PREFIXES and rest:
        column = Column(ENTITY_PREFIXES[prefix.lower()], rest)
        if check and rest not in present[column.entity]:
            raise InvalidValueError(
                "--columns entry",
                name,
                f"a key that a listed run has in its {column.entity}",
                _suggest(rest, present, column.entity),
            )
        return column
    owners = [entity for entity in ENTITIES if name in present[entity]]
    if len(owners) == 1:
        return Column(owners[0], name)
    if owners:
        spelled = " or ".join(f"'{entity}.{name}'" for entity in owners)
        raise InvalidValueError(
            "--columns entry",
            name,
            "a key of one kind only",
            f"It is a key of several kinds; write {spelled}.",
        )
    raise InvalidValueError(
        "--columns entry",
        name,
        "a param, metric or tag key that a listed run has",
        _suggest(name, present, None),
    )


def _suggest(key: str, present: dict[str, set[str]], entity: str | None) -> str:
    """Return a hint naming the closest keys, or how to spell a column."""
    names = {
        f"{kind}.{candidate}": candidate
        for kind in ENTITIES
        if entity in (None, kind)
        for candidate in present[kind]
    }
    close = difflib.get_close_matches(key, list(names.values()), MAX_SUGGESTIONS)
    shown = [name for name, candidate in sorted(names.items()) if candidate in close]
    if shown:
        return "Did you mean " + ", ".join(shown[:MAX_SUGGESTIONS]) + "?"
    return _COLUMNS_HINT


def _metric_rank(key: str) -> int:
    """Return 0 for the most telling kind of metric, up to 4 for detail."""
    if key.startswith(("test_", "mean_test_")):
        return 0
    if _SPLIT_METRIC.match(key) or key.startswith("std_") or key.endswith("_time"):
        return 4
    if key.startswith("cv_"):
        return 1 if key.endswith("_mean") else 4
    if key.startswith("rank_test_"):
        return 1
    if key.startswith("training_"):
        return 3
    return 2


def _varying(found: Sequence[Run], entity: str) -> list[tuple[int, str]]:
    """Return ``(runs with the key, key)`` for keys with two values or more.

    A key that only some runs have, with one value, differs by presence alone:
    that is usually a default the others did not record, so it is left out.
    """
    varying = []
    for key in _keys(found, entity):
        values = [getattr(run.data, entity).get(key) for run in found]
        # NaN never equals itself: compare the text a person would see.
        shown = {format_value(value) for value in values if value is not None}
        if len(shown) > 1:
            varying.append((sum(value is not None for value in values), key))
    return varying


def default_columns(found: Sequence[Run], first: Sequence[Column]) -> list[Column]:
    """Return every column worth showing, most telling first; ``first`` leads.

    A few varied params come first, then a few metrics, then the rest of each;
    the caller keeps as many as the terminal's width allows.
    """
    params = sorted(_varying(found, "params"), key=lambda item: (-item[0], item[1]))
    metrics = _varying(found, "metrics")
    if len(found) == 1:
        # One run differs from nothing: show what it measured, best kinds first.
        metrics = [(1, key) for key in found[0].data.metrics]
    metrics.sort(key=lambda item: (_metric_rank(item[1]), -item[0], item[1]))
    param_columns = [Column("params", key) for _, key in params]
    metric_columns = [Column("metrics", key) for _, key in metrics]
    lead = FIRST_COLUMNS_OF_EACH
    columns = list(first)
    for column in (
        *param_columns[:lead],
        *metric_columns[:lead],
        *param_columns[lead:],
        *metric_columns[lead:],
    ):
        if column not in columns:
            columns.append(column)
    return columns


def order_columns(order_by: Iterable[str]) -> list[Column]:
    """Return the param, metric and tag keys that ``--order-by`` sorts on."""
    columns = []
    for clause in order_by:
        name = clause.strip()
        for direction in (" ASC", " DESC", " asc", " desc"):
            name = name.removesuffix(direction).strip()
        prefix, dot, key = name.partition(".")
        entity = ENTITY_PREFIXES.get(prefix.lower())
        if dot and entity is not None and key:
            columns.append(Column(entity, key.strip('`"')))
    return columns
