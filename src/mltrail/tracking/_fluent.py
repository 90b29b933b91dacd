"""The fluent API: ``log_*`` functions for the active run, and searches.

Every ``log_*`` function logs to the active run of the calling context, and starts
one if there is none, as MLflow does. ``log_metric`` only validates the point and
appends it to the write buffer; params, tags and artifacts are written at once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, overload

from mltrail._entities import Experiment, PagedList, Param, Run, RunTag, ViewType
from mltrail._errors import InvalidValueError
from mltrail.tracking import _pending
from mltrail.tracking._buffer import buffer_for, check_metric, flush_all
from mltrail.tracking._client import TrackingClient, now_ms
from mltrail.tracking._runs import (
    ActiveRun,
    _stack,
    active_experiment_id,
    current_client,
    start_run,
)

if TYPE_CHECKING:
    import pandas

__all__ = [
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "flush",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "search_experiments",
    "search_runs",
    "set_experiment_tag",
    "set_tag",
    "set_tags",
]

_INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri")


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

    Raises
    ------
    InvalidValueError
        If the key, value, step or timestamp is invalid.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     for epoch in range(3):
    ...         mltrail.log_metric("loss", 1 / (epoch + 1), step=epoch)
    >>> mltrail.get_run(run.info.run_id).data.metrics
    {'loss': 0.3333333333333333}
    """
    if run_id is None and not synchronous:
        stack = _stack.get()
        run = stack[-1] if stack else start_run()
        run._buffer.add(run._run_id, key, value, step, timestamp)
        return
    log_metrics({key: value}, step, timestamp=timestamp, synchronous=synchronous,
                run_id=run_id)  # fmt: skip


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    *,
    timestamp: int | None = None,
    synchronous: bool = False,
    run_id: str | None = None,
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

    Raises
    ------
    InvalidValueError
        If any key or value is invalid; then no point is logged.

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
    if synchronous:
        client.log_batch(target, metrics=points)
        return
    for point in points:
        buffer.add(target, point.key, point.value, point.step, point.timestamp)


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
    _pending.wait()
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
    client, target = _target(run_id)
    client.log_batch(target, params=[Param(k, str(v)) for k, v in params.items()])


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
    client, target = _target(run_id)
    client.log_batch(target, tags=[RunTag(k, str(v)) for k, v in tags.items()])


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


# Artifacts -----------------------------------------------------------------------


def log_artifact(
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy a local file into the active run's artifacts.

    Parameters
    ----------
    local_path : str or os.PathLike
        The file to copy.
    artifact_path : str or None, default=None
        The run-relative directory to put it in; None for the root.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    NotFoundError
        If ``local_path`` is not an existing file.
    InvalidValueError
        If ``artifact_path`` would leave the run's artifact directory.

    Examples
    --------
    >>> from pathlib import Path
    >>> import mltrail
    >>> _ = Path("confusion_matrix.png").write_bytes(b"...")
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_artifact("confusion_matrix.png")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id)]
    ['confusion_matrix.png']
    """
    client, target = _target(run_id)
    client.log_artifact(target, local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy a local directory's contents into the active run's artifacts.

    Parameters
    ----------
    local_dir : str or os.PathLike
        The directory whose contents are copied.
    artifact_path : str or None, default=None
        The run-relative directory to put them in; None for the root.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    NotFoundError
        If ``local_dir`` is not an existing directory.

    Examples
    --------
    >>> from pathlib import Path
    >>> import mltrail
    >>> Path("reports").mkdir()
    >>> _ = Path("reports/summary.md").write_text("# Summary")
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_artifacts("reports", artifact_path="reports")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id,
    ...                                                          "reports")]
    ['reports/summary.md']
    """
    client, target = _target(run_id)
    client.log_artifacts(target, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, *, run_id: str | None = None) -> None:
    """Write text to a file of the active run's artifacts.

    Parameters
    ----------
    text : str
        The content, stored UTF-8 encoded.
    artifact_file : str
        The run-relative file path, such as ``"notes/summary.txt"``.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    InvalidValueError
        If ``artifact_file`` is empty or would leave the run's artifact directory.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_text("looks good", "review.txt")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id)]
    ['review.txt']
    """
    client, target = _target(run_id)
    client.log_text(target, text, artifact_file)


def log_dict(
    dictionary: object, artifact_file: str, *, run_id: str | None = None
) -> None:
    """Write a dict to the active run's artifacts as YAML (``.yaml``, ``.yml``) or JSON.

    Parameters
    ----------
    dictionary : object
        A JSON-serializable value, usually a dict.
    artifact_file : str
        The run-relative file path; its suffix picks the format.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    InvalidValueError
        If ``dictionary`` cannot be serialized, or ``artifact_file`` is unsafe.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_dict({"features": ["age", "income"]}, "features.json")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id)]
    ['features.json']
    """
    client, target = _target(run_id)
    client.log_dict(target, dictionary, artifact_file)


def log_figure(
    figure: object, artifact_file: str, *, run_id: str | None = None
) -> None:
    """Save a matplotlib figure to the active run's artifacts.

    The figure is saved with its own ``savefig``, in the format of the file's suffix.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    artifact_file : str
        The run-relative file path, such as ``"plots/roc.png"``.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    InvalidValueError
        If ``figure`` has no ``savefig``, or the suffix is not an image format.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import mltrail
    >>> figure = Figure()
    >>> _ = figure.subplots().bar(["a", "b"], [3, 5])
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_figure(figure, "plots/bars.svg")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id,
    ...                                                          "plots")]
    ['plots/bars.svg']
    """
    client, target = _target(run_id)
    client.log_figure(target, figure, artifact_file)


# Runs and experiments ------------------------------------------------------------


def get_run(run_id: str) -> Run:
    """Return a run as stored now, with every value this process logged to it.

    Parameters
    ----------
    run_id : str
        The run's id.

    Returns
    -------
    Run
        ``info`` (ids, name, status, times in ms, artifact URI, lifecycle stage,
        user) and ``data`` (params, latest metrics and tags as dicts).

    Raises
    ------
    NotFoundError
        If no run has this id.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run(run_name="baseline") as run:
    ...     _ = mltrail.log_param("C", 1.0)
    >>> stored = mltrail.get_run(run.info.run_id)
    >>> stored.info.run_name, stored.data.params
    ('baseline', {'C': '1.0'})
    """
    return current_client().get_run(run_id)


def delete_run(run_id: str) -> None:
    """Move a run to the trash.

    Parameters
    ----------
    run_id : str
        The run's id.

    Raises
    ------
    NotFoundError
        If no run has this id.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     pass
    >>> mltrail.delete_run(run.info.run_id)
    >>> mltrail.get_run(run.info.run_id).info.lifecycle_stage
    'deleted'
    """
    current_client().delete_run(run_id)


def create_experiment(
    name: str,
    artifact_location: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> str:
    """Create an experiment and return its id.

    Parameters
    ----------
    name : str
        A name no other experiment has.
    artifact_location : str or None, default=None
        Where its runs' artifacts go; None for ``<artifact root>/<id>``.
    tags : mapping or None, default=None
        Experiment tags; values are converted with ``str``.

    Returns
    -------
    str
        The new experiment's id.

    Raises
    ------
    ConflictError
        If an experiment already has this name.

    Examples
    --------
    >>> import mltrail
    >>> experiment_id = mltrail.create_experiment("fraud")
    >>> mltrail.get_experiment(experiment_id).name
    'fraud'
    """
    return current_client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """Return an experiment by id, deleted or not.

    Parameters
    ----------
    experiment_id : str
        The experiment's id; ``"0"`` is Default.

    Returns
    -------
    Experiment
        The experiment.

    Raises
    ------
    NotFoundError
        If no experiment has this id.

    Examples
    --------
    >>> import mltrail
    >>> mltrail.get_experiment("0").name
    'Default'
    """
    return current_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """Return the experiment with this name, or None.

    Parameters
    ----------
    name : str
        The experiment's name.

    Returns
    -------
    Experiment or None
        The experiment, or None if no experiment has this name.

    Examples
    --------
    >>> import mltrail
    >>> mltrail.get_experiment_by_name("Default").experiment_id
    '0'
    >>> mltrail.get_experiment_by_name("missing") is None
    True
    """
    return current_client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    """Move an experiment and its runs to the trash.

    Parameters
    ----------
    experiment_id : str
        The experiment's id.

    Raises
    ------
    NotFoundError
        If no experiment has this id.

    Examples
    --------
    >>> import mltrail
    >>> experiment_id = mltrail.create_experiment("scratch")
    >>> mltrail.delete_experiment(experiment_id)
    >>> mltrail.get_experiment(experiment_id).lifecycle_stage
    'deleted'
    """
    current_client().delete_experiment(experiment_id)


def set_experiment_tag(key: str, value: object) -> None:
    """Set a tag on the active experiment; the value is converted with ``str``.

    Parameters
    ----------
    key : str
        The tag's name.
    value : object
        The tag's value.

    Examples
    --------
    >>> import mltrail
    >>> experiment = mltrail.set_experiment("churn")
    >>> mltrail.set_experiment_tag("owner", "risk team")
    >>> mltrail.get_experiment(experiment.experiment_id).tags
    {'owner': 'risk team'}
    """
    client = current_client()
    client.set_experiment_tag(active_experiment_id(client), key, value)


def search_experiments(
    view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Return the experiments that match a filter, every page of them.

    Parameters
    ----------
    view_type : ViewType or str or int, default=ViewType.ACTIVE_ONLY
        Which lifecycle stages to include.
    max_results : int or None, default=None
        At most this many; None for all.
    filter_string : str or None, default=None
        A filter such as ``"name LIKE 'churn%'"``.
    order_by : sequence of str or None, default=None
        Such as ``["name ASC"]``.

    Returns
    -------
    list of Experiment
        The experiments.

    Examples
    --------
    >>> import mltrail
    >>> _ = mltrail.set_experiment("churn")
    >>> [e.name for e in mltrail.search_experiments(order_by=["name"])]
    ['Default', 'churn']
    """
    client = current_client()
    found: list[Experiment] = []
    token: str | None = None
    while True:
        wanted = 1000 if max_results is None else min(1000, max_results - len(found))
        page = client.search_experiments(
            view_type, wanted, filter_string, order_by, token
        )
        found.extend(page)
        token = page.token
        if not token or (max_results is not None and len(found) >= max_results):
            return found


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str = ...,
    run_view_type: ViewType | str | int = ...,
    max_results: int = ...,
    order_by: Sequence[str] | None = ...,
    output_format: Literal["pandas"] = ...,
    *,
    page_token: str | None = ...,
    experiment_names: Sequence[str] | None = ...,
) -> pandas.DataFrame: ...


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str = ...,
    run_view_type: ViewType | str | int = ...,
    max_results: int = ...,
    order_by: Sequence[str] | None = ...,
    *,
    output_format: Literal["list"],
    page_token: str | None = ...,
    experiment_names: Sequence[str] | None = ...,
) -> PagedList[Run]: ...


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    *,
    page_token: str | None = None,
    experiment_names: Sequence[str] | None = None,
) -> pandas.DataFrame | PagedList[Run]:
    """Return the runs that match a filter, as a DataFrame or a list.

    Parameters
    ----------
    experiment_ids : sequence of str or None, default=None
        The experiments to search; None (and no ``experiment_names``) for the
        active experiment.
    filter_string : str, default=""
        MLflow's filter grammar plus ``OR``, ``NOT`` and parentheses, such as
        ``"metrics.acc > 0.9 and params.model = 'rf'"``.
    run_view_type : ViewType or str or int, default=ViewType.ACTIVE_ONLY
        Which lifecycle stages to include.
    max_results : int, default=1000
        At most this many runs.
    order_by : sequence of str or None, default=None
        Such as ``["metrics.acc DESC"]``; missing values sort last. The default is
        ``start_time DESC``, then ``run_id``.
    output_format : {"pandas", "list"}, default="pandas"
        ``"pandas"``: a DataFrame with MLflow's columns ``run_id``,
        ``experiment_id``, ``status``, ``artifact_uri``, ``start_time``, ``end_time``
        (UTC datetimes), then ``metrics.<key>``, ``params.<key>``, ``tags.<key>``.
        ``"list"``: a ``PagedList`` of ``Run`` whose ``token`` fetches what follows.
    page_token : str or None, default=None
        Continue after the page that returned this token.
    experiment_names : sequence of str or None, default=None
        The experiments to search, by name, instead of ``experiment_ids``.

    Returns
    -------
    pandas.DataFrame or PagedList of Run
        The runs.

    Raises
    ------
    InvalidValueError
        If both ``experiment_ids`` and ``experiment_names`` are given, or
        ``output_format`` is unknown.
    FilterSyntaxError
        If the filter or an order clause does not parse.

    Examples
    --------
    >>> import mltrail
    >>> for depth in (2, 8):
    ...     with mltrail.start_run():
    ...         _ = mltrail.log_param("max_depth", depth)
    ...         mltrail.log_metric("acc", 0.8 + depth / 100)
    >>> frame = mltrail.search_runs(filter_string="metrics.acc > 0.85")
    >>> frame[["params.max_depth", "metrics.acc"]].to_dict("records")
    [{'params.max_depth': '8', 'metrics.acc': 0.88}]
    """
    if output_format not in ("pandas", "list"):
        raise InvalidValueError(
            "output_format",
            output_format,
            "'pandas' or 'list'",
            "Pass 'list' for Runs.",
        )
    client = current_client()
    ids = _experiment_ids(client, experiment_ids, experiment_names)
    runs: PagedList[Run] = PagedList([], None)
    if ids:
        runs = _search_all(
            client, ids, filter_string, run_view_type, max_results, order_by, page_token
        )
    if output_format == "list":
        return runs
    return runs_to_frame(runs)


def _experiment_ids(
    client: TrackingClient,
    experiment_ids: Sequence[str] | None,
    experiment_names: Sequence[str] | None,
) -> list[str]:
    if experiment_ids and experiment_names:
        raise InvalidValueError(
            "search_runs arguments",
            {"experiment_ids": experiment_ids, "experiment_names": experiment_names},
            "experiment_ids or experiment_names, not both",
            "Pass one of them.",
        )
    if experiment_names:
        found = [client.get_experiment_by_name(name) for name in experiment_names]
        return [experiment.experiment_id for experiment in found if experiment]
    if experiment_ids:
        return [str(experiment_id) for experiment_id in experiment_ids]
    return [active_experiment_id(client)]


def _search_all(
    client: TrackingClient,
    ids: list[str],
    filter_string: str,
    run_view_type: ViewType | str | int,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> PagedList[Run]:
    """Collect pages until ``max_results`` runs or the last page."""
    found: list[Run] = []
    token = page_token
    while True:
        page = client.search_runs(
            ids, filter_string, run_view_type, max_results - len(found), order_by, token
        )
        found.extend(page)
        token = page.token
        if not token or len(found) >= max_results or not page:
            return PagedList(found, token)


def runs_to_frame(runs: Sequence[Run]) -> pandas.DataFrame:
    """Return MLflow's DataFrame of runs: info columns, then metrics, params, tags."""
    import pandas

    infos = [run.info for run in runs]
    data: dict[str, object] = {
        name: [getattr(info, name) for info in infos] for name in _INFO_COLUMNS
    }
    for name in ("start_time", "end_time"):
        times = pandas.Series([getattr(info, name) for info in infos], dtype="float64")
        data[name] = pandas.to_datetime(times, unit="ms", utc=True)
    # Column by column: one list per key, built from each run's dict.
    for kind, missing in (("metrics", float("nan")), ("params", None), ("tags", None)):
        values: list[Mapping[str, object]] = [getattr(run.data, kind) for run in runs]
        for key in sorted(set().union(*values)):
            data[f"{kind}.{key}"] = [found.get(key, missing) for found in values]
    return pandas.DataFrame(data)
