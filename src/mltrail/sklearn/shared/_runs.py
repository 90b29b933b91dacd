"""The tracking calls of autologging: the one place that uses ``mltrail.tracking``.

Own runs are started with the fluent API, so they are the active run while ``fit``
runs; everything else goes through a ``TrackingClient`` by run id, in batches.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import PARENT_RUN_ID_TAG

if TYPE_CHECKING:
    from mltrail._entities import Param

__all__ = [
    "active_run_id",
    "add_metrics",
    "end_run",
    "end_run_later",
    "log_batch",
    "log_child_runs",
    "log_model",
    "params_that_fit",
    "start_run",
]

# Oversized param values are written whole under this folder of the run.
PARAMS_ARTIFACT_DIR = "params"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
# Runs this module started whose params are not logged yet (oldest first).
MAX_FRESH_RUNS = 1000
_fresh_runs: dict[str, None] = {}
_lock = threading.Lock()


def _client() -> Any:
    from mltrail.tracking._runs import current_client

    return current_client()


def active_run_id() -> str | None:
    """Return the id of the active run in this context, if any."""
    from mltrail import tracking

    run = tracking.active_run()
    return None if run is None else str(run.info.run_id)


def start_run(tags: Mapping[str, str], *, nested: bool = False) -> str:
    """Start a run with the fluent API (it becomes the active run) and return its id."""
    from mltrail import tracking

    run = tracking.start_run(tags=dict(tags), nested=nested)
    run_id = str(run.info.run_id)
    with _lock:
        _fresh_runs[run_id] = None
        while len(_fresh_runs) > MAX_FRESH_RUNS:  # runs that never logged params
            del _fresh_runs[next(iter(_fresh_runs))]
    return run_id


def _is_first_params(run_id: str) -> bool:
    """Whether autolog started ``run_id`` and logs its params for the first time."""
    with _lock:
        return _fresh_runs.pop(run_id, False) is None


def end_run(run_id: str, status: str) -> None:
    """End the run started by ``start_run``."""
    from mltrail import tracking

    run = tracking.active_run()
    if run is not None and run.info.run_id == run_id:
        tracking.end_run(status=status)
    else:  # pragma: no cover - user code inside fit ended our run already
        _client().set_terminated(run_id, status=status)


def end_run_later(run_id: str, status: str) -> None:
    """End the run started by ``start_run`` once its queued background jobs are done.

    The run stops being the active run now; reads and ends in this process wait for
    its jobs, so they never see it half-written.
    """
    from mltrail.sklearn.shared import _background
    from mltrail.tracking import _runs

    end_time = int(time.time() * 1000)
    _runs.detach_run(run_id)

    def end() -> list[tuple[str, bytes]]:
        _runs.end_detached_run(run_id, status, end_time)
        return []

    _background.submit(run_id, end, name="end of run", after_tasks=True)


def log_batch(
    run_id: str,
    params: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Write params, metrics and tags in one call."""
    from mltrail._entities import Metric, RunTag

    now = int(time.time() * 1000)
    client = _client()
    batch = {
        "metrics": [Metric(k, v, now, 0) for k, v in (metrics or {}).items()],
        "params": params_that_fit(run_id, params or {}),
        "tags": [RunTag(k, v) for k, v in (tags or {}).items()],
    }
    store = client._store
    first = bool(batch["params"]) and _is_first_params(run_id)
    if first and getattr(store, "sends_params_later", False):
        # No value can be there already: the fit does not wait for the round trip.
        store.log_batch(run_id, **batch, background=True)
    else:
        client.log_batch(run_id, **batch)


def params_that_fit(run_id: str, params: Mapping[str, str]) -> list[Param]:
    """Return ``params`` as the store takes them; oversized values become artifacts.

    A value longer than the store's limit (1 MiB, a ``CountVectorizer``'s large
    ``vocabulary``) would make the store reject the whole batch. It is written whole
    to ``params/<key>.txt`` instead, and the param's value names that file.
    """
    from mltrail._entities import Param
    from mltrail.store._values import MAX_VALUE_LENGTH

    result = []
    files = []
    for key, value in params.items():
        if len(value) > MAX_VALUE_LENGTH:
            path = f"{PARAMS_ARTIFACT_DIR}/{_UNSAFE_NAME.sub('_', key)}.txt"
            files.append((path, value.encode("utf-8", "backslashreplace")))
            value = f"({len(value):,} characters, logged whole as artifact {path})"
        result.append(Param(key, value))
    if files:
        from mltrail.sklearn.shared import _background

        _background.submit(run_id, lambda: files, name="oversized params")
    return result


def log_model(
    run_id: str,
    model: Any,
    *,
    serialization_format: str,
    signature: Any,
    input_example: Any,
    artifact_path: str = "model",
) -> None:
    """Save the estimator under the run's ``artifact_path`` (``model/``) directory."""
    from mltrail.sklearn.shared._flavor import log_model as flavor_log_model

    flavor_log_model(
        model,
        artifact_path,
        run_id=run_id,
        serialization_format=serialization_format,
        signature=signature,
        input_example=input_example,
    )


def log_child_runs(
    parent_run_id: str,
    candidates: Sequence[tuple[int, dict[str, str], dict[str, float]]],
    *,
    tags: Mapping[str, str],
    best_row: Any,
) -> list[str]:
    """Create one finished child run per search candidate; return their ids."""
    from mltrail._entities import Metric

    client = _client()
    parent = client.get_run(parent_run_id)
    experiment_id = parent.info.experiment_id
    run_name = parent.info.run_name
    now = int(time.time() * 1000)
    child_ids = []
    for row, params, metrics in candidates:
        child_tags = {**tags, PARENT_RUN_ID_TAG: parent_run_id}
        if row == best_row:
            child_tags["mlflow.mltrail.best_candidate"] = "true"
        child = client.create_run(
            experiment_id,
            start_time=parent.info.start_time,
            tags=child_tags,
            run_name=f"{run_name}-candidate-{row}",
        )
        child_id = str(child.info.run_id)
        client.log_batch(
            child_id,
            metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
            params=params_that_fit(child_id, params),
        )
        client.set_terminated(child_id, status="FINISHED", end_time=now)
        child_ids.append(child_id)
    return child_ids


def add_metrics(
    client: Any, run_id: str, metrics: Mapping[str, float], *, step: int = 0
) -> None:
    """Queue metric points on the client's write buffer (durable within a second).

    Reads through the client (``get_run``) flush the buffer first, so they see them.
    """
    from mltrail.tracking._buffer import buffer_for

    buffer = buffer_for(client._store)
    now = int(time.time() * 1000)
    for key, value in metrics.items():
        buffer.add(run_id, key, float(value), step, now)
