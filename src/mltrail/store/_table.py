"""The columns, sort keys and page tokens of the runs table (no SQL here).

A column is named as in the search grammar: ``params.C``, ``metrics.test_accuracy``,
``tags.`mlflow.source.name```, ``attributes.duration``; a bare attribute name
(``run_name``) is an attribute. ``_sql_table.py`` turns them into queries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mltrail._entities import RunInfo
from mltrail._errors import FilterSyntaxError, InvalidValueError
from mltrail.store._search import _Grammar, _Parser

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "RunKeys",
    "TableColumn",
    "TablePage",
    "TableRow",
    "TableSort",
    "decode_table_token",
    "encode_table_token",
    "parse_column",
    "parse_sort",
]

STRING_ATTRIBUTES = ("run_name", "status", "user_id", "run_id")
NUMBER_ATTRIBUTES = ("start_time", "end_time", "duration")
#: Attribute columns of the runs table; ``duration`` is ``end_time - start_time``.
ATTRIBUTE_COLUMNS = STRING_ATTRIBUTES + NUMBER_ATTRIBUTES
NULLABLE_ATTRIBUTES = ("end_time", "duration")
PREFIXES = {
    "attribute": "attributes",
    "param": "params",
    "metric": "metrics",
    "tag": "tags",
}
_GRAMMAR = _Grammar(
    ("metric", "param", "tag", "attribute"),
    STRING_ATTRIBUTES,
    NUMBER_ATTRIBUTES,
    NULLABLE_ATTRIBUTES,
)
_BARE_KEY = re.compile(r"[^\s=!<>'\"`]+")
TokenValue = str | int | float | None


@dataclass(frozen=True, slots=True)
class TableColumn:
    """One column: an ``entity`` (attribute, param, metric, tag) and its ``key``."""

    entity: str
    key: str

    @property
    def name(self) -> str:
        """The column as the search grammar writes it, such as ``params.C``."""
        key = self.key
        if not _BARE_KEY.fullmatch(key):
            key = "`" + key.replace("`", "``") + "`"
        return f"{PREFIXES[self.entity]}.{key}"

    @property
    def is_nullable(self) -> bool:
        """Whether some runs may have no value in this column."""
        return self.entity != "attribute" or self.key in NULLABLE_ATTRIBUTES


@dataclass(frozen=True, slots=True)
class TableSort:
    """A column to order by, and the direction."""

    column: TableColumn
    descending: bool


@dataclass(frozen=True, slots=True)
class TableRow:
    """A run of the table: its info, parent, matching children and column values.

    ``values`` maps a column's ``name`` to a str (params, tags, names), a float
    (metrics), an int (times, durations in milliseconds) or None when missing.
    """

    info: RunInfo
    parent_run_id: str | None
    child_count: int
    values: dict[str, str | float | int | None]


@dataclass(frozen=True, slots=True)
class TablePage:
    """One page of the runs table.

    ``groups`` lists the values of the ``group_by`` column with their numbers of
    rows (None if not grouped; ``None`` as a value stands for runs without one).
    """

    rows: list[TableRow]
    token: str | None
    groups: list[tuple[str | None, int]] | None


@dataclass(frozen=True, slots=True)
class RunKeys:
    """The keys seen in a sample of recent runs, with their run and value counts.

    Each mapping goes from a key to ``(runs that have it, distinct values)``, the
    distinct values counted up to 2 (1: the same everywhere, 2: they differ);
    ``sample_size`` is the number of runs the sample held.
    """

    params: dict[str, tuple[int, int]]
    metrics: dict[str, tuple[int, int]]
    tags: dict[str, tuple[int, int]]
    sample_size: int


def _parse(
    text: object, name: str, expected: str, hint: str, *, sort: bool
) -> TableSort:
    """Parse a column, then (for a ``sort``) ASC or DESC; errors name ``name``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidValueError(name, text, expected, hint)
    try:
        parser = _Parser(text.strip(), _GRAMMAR)
        entity, key, _ = parser.identifier()
        descending = sort and parser.accept("DESC")
        if sort and not descending:
            parser.accept("ASC")
        if parser.current.kind != "end":
            raise parser.error("ASC, DESC or the end" if sort else "the end")
    except FilterSyntaxError as exc:
        raise InvalidValueError(
            name, text, f"{expected} ({exc.expected} at position {exc.position})", hint
        ) from None
    return TableSort(TableColumn(entity, key), descending)


def parse_column(text: object) -> TableColumn:
    """Parse a column name such as ``params.C`` or ``duration``."""
    return _parse(
        text,
        "column",
        "a column such as 'params.C', 'metrics.test_accuracy' or 'run_name'",
        "Quote keys with spaces in backticks: metrics.`my metric`.",
        sort=False,
    ).column


def parse_sort(text: object) -> TableSort:
    """Parse a sort key such as ``metrics.acc DESC`` (ascending by default)."""
    return _parse(
        text,
        "order_by",
        "a column and a direction such as 'metrics.acc DESC'",
        "Leave it out to sort by start time, newest first.",
        sort=True,
    )


def query_digest(parts: Sequence[object]) -> str:
    """Return a short digest of what a page token belongs to."""
    text = json.dumps([str(part) for part in parts])
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def encode_table_token(digest: str, segment: int, after: Sequence[TokenValue]) -> str:
    """Return the token of the page after the row whose sort values are ``after``."""
    data = {"query": digest, "segment": segment, "after": list(after)}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def decode_table_token(
    token: str | None, digest: str, segments: Sequence[int]
) -> tuple[int, list[TokenValue]] | None:
    """Return ``(segment, after)`` from a token; ``segments`` gives each one's length.

    None means the first page. A token of another query, or one that was altered,
    is an InvalidValueError.
    """
    if token is None or token == "":
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        segment = data["segment"]
        after = data["after"]
        valid = (
            data["query"] == digest
            and type(segment) is int
            and 0 <= segment < len(segments)
            and isinstance(after, list)
            and len(after) == segments[segment]
            and all(type(v) in (str, int, float, type(None)) for v in after)
        )
    except (
        binascii.Error,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        UnicodeError,
        ValueError,
    ):
        valid = False
    if not valid:
        raise InvalidValueError(
            "page_token",
            token,
            "the token of a previous page of the same table",
            "Start again from the first page; filter, sort and grouping must "
            "stay the same between pages.",
        )
    return segment, after
