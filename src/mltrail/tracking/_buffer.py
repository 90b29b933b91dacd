"""The write buffer of metric points: cheap to append to, flushed in batches.

``MetricBuffer.add`` validates a point and appends a tuple to a deque: no store call,
no lock and no object beyond that tuple. A daemon thread writes the points every
``MLTRAIL_FLUSH_INTERVAL`` seconds (default 0.5) or as soon as
``MLTRAIL_FLUSH_SIZE`` points (default 20,000) wait, with one
``store.log_metric_batches`` call. ``flush`` writes synchronously.

A failed write never loses points silently: a store that cannot be reached
(``StoreError``) keeps them for the next attempt; points the store refuses for good
(a deleted or unknown run) are dropped, and the failure is raised by an explicit
flush or warned once by the thread.
"""

from __future__ import annotations

import collections
import contextlib
import numbers
import os
import sys
import threading
import time
import warnings

from mltrail import _config
from mltrail._entities import LifecycleStage, Metric
from mltrail._errors import InvalidValueError, MltrailError, MltrailWarning, StoreError
from mltrail.store._base import Store
from mltrail.tracking import _pending
from mltrail.tracking._exit import at_exit

__all__ = ["MetricBuffer", "buffer_for", "check_metric", "flush_all"]

MAX_KEY_LENGTH = 1000
MIN_INT64 = -(2**63)
MAX_INT64 = 2**63 - 1
_KNOWN_KEYS_LIMIT = 100_000
_KNOWN_RUNS_LIMIT = 100_000

# Keys that passed validation once: the hot path checks a set instead of the rules.
_known_keys: set[str] = set()
_time = time.time

Point = tuple[str, str, float, int, int]  # run_id, key, value, timestamp, step


def check_metric_key(key: object) -> str:
    """Return ``key`` if it is a valid metric key, else raise InvalidValueError."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidValueError(
            "metric key",
            key,
            f"a non-empty str of at most {MAX_KEY_LENGTH} characters",
            "Use a name such as 'val/accuracy'.",
        )
    if "\x00" in key:
        raise InvalidValueError(
            "metric key", key, "a str without NUL characters", "Remove the '\\x00'."
        )
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError(
            "metric key",
            key,
            "valid UTF-8 text",
            "Remove the lone surrogate characters.",
        ) from None
    if len(_known_keys) < _KNOWN_KEYS_LIMIT:
        _known_keys.add(key)
    return key


def check_metric_value(key: str, value: object) -> float:
    """Return ``value`` as a float if it is a real number, else raise."""
    # bool is accepted as 1.0 / 0.0, as MLflow does (it is an int subclass).
    is_real = isinstance(value, numbers.Real) or (
        isinstance(value, numbers.Number) and not isinstance(value, numbers.Complex)
    )
    if is_real:
        try:
            return float(value)  # type: ignore[arg-type]  # a Real or a Decimal
        except (OverflowError, TypeError, ValueError):
            pass
    raise InvalidValueError(
        f"value of metric {key!r}",
        value,
        "a real number (int, float or a numpy scalar) that fits a float",
        "Convert it with float(...), or log text with log_param or set_tag.",
    )


def _check_integer(name: str, value: object, hint: str) -> int:
    if not isinstance(value, bool) and isinstance(value, numbers.Integral):
        number = int(value)
        if MIN_INT64 <= number <= MAX_INT64:
            return number
    raise InvalidValueError(name, value, "an int that fits in 64 bits", hint)


def check_metric_step(key: str, step: object) -> int:
    """Return ``step`` as an int (None is 0), else raise."""
    if step is None:
        return 0
    return _check_integer(
        f"step of metric {key!r}",
        step,
        "Pass the epoch or iteration number, such as step=3.",
    )


def check_metric_timestamp(key: str, timestamp: object) -> int:
    """Return ``timestamp`` in milliseconds (None is now), else raise."""
    if timestamp is None:
        return int(_time() * 1000)
    return _check_integer(
        f"timestamp of metric {key!r}",
        timestamp,
        "Pass milliseconds since the epoch, such as int(time.time() * 1000).",
    )


def check_metric(key: object, value: object, step: object, timestamp: object) -> Metric:
    """Validate one metric point and return it as a ``Metric``."""
    checked_key = check_metric_key(key)
    return Metric(
        checked_key,
        check_metric_value(checked_key, value),
        check_metric_timestamp(checked_key, timestamp),
        check_metric_step(checked_key, step),
    )


class MetricBuffer:
    """Metric points of one store that wait to be written, and their flush thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known_runs: set[str] = set()
        self.interval = _config.get_float_setting("MLTRAIL_FLUSH_INTERVAL")
        self.size = max(1, int(_config.get_float_setting("MLTRAIL_FLUSH_SIZE")))
        self._reset()

    def _reset(self) -> None:
        self.points: collections.deque[Point] = collections.deque()
        self.flush_lock = threading.Lock()
        self.wake = threading.Event()
        self.wake_pending = False
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.has_warned = False

    def add(
        self, run_id: str, key: str, value: object, step: object, timestamp: object
    ) -> None:
        """Validate a point and queue it; raises InvalidValueError on a bad point."""
        if type(key) is not str or key not in _known_keys:
            check_metric_key(key)
        if type(value) is not float:
            value = check_metric_value(key, value)
        if step is None:
            step = 0
        elif type(step) is not int or not MIN_INT64 <= step <= MAX_INT64:
            step = check_metric_step(key, step)
        if timestamp is None:
            timestamp = int(_time() * 1000)
        elif type(timestamp) is not int or not MIN_INT64 <= timestamp <= MAX_INT64:
            timestamp = check_metric_timestamp(key, timestamp)
        points = self.points
        points.append((run_id, key, value, timestamp, step))
        if len(points) >= self.size and not self.wake_pending:
            self.wake_pending = True
            self.wake.set()
        if self.thread is None:
            self._start()

    def _start(self) -> None:
        # Points must not wait for a thread that dies with the process: flush at
        # exit, also in a child process (registered here, in the process that logs).
        at_exit(_flush_at_exit)
        with self.flush_lock:
            if self.thread is None and not self.stopping:
                self.thread = threading.Thread(
                    target=self._loop, name="mltrail-metric-buffer", daemon=True
                )
                self.thread.start()

    def _loop(self) -> None:
        while not self.stopping:
            self.wake.wait(self.interval)
            self.wake.clear()
            self.wake_pending = False
            with self.flush_lock:
                self._write(explicit=False)

    def __len__(self) -> int:
        return len(self.points)

    def check_run(self, run_id: object) -> None:
        """Raise now if points cannot be written to ``run_id`` (unknown or deleted).

        A run is looked up once; runs created or resumed here are known already.
        """
        if run_id in self.known_runs:
            return
        run = self.store.get_run(run_id)  # type: ignore[arg-type]  # checked by the store
        if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidValueError(
                "run",
                run_id,
                "an active run",
                "It is deleted; restore it with restore_run() before logging to it.",
            )
        self.remember(run.info.run_id)

    def remember(self, run_id: str) -> None:
        """Note that ``run_id`` exists, so that ``check_run`` does not look it up."""
        if len(self.known_runs) >= _KNOWN_RUNS_LIMIT:
            self.known_runs.clear()
        self.known_runs.add(run_id)

    def flush(self) -> None:
        """Write every queued point; return once they are durable.

        Raises
        ------
        MltrailError
            The store's error if some points could not be written.
        """
        with self.flush_lock:
            self._write(explicit=True)
            # A REST store sends some writes in the background: wait for them too.
            drain_writes = getattr(self.store, "drain_writes", None)
            if drain_writes is not None:
                drain_writes()

    def stop(self) -> None:
        """Stop the thread after its current write."""
        self.stopping = True
        self.wake.set()

    def end_run(self, run_id: str, status: str, end_time: int) -> None:
        """Write every queued point and set the run's status in one transaction.

        If the store refuses that transaction, the points are written as ``flush``
        writes them (raising its error), then the status on its own.

        Raises
        ------
        MltrailError
            The store's error if some points or the status could not be written.
        """
        with self.flush_lock:
            grouped = self._take()
            if grouped:
                try:
                    self.store.update_run_info(
                        run_id,
                        status=status,
                        end_time=end_time,
                        metric_batches=list(grouped.items()),
                    )
                except MltrailError:
                    self._write_each(grouped, explicit=True)
                else:
                    self.has_warned = False
                    return
        self.store.update_run_info(run_id, status=status, end_time=end_time)

    def _take(self) -> dict[str, list[Metric]]:
        """Remove every queued point and return them grouped by run."""
        points = self.points
        popleft = points.popleft
        grouped: dict[str, list[Metric]] = {}
        for _ in range(len(points)):
            run_id, key, value, timestamp, step = popleft()
            metrics = grouped.get(run_id)
            if metrics is None:
                metrics = grouped[run_id] = []
            metrics.append(Metric(key, value, timestamp, step))
        return grouped

    def _write(self, *, explicit: bool) -> None:
        grouped = self._take()
        if not grouped:
            return
        try:
            self.store.log_metric_batches(list(grouped.items()))
        except MltrailError:
            self._write_each(grouped, explicit=explicit)
        else:
            self.has_warned = False

    def _write_each(self, grouped: dict[str, list[Metric]], *, explicit: bool) -> None:
        """Write run by run, so that one bad run does not hold back the others."""
        first: MltrailError | None = None
        for run_id, metrics in grouped.items():
            try:
                self.store.log_metric_batches([(run_id, metrics)])
            except StoreError as error:
                self.points.extend(
                    (run_id, m.key, m.value, m.timestamp, m.step) for m in metrics
                )
                error.add_note(
                    f"{len(metrics)} metric points of run {run_id} stay buffered; "
                    "mltrail retries them."
                )
                first = first or error
            except MltrailError as error:
                error.add_note(
                    f"{len(metrics)} metric points of run {run_id} were not written."
                )
                first = first or error
        if first is None:
            return
        if explicit:
            raise first
        if not self.has_warned:
            self.has_warned = True
            notes = " ".join(getattr(first, "__notes__", ()))
            # A warning turned into an error by the user's filters must not kill the
            # thread: the points are handled above either way.
            with contextlib.suppress(MltrailWarning):
                warnings.warn(
                    f"mltrail could not write buffered metrics: {first} {notes}",
                    MltrailWarning,
                    stacklevel=2,
                )


_buffers_lock = threading.Lock()
_buffers: dict[int, MetricBuffer] = {}


def buffer_for(store: Store) -> MetricBuffer:
    """Return the buffer of ``store``, creating it on first use."""
    buffer = _buffers.get(id(store))
    if buffer is None or buffer.store is not store:
        with _buffers_lock:
            buffer = _buffers.get(id(store))
            if buffer is None or buffer.store is not store:
                buffer = _buffers[id(store)] = MetricBuffer(store)
    return buffer


def existing_buffer(store: Store) -> MetricBuffer | None:
    """Return the buffer of ``store`` if one was created."""
    buffer = _buffers.get(id(store))
    return buffer if buffer is not None and buffer.store is store else None


def _flush_at_exit() -> None:
    """Write what is buffered when the process leaves; warn about what could not be."""
    _pending.wait(renderings=False)
    for error in flush_all(stop=True):
        # A warning turned into an error must not hide the other buffers' points.
        with contextlib.suppress(MltrailWarning):
            warnings.warn(f"mltrail at exit: {error}", MltrailWarning, stacklevel=1)
    # Writes a REST store sends in the background; atexit does not run in a
    # multiprocessing child, this hook does.
    sender = sys.modules.get("mltrail.store._rest_sender")
    if sender is not None:
        sender.drain_all()


def flush_all(*, stop: bool = False) -> list[MltrailError]:
    """Flush every buffer, optionally stopping its thread; return the errors."""
    errors = []
    for buffer in list(_buffers.values()):
        if stop:
            buffer.stop()
        try:
            buffer.flush()
        except MltrailError as error:
            errors.append(error)
    return errors


def reset() -> None:
    """Stop every buffer's thread and forget the buffers (for tests)."""
    with _buffers_lock:
        buffers = list(_buffers.values())
        _buffers.clear()
    for buffer in buffers:
        buffer.stop()
        if buffer.thread is not None:
            buffer.thread.join(timeout=10)


def _reset_after_fork() -> None:
    # The parent writes the points it queued; the child starts empty with no thread.
    for buffer in _buffers.values():
        buffer._reset()


os.register_at_fork(after_in_child=_reset_after_fork)
