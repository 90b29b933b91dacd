"""Keyset pagination: page tokens that say where the previous page ended.

A page token holds the sort values of the last row of its page, so the next page
starts strictly after that row: a row added or removed meanwhile never makes a row
repeat or vanish, and a late page costs what the first one does. Tokens are
base64url JSON, like MLflow's (``{"offset": ...}``), and opaque to callers:

``{"offset": 2000, "after": [0, 0.93, 1700000000000, "ab12..."], "query": "3f9c..."}``

``offset`` counts the rows before the next page (informative; a token with only an
``offset``, as older versions and MLflow write, still pages by offset). ``query``
is a digest of the search, so that a token is not used with another filter or order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mltrail._errors import InvalidValueError

__all__ = [
    "Page",
    "SortTerm",
    "decode_offset_token",
    "decode_page_token",
    "encode_offset_token",
    "encode_page_token",
    "keyset_condition",
    "next_token",
    "order_clauses",
    "query_fingerprint",
    "sort_columns",
    "start_condition",
]

MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
_HINT = "Pass the previous page's .token unchanged, with the same search arguments."

#: A sort value as stored in a token: what a column of the ordering can hold.
SortValue = int | float | str | None


@dataclass(frozen=True, slots=True)
class SortTerm:
    """One expression of an ORDER BY, and its direction."""

    expression: sa.ColumnElement[Any]
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """Where a page starts: after the row with sort values ``after``, else at offset."""

    offset: int = 0
    after: tuple[SortValue, ...] | None = None


def query_fingerprint(*parts: object) -> str:
    """Return a short digest of a search's arguments (not of its page size)."""
    # A str and a list of that one str are the same order_by: normalize to lists.
    normal = [[part] if isinstance(part, str) else part for part in parts]
    text = json.dumps(normal, default=list, sort_keys=True)
    return hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=8
    ).hexdigest()


def order_clauses(terms: Sequence[SortTerm]) -> list[sa.ColumnElement[Any]]:
    """Return the ORDER BY clauses of ``terms``."""
    return [
        term.expression.desc() if term.descending else term.expression.asc()
        for term in terms
    ]


def sort_columns(terms: Sequence[SortTerm]) -> list[sa.Label[Any]]:
    """Return the terms as selected columns ``sort_0``, ``sort_1``, ..."""
    return [term.expression.label(f"sort_{i}") for i, term in enumerate(terms)]


def start_condition(terms: Sequence[SortTerm], page: Page) -> sa.ColumnElement[bool]:
    """Return the condition that keeps the rows of ``page`` and those after it."""
    return sa.true() if page.after is None else keyset_condition(terms, page.after)


def next_token(
    rows: Sequence[sa.Row[Any]],
    limit: int,
    page: Page,
    terms: Sequence[SortTerm],
    fingerprint: str,
) -> str | None:
    """Return the token after ``rows[limit - 1]``, or None when no row follows.

    ``rows`` are up to ``limit + 1`` rows selected with ``sort_columns(terms)``.
    """
    if len(rows) <= limit:
        return None
    values = rows[limit - 1]._mapping
    after = [values[f"sort_{i}"] for i in range(len(terms))]
    return encode_page_token(page.offset + limit, after, fingerprint)


def keyset_condition(
    terms: Sequence[SortTerm], after: Sequence[SortValue]
) -> sa.ColumnElement[bool]:
    """Return the condition "the row sorts strictly after ``after``".

    A None in ``after`` is a missing value: the orderings put a "missing" flag term
    before any column that can be NULL, so within equal flags a NULL equals NULL and
    nothing sorts after it.
    """
    alternatives: list[sa.ColumnElement[bool]] = []
    equal: list[sa.ColumnElement[bool]] = []
    for term, value in zip(terms, after, strict=True):
        expression = term.expression
        if value is not None:
            beyond = expression < value if term.descending else expression > value
            alternatives.append(sa.and_(*equal, beyond))
            equal.append(expression == value)
        else:
            equal.append(expression.is_(None))
    return sa.or_(*alternatives) if alternatives else sa.false()


def encode_page_token(offset: int, after: Sequence[SortValue], fingerprint: str) -> str:
    """Return the token of the page that follows the row with sort values ``after``."""
    data = {"offset": offset, "after": list(after), "query": fingerprint}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def encode_offset_token(offset: int) -> str:
    """Return MLflow's token of the page that starts at ``offset`` (lists in memory)."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_offset_token(token: object) -> int:
    """Return the offset of a token from ``encode_offset_token``; 0 for None or ``""``.

    For lists paged in memory, such as one metric's history; searches use keyset
    tokens (``decode_page_token``).
    """
    data, offset = _load(token)
    if "after" in data:
        raise _reject(token)
    return offset


def _load(token: object) -> tuple[dict[str, object], int]:
    """Return the JSON object in a token and its offset; raise if it is not one."""
    if token is None or token == "":
        return {}, 0
    if not isinstance(token, str):
        raise _reject(token)
    try:
        data = json.loads(
            base64.urlsafe_b64decode(token.encode("ascii")),
            parse_constant=_refuse_constant,
        )
    except (binascii.Error, UnicodeError, ValueError, RecursionError):
        raise _reject(token) from None
    if not isinstance(data, dict):
        raise _reject(token)
    offset = data.get("offset", 0)
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise _reject(token)
    if not 0 <= offset <= MAX_INT64:
        raise _reject(token)
    return data, offset


def _reject(token: object) -> InvalidValueError:
    return InvalidValueError(
        "page_token", token, "a token returned by a previous search", _HINT
    )


def _is_sort_value(value: object) -> bool:
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return MIN_INT64 <= value <= MAX_INT64
    return isinstance(value, float) and math.isfinite(value)


def _refuse_constant(name: str) -> None:
    raise ValueError(name)  # NaN and Infinity are not JSON


def decode_page_token(
    token: object, fingerprint: str, *, sort_terms: int | None = None
) -> Page:
    """Return where the page of ``token`` starts; None or ``""`` is the first page.

    Raises InvalidValueError for anything a previous search did not return, and for a
    token of another search (another filter, order, view or experiments).
    """
    data, offset = _load(token)
    after = data.get("after")
    if after is None:
        return Page(offset)
    if not isinstance(after, list) or not all(map(_is_sort_value, after)):
        raise _reject(token)
    if data.get("query") != fingerprint:
        raise InvalidValueError(
            "page_token",
            token,
            "a token of this same search",
            "It was returned by a search with other experiments, filter, view "
            "type or order_by; " + _HINT[0].lower() + _HINT[1:],
        )
    if sort_terms is not None and len(after) != sort_terms:
        raise _reject(token)
    return Page(offset, tuple(after))
