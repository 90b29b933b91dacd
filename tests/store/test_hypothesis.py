"""Properties on SQLite: accepted values read back equal; history stays ordered."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltrail._entities import Metric, Param, RunTag
from mltrail.store._sql import SqlStore

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
KEYS = st.text(TEXT, min_size=1, max_size=1000)
VALUES = st.text(TEXT, max_size=3000)
NUMBERS = st.floats() | st.integers(-(2**53), 2**53)
INT64 = st.integers(-(2**63), 2**63 - 1)


def _same_number(got: float, expected: float) -> bool:
    if math.isnan(expected):
        return math.isnan(got)
    return got == expected and math.copysign(1, got) == math.copysign(1, expected)


@SETTINGS
@given(
    params=st.dictionaries(KEYS, VALUES, max_size=5),
    tags=st.dictionaries(KEYS, VALUES, max_size=5),
    metrics=st.dictionaries(KEYS, st.tuples(NUMBERS, INT64, INT64), max_size=5),
)
def test_accepted_values_round_trip(
    sqlite_store: SqlStore,
    params: dict[str, str],
    tags: dict[str, str],
    metrics: dict[str, tuple[float, int, int]],
) -> None:
    run_id = sqlite_store.create_run(
        "0", user_id="u", start_time=0, run_name=""
    ).info.run_id
    sqlite_store.log_batch(
        run_id,
        metrics=[Metric(k, v, t, s) for k, (v, t, s) in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    data = sqlite_store.get_run(run_id).data
    assert data.params == params
    assert data.tags == tags
    assert data.metrics.keys() == metrics.keys()
    for key, (value, timestamp, step) in metrics.items():
        assert _same_number(data.metrics[key], float(value))
        [point] = sqlite_store.get_metric_history(run_id, key)
        assert _same_number(point.value, float(value))
        assert (point.timestamp, point.step) == (timestamp, step)


@SETTINGS
@given(
    batches=st.lists(
        st.lists(
            st.tuples(
                st.integers(-5, 5),
                st.integers(0, 5),
                st.floats(allow_nan=False, allow_infinity=False, width=32),
            ),
            min_size=1,
            max_size=8,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_history_is_ordered_and_latest_is_greatest(
    sqlite_store: SqlStore, batches: list[list[tuple[int, int, float]]]
) -> None:
    run_id = sqlite_store.create_run(
        "0", user_id="u", start_time=0, run_name=""
    ).info.run_id
    for batch in batches:
        sqlite_store.log_batch(
            run_id, metrics=[Metric("m", v, t, s) for s, t, v in batch]
        )
    history = sqlite_store.get_metric_history(run_id, "m")
    logged = [point for batch in batches for point in batch]
    got = [(m.step, m.timestamp, m.value) for m in history]
    assert sorted(got) == sorted((s, t, float(v)) for s, t, v in logged)
    assert [(s, t) for s, t, _ in got] == sorted((s, t) for s, t, _ in got)
    greatest = max((s, t, float(v)) for s, t, v in logged)
    assert sqlite_store.get_run(run_id).data.metrics["m"] == greatest[2]
