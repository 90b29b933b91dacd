"""The fluent API: ``log_*`` functions for the active run (metrics, params, tags).

Every ``log_*`` function logs to the active run of the calling context, and starts
one if there is none, as MLflow does. ``log_metric`` only validates the point and
appends it to the write buffer; params, tags and artifacts are written at once.
Artifacts, runs and experiments, and searches are in the other ``_fluent_*``
modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail._entities import Param, RunTag
from mltrail._errors import InvalidValueError
from mltrail.tracking import _pending
from mltrail.tracking._buffer import buffer_for, check_metric, flush_all
from mltrail.tracking._client import TrackingClient
from mltrail.tracking._client_base import now_ms, to_mapping
from mltrail.tracking._runs import (
    ActiveRun,
    _stack,
    current_client,
    start_run,
)

__all__ = [
    "delete_tag",
    "flush",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "set_tags",
]


def _active() -> ActiveRun:
    stack = _stack.get()
    return stack[-1] if stack else start_run()


def _target(run_id: str | None) -> tuple[TrackingClient, str]:
    if run_id is not None:
        return current_client(), run_id
    run = _active()
    return run._client, run._run_id


# Metrics -------------------------------------------------------------------------


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    *,
    timestamp: int | None = None,
    synchronous: bool = False,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log one point of a metric to the active run.

    The point is validated now and written by the buffer within a second, or when
    the run ends or ``flush()`` is called, whichever comes first.

    Parameters
    ----------
    key : str
        The metric's name: any non-empty text up to 1,000 characters.
    value : float
        A real number (bool counts as 0 or 1, as in MLflow); NaN and infinities are
        kept.
    step : int or None, default=None
        The step, such as the epoch; None for 0.
    timestamp : int or None, default=None
        Milliseconds since the epoch; None for now.
    synchronous : bool, default=False
        Write the point before returning, raising any store error.
    run_id : str or None, default=None
        Log to this run instead of the active one.
    model_id : str or None, default=None
        Also record the point as a metric of this logged model (``m-...``), as
        MLflow 3 does; the model becomes an input of the run unless it is one of
        the run's models already.
    dataset : PandasDataset or NumpyDataset or None, default=None
        The dataset the metric was computed on (``mltrail.data``): recorded with
        the model's point, and as an input of the run.

    Raises
    ------
    InvalidValueError
        If the key, value, step or timestamp is invalid, or ``run_id`` names a
        deleted run.
    NotFoundError
        If no run has the id ``run_id``.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     for epoch in range(3):
    ...         mltrail.log_metric("loss", 1 / (epoch + 1), step=epoch)
    >>> mltrail.get_run(run.info.run_id).data.metrics
    {'loss': 0.3333333333333333}
    """
    if run_id is None and not synchronous and model_id is None and dataset is None:
        stack = _stack.get()
        run = stack[-1] if stack else start_run()
        run._buffer.add(run._run_id, key, value, step, timestamp)
        return
    log_metrics({key: value}, step, timestamp=timestamp, synchronous=synchronous,
                run_id=run_id, model_id=model_id, dataset=dataset)  # fmt: skip


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    *,
    timestamp: int | None = None,
    synchronous: bool = False,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log several metrics at one step and time; all are checked before any is kept.

    Parameters
    ----------
    metrics : mapping of str to float
        Metric names and values.
    step : int or None, default=None
        The step; None for 0.
    timestamp : int or None, default=None
        Milliseconds since the epoch; None for now.
    synchronous : bool, default=False
        Write the points before returning, raising any store error.
    run_id : str or None, default=None
        Log to this run instead of the active one.
    model_id : str or None, default=None
        Also record the points as metrics of this logged model (``m-...``), as
        MLflow 3 does; the model becomes an input of the run unless it is one of
        the run's models already.
    dataset : PandasDataset or NumpyDataset or None, default=None
        The dataset the metrics were computed on (``mltrail.data``): recorded with
        the model's points, and as an input of the run.

    Raises
    ------
    InvalidValueError
        If any key or value is invalid, or ``run_id`` names a deleted run; then no
        point is logged.
    NotFoundError
        If no run has the id ``run_id``.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_metrics({"acc": 0.9, "f1": 0.8}, step=1)
    >>> sorted(mltrail.get_run(run.info.run_id).data.metrics)
    ['acc', 'f1']
    """
    if not isinstance(metrics, Mapping):
        raise InvalidValueError(
            "metrics", metrics, "a mapping of names to numbers", "Pass {'acc': 0.9}."
        )
    if timestamp is None:
        timestamp = now_ms()
    points = [check_metric(k, v, step, timestamp) for k, v in metrics.items()]
    if run_id is None:
        run = _active()
        client, target, buffer = run._client, run._run_id, run._buffer
    else:
        client, target = current_client(), run_id
        buffer = buffer_for(client._store)
        if not synchronous:
            buffer.check_run(target)  # an unknown run fails here, not at a flush
    if synchronous:
        client.log_batch(target, metrics=points)
    else:
        for point in points:
            buffer.add(target, point.key, point.value, point.step, point.timestamp)
    if model_id is not None or dataset is not None:
        from mltrail.tracking._fluent_models import link_metrics

        link_metrics(client, target, points, model_id=model_id, dataset=dataset)


def flush() -> None:
    """Write every buffered metric point; return once they are durable.

    Raises
    ------
    MltrailError
        The store's error if some points could not be written.

    Examples
    --------
    >>> import mltrail
    >>> run = mltrail.start_run()
    >>> mltrail.log_metric("loss", 0.1)
    >>> mltrail.flush()
    >>> mltrail.end_run()
    """
    _pending.wait(renderings=False)
    errors = flush_all()
    if errors:
        raise errors[0]


# Params and tags -----------------------------------------------------------------


def log_param(key: str, value: object, *, run_id: str | None = None) -> object:
    """Log a param of the active run; the value is converted with ``str``.

    Parameters
    ----------
    key : str
        The param's name.
    value : object
        The param's value.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Returns
    -------
    object
        ``value``, unchanged.

    Raises
    ------
    ConflictError
        If the run already has this param with another value.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     _ = mltrail.log_param("max_depth", 8)
    >>> mltrail.get_run(run.info.run_id).data.params
    {'max_depth': '8'}
    """
    client, target = _target(run_id)
    return client.log_param(target, key, value)


def log_params(params: Mapping[str, object], *, run_id: str | None = None) -> None:
    """Log several params at once: all of them or, on error, none.

    Parameters
    ----------
    params : mapping of str to object
        Param names and values; values are converted with ``str``.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    ConflictError
        If a param already has another value; nothing is written.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_params({"C": 1.0, "penalty": None})
    >>> sorted(mltrail.get_run(run.info.run_id).data.params.items())
    [('C', '1.0'), ('penalty', 'None')]
    """
    items = to_mapping("params", params, "Pass {'C': 1.0}.", optional=False).items()
    client, target = _target(run_id)
    client.log_batch(target, params=[Param(k, str(v)) for k, v in items])


def set_tag(key: str, value: object, *, run_id: str | None = None) -> None:
    """Set a tag on the active run; the value is converted with ``str``.

    Parameters
    ----------
    key : str
        The tag's name.
    value : object
        The tag's value.
    run_id : str or None, default=None
        Tag this run instead of the active one.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.set_tag("project", "Wine Quality")
    >>> mltrail.get_run(run.info.run_id).data.tags["project"]
    'Wine Quality'
    """
    client, target = _target(run_id)
    client.set_tag(target, key, value)


def set_tags(tags: Mapping[str, object], *, run_id: str | None = None) -> None:
    """Set several tags on the active run at once.

    Parameters
    ----------
    tags : mapping of str to object
        Tag names and values; values are converted with ``str``.
    run_id : str or None, default=None
        Tag this run instead of the active one.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.set_tags({"team": "risk", "ticket": "ML-1234"})
    >>> mltrail.get_run(run.info.run_id).data.tags["ticket"]
    'ML-1234'
    """
    items = to_mapping("tags", tags, "Pass {'team': 'risk'}.", optional=False).items()
    client, target = _target(run_id)
    client.log_batch(target, tags=[RunTag(k, str(v)) for k, v in items])


def delete_tag(key: str, *, run_id: str | None = None) -> None:
    """Remove a tag from the active run.

    Parameters
    ----------
    key : str
        The tag's name.
    run_id : str or None, default=None
        Untag this run instead of the active one.

    Raises
    ------
    NotFoundError
        If the run has no such tag.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.set_tag("draft", "yes")
    ...     mltrail.delete_tag("draft")
    >>> "draft" in mltrail.get_run(run.info.run_id).data.tags
    False
    """
    client, target = _target(run_id)
    client.delete_tag(target, key)
