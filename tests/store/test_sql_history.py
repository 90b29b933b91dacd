"""Downsampled metric histories: whole when short, ranges keeping extremes when long."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltrail._entities import Metric
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store._sql import SqlStore


def _history(
    store: SqlStore, points: list[tuple[int, float]], key: str = "loss"
) -> str:
    run = store.create_run("0", user_id="ada", start_time=0, run_name="r")
    run_id = run.info.run_id
    metrics = [Metric(key, value, 1000 + step, step) for step, value in points]
    store.log_batch(run_id, metrics=metrics)
    return run_id


def test_a_short_history_comes_back_whole(store: SqlStore) -> None:
    run_id = _history(store, [(0, 1.0), (2, math.nan), (1, math.inf), (3, -0.5)])
    sample = store.sample_metric_history(run_id, "loss")
    assert not sample.is_sampled
    assert sample.total == 4
    assert sample.x == [0, 1, 2, 3]
    assert sample.values[0] == 1.0
    assert sample.values[1] == math.inf
    assert math.isnan(sample.values[2])  # type: ignore[arg-type]
    assert sample.minima[3] == sample.maxima[3] == -0.5
    assert sample.counts == [1, 1, 1, 1]


def test_a_long_history_keeps_its_spike_and_its_dip(store: SqlStore) -> None:
    points = [(step, 1.0) for step in range(1000)]
    points[437] = (437, 50.0)
    points[812] = (812, -7.0)
    run_id = _history(store, points)
    sample = store.sample_metric_history(run_id, "loss", max_points=10)
    assert sample.is_sampled
    assert len(sample.x) == 10
    assert sum(sample.counts) == sample.total == 1000
    assert max(m for m in sample.maxima if m is not None) == 50.0
    assert min(m for m in sample.minima if m is not None) == -7.0
    assert sample.x[0] == pytest.approx(49.5)
    assert sample.values[4] == pytest.approx((99 + 50) / 100)


def test_the_timestamp_axis_divides_times(store: SqlStore) -> None:
    run_id = _history(store, [(step, float(step)) for step in range(100)])
    sample = store.sample_metric_history(
        run_id, "loss", x_axis="timestamp", max_points=4
    )
    assert sample.x_axis == "timestamp"
    assert sample.x == [1012.0, 1037.0, 1062.0, 1087.0]
    assert sample.counts == [25, 25, 25, 25]


def test_a_zoomed_range_comes_back_finer(store: SqlStore) -> None:
    run_id = _history(store, [(step, float(step % 7)) for step in range(1000)])
    sample = store.sample_metric_history(
        run_id, "loss", start=100, end=109, max_points=10
    )
    assert not sample.is_sampled
    assert sample.x == [float(step) for step in range(100, 110)]


def test_many_points_at_one_step_come_back_whole_when_few(store: SqlStore) -> None:
    run = store.create_run("0", user_id="ada", start_time=0, run_name="r")
    store.log_batch(
        run.info.run_id, metrics=[Metric("m", float(i), i, 0) for i in range(5)]
    )
    sample = store.sample_metric_history(run.info.run_id, "m", max_points=10)
    assert not sample.is_sampled
    assert sample.values == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_ranges_of_non_finite_values(store: SqlStore) -> None:
    points = [
        (0, math.inf),
        (1, 2.0),
        (2, math.nan),
        (3, math.nan),
        (4, -math.inf),
        (5, 1.0),
    ]
    run_id = _history(store, points)
    sample = store.sample_metric_history(run_id, "loss", max_points=3)
    assert sample.counts == [2, 2, 2]
    assert sample.maxima[0] == math.inf
    assert sample.minima[0] == 2.0
    assert sample.values[1] is None
    assert sample.minima[1] is None
    assert sample.minima[2] == -math.inf
    assert sample.maxima[2] == 1.0
    only_infinite = _history(store, [(0, math.inf), (1, -math.inf), (2, 0.0)], "x")
    ranges = store.sample_metric_history(only_infinite, "x", max_points=2)
    minus = _history(store, [(0, -math.inf), (1, -math.inf), (2, math.inf)], "y")
    assert store.sample_metric_history(minus, "y", max_points=2).maxima == [
        -math.inf,
        math.inf,
    ]
    assert ranges.minima[0] == -math.inf
    assert ranges.maxima[0] == math.inf


def test_no_points_is_an_empty_sample(store: SqlStore) -> None:
    run_id = _history(store, [])
    sample = store.sample_metric_history(run_id, "loss")
    assert sample.total == 0
    assert sample.x == []


def test_an_unknown_run_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.sample_metric_history("0" * 32, "loss")
    with pytest.raises(NotFoundError):
        store.metric_keys_with_history("0" * 32)


def test_keys_with_history_leave_single_points_out(store: SqlStore) -> None:
    run_id = _history(store, [(step, 1.0) for step in range(5)])
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.9, 0, 0),
            Metric("same_step", 0.1, 5, 0),
            Metric("same_step", 0.2, 6, 0),
        ],
    )
    assert store.metric_keys_with_history(run_id) == ["loss", "same_step"]
    assert store.metric_keys_with_history(_history(store, [])) == []


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"x_axis": "wall"}, "x_axis must be 'step' or 'timestamp'"),
        ({"start": 5, "end": 1}, r"start must be at most end \(1\)"),
        ({"start": 1.5}, "start must be an int"),
        ({"end": True}, "end must be an int"),
        ({"max_points": 1}, "max_points must be an int from 2"),
    ],
    ids=["axis", "reversed", "float-start", "bool-end", "points"],
)
def test_bad_arguments_are_clear_errors(
    store: SqlStore, arguments: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.sample_metric_history("0" * 32, "loss", **arguments)  # type: ignore[arg-type]


def test_huge_bounds_are_clamped(store: SqlStore) -> None:
    run_id = _history(store, [(1, 1.0)])
    sample = store.sample_metric_history(run_id, "loss", start=-(2**70), end=2**70)
    assert sample.values == [1.0]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, width=32), min_size=1, max_size=60
    ),
    max_points=st.integers(2, 20),
)
def test_sampling_keeps_every_extreme_and_every_point(
    sqlite_store: SqlStore, values: list[float], max_points: int
) -> None:
    run_id = _history(sqlite_store, list(enumerate(values)))
    sample = sqlite_store.sample_metric_history(run_id, "loss", max_points=max_points)
    assert len(sample.x) <= max_points
    assert sum(sample.counts) == len(values)
    assert min(m for m in sample.minima if m is not None) == min(values)
    assert max(m for m in sample.maxima if m is not None) == max(values)
    assert sample.x == sorted(sample.x)
