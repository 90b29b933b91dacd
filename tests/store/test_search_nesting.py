"""A deeply nested filter is a syntax error, never a RecursionError (#9 §5)."""

from __future__ import annotations

import pytest

from mltrail._entities import Metric
from mltrail._errors import FilterSyntaxError
from mltrail.store._search import MAX_NESTING, parse_filter
from mltrail.store._sql import SqlStore


def _parentheses(levels: int) -> str:
    return "(" * levels + "metrics.a > 1" + ")" * levels


def _nots(levels: int) -> str:
    return "NOT " * levels + "metrics.a > 1"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        (_parentheses(MAX_NESTING + 1), MAX_NESTING),
        (_parentheses(400), MAX_NESTING),
        (_nots(MAX_NESTING + 1), 4 * MAX_NESTING),
        (_nots(10_000), 4 * MAX_NESTING),
        ("NOT (" * 300 + "metrics.a > 1" + ")" * 300, 5 * (MAX_NESTING // 2)),
        ("(" * 600, MAX_NESTING),
    ],
    ids=["one-too-many", "parentheses-400", "nots", "nots-10000", "mixed", "open"],
)
def test_too_deep_is_a_syntax_error_at_the_first_level_too_many(
    text: str, position: int
) -> None:
    with pytest.raises(FilterSyntaxError, match="expected fewer nested NOTs") as info:
        parse_filter(text)
    assert info.value.position == position


def test_the_deepest_allowed_filters_run_on_every_backend(store: SqlStore) -> None:
    run_id = store.create_run(
        "0", user_id="ada", start_time=0, run_name="r"
    ).info.run_id
    store.log_batch(run_id, metrics=[Metric("a", 2.0, 0, 0)])
    mixed = "NOT (" * (MAX_NESTING // 2) + "metrics.a > 1" + ")" * (MAX_NESTING // 2)
    for text in (_parentheses(MAX_NESTING), _nots(MAX_NESTING), mixed):
        found = store.search_runs(["0"], filter_string=text)
        # An even number of NOTs cancels out (MAX_NESTING and its half are
        # even); parentheses change nothing.
        assert [run.info.run_id for run in found] == [run_id]
