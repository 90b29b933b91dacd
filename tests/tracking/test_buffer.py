from __future__ import annotations

import decimal
import fractions
import os
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltrail._entities import Metric
from mltrail._errors import (
    InvalidValueError,
    MltrailError,
    MltrailWarning,
    NotFoundError,
    StoreError,
)
from mltrail.store._sql import SqlStore
from mltrail.tracking import _buffer
from mltrail.tracking._buffer import MetricBuffer, buffer_for, check_metric


class FlakyStore:
    """A real store whose ``log_metric_batches`` raises the queued errors first."""

    def __init__(self, store: SqlStore, errors: Sequence[MltrailError] = ()) -> None:
        self.store = store
        self.errors = list(errors)
        self.calls = 0

    def log_metric_batches(
        self, batches: Sequence[tuple[str, Sequence[Metric]]]
    ) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.store.log_metric_batches(batches)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def _new_run(store: SqlStore) -> str:
    run = store.create_run("0", user_id="u", start_time=0, run_name="r")
    return run.info.run_id


def _values(store: SqlStore, run_id: str, key: str = "m") -> list[float]:
    return [metric.value for metric in store.get_metric_history(run_id, key)]


def _wait_until(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]  # a callable
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "metric key must be a non-empty str"),
        ("k" * 1001, "at most 1000 characters"),
        (3, "metric key must be"),
        (None, "metric key must be"),
        (["a"], "metric key must be"),
        ("bad\ud800", "valid UTF-8"),
        ("a\x00b", "without NUL"),
    ],
    ids=["empty", "too-long", "int", "none", "list", "surrogate", "nul"],
)
def test_bad_key_is_rejected(key: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        check_metric(key, 1.0, None, None)


@pytest.mark.parametrize(
    "value",
    [
        "0.5",
        None,
        [1.0],
        complex(1, 1),
        np.complex128(1),
        10**400,
        decimal.Decimal("sNaN"),
    ],
    ids=[
        "str",
        "none",
        "list",
        "complex",
        "numpy-complex",
        "huge-int",
        "signaling-nan",
    ],
)
def test_bad_value_is_rejected_with_hint(value: object) -> None:
    with pytest.raises(
        InvalidValueError, match=r"value of metric 'm'.*float\(\.\.\.\)"
    ):
        check_metric("m", value, None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (True, 1.0),
        (np.float32(0.5), 0.5),
        (np.int64(7), 7.0),
        (decimal.Decimal("0.25"), 0.25),
        (fractions.Fraction(1, 4), 0.25),
        (float("inf"), float("inf")),
    ],
    ids=["int", "bool", "float32", "int64", "decimal", "fraction", "inf"],
)
def test_real_numbers_are_accepted(value: object, expected: float) -> None:
    assert check_metric("m", value, None, None).value == expected


def test_nan_is_accepted() -> None:
    assert np.isnan(check_metric("m", float("nan"), None, None).value)


@pytest.mark.parametrize(
    "step",
    [1.5, float("nan"), float("inf"), "3", True, 2**63],
    ids=["float", "nan", "inf", "str", "bool", "too-big"],
)
def test_bad_step_is_rejected(step: object) -> None:
    with pytest.raises(InvalidValueError, match=r"step of metric 'm'.*step=3"):
        check_metric("m", 1.0, step, None)


def test_numpy_step_is_accepted() -> None:
    assert check_metric("m", 1.0, np.int32(4), None).step == 4


@pytest.mark.parametrize(
    "timestamp", [1.5, "now", -(2**63) - 1], ids=["float", "str", "low"]
)
def test_bad_timestamp_is_rejected(timestamp: object) -> None:
    with pytest.raises(InvalidValueError, match="timestamp of metric 'm'"):
        check_metric("m", 1.0, None, timestamp)


def test_defaults_are_step_zero_and_now() -> None:
    before = int(time.time() * 1000)
    metric = check_metric("m", 1.0, None, None)
    assert metric.step == 0
    assert before <= metric.timestamp <= int(time.time() * 1000)


def test_add_validates_before_queueing(sqlite_store: SqlStore) -> None:
    buffer = MetricBuffer(sqlite_store)
    with pytest.raises(InvalidValueError, match="step of metric"):
        buffer.add("r" * 32, "m", 1.0, 0.5, None)
    with pytest.raises(InvalidValueError, match="metric key"):
        buffer.add("r" * 32, ["unhashable"], 1.0, 0, None)  # type: ignore[arg-type]
    assert len(buffer) == 0


def test_add_converts_numpy_scalars(sqlite_store: SqlStore) -> None:
    run_id = _new_run(sqlite_store)
    buffer = MetricBuffer(sqlite_store)
    buffer.add(run_id, "m", np.float64(0.5), np.int64(3), np.int64(5))
    buffer.flush()
    (metric,) = sqlite_store.get_metric_history(run_id, "m")
    assert (metric.value, metric.step, metric.timestamp) == (0.5, 3, 5)


@pytest.mark.parametrize("argument", ["step", "timestamp"])
def test_add_rejects_int_beyond_64_bits(sqlite_store: SqlStore, argument: str) -> None:
    buffer = MetricBuffer(sqlite_store)
    values = {"step": 0, "timestamp": 0, argument: 2**63}
    with pytest.raises(InvalidValueError, match=f"{argument} of metric 'm'"):
        buffer.add("r" * 32, "m", 1.0, values["step"], values["timestamp"])


def test_flush_writes_points_of_several_runs(store: SqlStore) -> None:
    first, second = _new_run(store), _new_run(store)
    buffer = MetricBuffer(store)
    for step in range(3):
        buffer.add(first, "m", float(step), step, None)
        buffer.add(second, "m", -float(step), step, None)
    buffer.flush()
    assert _values(store, first) == [0.0, 1.0, 2.0]
    assert _values(store, second) == [0.0, -1.0, -2.0]
    assert len(buffer) == 0


def test_flush_of_empty_buffer_writes_nothing(sqlite_store: SqlStore) -> None:
    flaky = FlakyStore(sqlite_store)
    MetricBuffer(flaky).flush()  # type: ignore[arg-type]  # duck-typed store
    assert flaky.calls == 0


def test_thread_flushes_within_interval(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_FLUSH_INTERVAL", "0.05")
    run_id = _new_run(sqlite_store)
    buffer = MetricBuffer(sqlite_store)
    buffer.add(run_id, "m", 1.0, 0, None)
    assert _wait_until(lambda: _values(sqlite_store, run_id) == [1.0])
    buffer.stop()


def test_thread_flushes_when_size_is_reached(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_FLUSH_INTERVAL", "3600")
    monkeypatch.setenv("MLTRAIL_FLUSH_SIZE", "10")
    run_id = _new_run(sqlite_store)
    buffer = MetricBuffer(sqlite_store)
    for step in range(10):
        buffer.add(run_id, "m", float(step), step, None)
    assert _wait_until(lambda: len(_values(sqlite_store, run_id)) == 10)
    buffer.stop()


def test_unreachable_store_keeps_points_for_next_flush(sqlite_store: SqlStore) -> None:
    run_id = _new_run(sqlite_store)
    flaky = FlakyStore(sqlite_store, [StoreError("down"), StoreError("still down")])
    buffer = MetricBuffer(flaky)  # type: ignore[arg-type]  # duck-typed store
    buffer.add(run_id, "m", 1.0, 0, None)
    with pytest.raises(StoreError, match="still down") as raised:
        buffer.flush()
    assert "stay buffered" in " ".join(raised.value.__notes__)
    assert len(buffer) == 1
    buffer.flush()
    assert _values(sqlite_store, run_id) == [1.0]


def test_refused_run_does_not_hold_back_others(sqlite_store: SqlStore) -> None:
    good = _new_run(sqlite_store)
    buffer = MetricBuffer(sqlite_store)
    buffer.add("f" * 32, "m", 1.0, 0, None)
    buffer.add(good, "m", 2.0, 0, None)
    with pytest.raises(NotFoundError) as raised:
        buffer.flush()
    assert "were not written" in " ".join(raised.value.__notes__)
    assert _values(sqlite_store, good) == [2.0]
    assert len(buffer) == 0


def test_end_run_writes_points_and_status_in_one_transaction(store: SqlStore) -> None:
    run_id, other = _new_run(store), _new_run(store)
    buffer = MetricBuffer(store)
    buffer.add(run_id, "m", 1.0, 0, None)
    buffer.add(other, "m", 2.0, 0, None)
    calls: list[str] = []
    spy = FlakyStore(store)
    spy.log_metric_batches = lambda batches: calls.append("log_metric_batches")  # type: ignore[method-assign]  # a spy
    buffer.store = spy  # type: ignore[assignment]  # duck-typed store
    buffer.end_run(run_id, "FINISHED", 5)
    assert calls == []
    assert store.get_run(run_id).info.status == "FINISHED"
    assert _values(store, run_id) == [1.0]
    assert _values(store, other) == [2.0]
    assert len(buffer) == 0


def test_end_run_of_empty_buffer_sets_the_status(sqlite_store: SqlStore) -> None:
    run_id = _new_run(sqlite_store)
    MetricBuffer(sqlite_store).end_run(run_id, "KILLED", 5)
    info = sqlite_store.get_run(run_id).info
    assert (info.status, info.end_time) == ("KILLED", 5)


def test_end_run_with_refused_points_raises_and_keeps_status(
    sqlite_store: SqlStore,
) -> None:
    run_id = _new_run(sqlite_store)
    buffer = MetricBuffer(sqlite_store)
    buffer.add("f" * 32, "m", 1.0, 0, None)
    buffer.add(run_id, "m", 2.0, 0, None)
    with pytest.raises(NotFoundError) as raised:
        buffer.end_run(run_id, "FINISHED", 5)
    assert "were not written" in " ".join(raised.value.__notes__)
    assert _values(sqlite_store, run_id) == [2.0]  # written as flush() would
    assert sqlite_store.get_run(run_id).info.status == "RUNNING"
    assert len(buffer) == 0


def test_end_run_with_unreachable_store_keeps_points(sqlite_store: SqlStore) -> None:
    run_id = _new_run(sqlite_store)
    flaky = FlakyStore(sqlite_store, [StoreError("down")])
    buffer = MetricBuffer(flaky)  # type: ignore[arg-type]  # duck-typed store
    buffer.add(run_id, "m", 1.0, 0, None)
    original = sqlite_store.update_run_info

    def refuse(*args: object, **kwargs: object) -> object:
        raise StoreError("down")

    flaky.update_run_info = refuse  # type: ignore[attr-defined]  # a refusing store
    with pytest.raises(StoreError, match="down"):
        buffer.end_run(run_id, "FINISHED", 5)
    assert len(buffer) == 1
    flaky.update_run_info = original  # type: ignore[attr-defined]  # reachable again
    buffer.end_run(run_id, "FINISHED", 5)
    assert _values(sqlite_store, run_id) == [1.0]
    assert sqlite_store.get_run(run_id).info.status == "FINISHED"


def test_thread_warns_once_and_keeps_points(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_FLUSH_INTERVAL", "0.02")
    run_id = _new_run(sqlite_store)
    flaky = FlakyStore(sqlite_store, [StoreError("down")] * 6)
    buffer = MetricBuffer(flaky)  # type: ignore[arg-type]  # duck-typed store

    def log_and_wait() -> bool:
        buffer.add(run_id, "m", 1.0, 0, None)
        return _wait_until(lambda: _values(sqlite_store, run_id) == [1.0])

    with pytest.warns(MltrailWarning, match="could not write buffered") as caught:
        written = log_and_wait()
    buffer.stop()
    assert written
    assert len(caught) == 1


def test_thread_survives_warnings_as_errors(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_FLUSH_INTERVAL", "0.02")
    run_id = _new_run(sqlite_store)
    flaky = FlakyStore(sqlite_store, [StoreError("down")] * 2)
    buffer = MetricBuffer(flaky)  # type: ignore[arg-type]  # duck-typed store
    buffer.add(run_id, "m", 1.0, 0, None)  # filterwarnings=error is on in the suite
    assert _wait_until(lambda: _values(sqlite_store, run_id) == [1.0])
    buffer.stop()


def test_buffer_for_returns_one_buffer_per_store(sqlite_store: SqlStore) -> None:
    assert buffer_for(sqlite_store) is buffer_for(sqlite_store)
    assert _buffer.existing_buffer(sqlite_store) is buffer_for(sqlite_store)


def test_flush_all_reports_errors(sqlite_store: SqlStore) -> None:
    buffer = buffer_for(sqlite_store)
    buffer.add("f" * 32, "m", 1.0, 0, None)
    (error,) = _buffer.flush_all(stop=True)
    assert isinstance(error, NotFoundError)
    assert buffer.stopping


def test_forked_child_starts_empty(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parent's thread must not write the point before the check below.
    monkeypatch.setenv("MLTRAIL_FLUSH_INTERVAL", "600")
    buffer = buffer_for(sqlite_store)
    buffer.add(_new_run(sqlite_store), "m", 1.0, 0, None)
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads may deadlock.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: nothing queued, no thread
        os._exit(0 if len(buffer) == 0 and buffer.thread is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(buffer) == 1


_KEYS = st.text(
    st.characters(codec="utf-8", blacklist_characters="\x00"),
    min_size=1,
    max_size=50,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    key=_KEYS,
    value=st.floats(allow_nan=True, allow_infinity=True),
    step=st.integers(-(2**63), 2**63 - 1),
)
def test_every_accepted_point_reads_back_equal(
    sqlite_store: SqlStore, key: str, value: float, step: int
) -> None:
    run_id = _new_run(sqlite_store)
    buffer = MetricBuffer(sqlite_store)
    buffer.add(run_id, key, value, step, 42)
    buffer.flush()
    (metric,) = sqlite_store.get_metric_history(run_id, key)
    assert (metric.key, metric.step, metric.timestamp) == (key, step, 42)
    assert metric.value == value or (np.isnan(metric.value) and np.isnan(value))
