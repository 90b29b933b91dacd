"""The fluent API of MLflow 3's logged models, dataset inputs and artifact URIs.

``last_logged_model``, ``get_logged_model`` and ``search_logged_models`` read the
logged models (``m-...``) that ``log_model`` and autolog create; ``log_input``
records a dataset of ``mltrail.data`` as an input of the active run;
``get_artifact_uri`` says where the active run's artifacts are.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from mltrail._entities import LoggedModel, LoggedModelMetric, Metric
from mltrail._errors import InvalidValueError
from mltrail.tracking._client_base import to_mapping, to_names
from mltrail.tracking._runs import (
    active_experiment_id,
    current_client,
    last_logged_model_id,
)

if TYPE_CHECKING:
    import pandas

    from mltrail.tracking._client import TrackingClient

__all__ = [
    "get_artifact_uri",
    "get_logged_model",
    "last_logged_model",
    "link_metrics",
    "log_input",
    "remember_logged_model",
    "search_logged_models",
]


def remember_logged_model(model_id: str) -> None:
    """Record ``model_id`` as the last logged model this process created."""
    last_logged_model_id["model_id"] = model_id  # one atomic dict store


def _active_run_id() -> str:
    from mltrail.tracking._fluent import _active

    return _active()._run_id


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """Return the URI of the active run's artifacts, or of one path among them.

    Starts a run if none is active, as MLflow does.

    Parameters
    ----------
    artifact_path : str or None, default=None
        A run-relative path, such as ``"model"``.

    Returns
    -------
    str
        The artifact root of the run, joined with ``artifact_path``.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     uri = mltrail.get_artifact_uri("model")
    >>> uri == run.info.artifact_uri + "/model"
    True
    """
    from mltrail.tracking._fluent import _active

    run = _active()
    root = run.info.artifact_uri
    if artifact_path is None:
        return root
    if not isinstance(artifact_path, str) or artifact_path.startswith("/"):
        raise InvalidValueError(
            "artifact_path",
            artifact_path,
            "a run-relative path (str)",
            "Pass a path such as 'model'.",
        )
    return posixpath.join(root, artifact_path)


def get_logged_model(model_id: str) -> LoggedModel:
    """Return a logged model (MLflow 3) with its params, tags and metrics.

    Parameters
    ----------
    model_id : str
        Its id, ``"m-"`` and 32 hexadecimal characters, as ``ModelInfo.model_id``.

    Returns
    -------
    LoggedModel
        The logged model as stored now.

    Raises
    ------
    NotFoundError
        If no logged model has this id.

    Examples
    --------
    >>> import mltrail
    >>> from sklearn.linear_model import LinearRegression
    >>> with mltrail.start_run():
    ...     info = mltrail.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]),
    ...                                      name="model")
    >>> mltrail.get_logged_model(info.model_id).name
    'model'
    """
    client = current_client()
    client._flush_pending()
    return client._store.get_logged_model(model_id)


def last_logged_model() -> LoggedModel | None:
    """Return the logged model that this process created last, or None.

    Returns
    -------
    LoggedModel or None
        The model of the last ``log_model`` call or autologged fit.

    Examples
    --------
    >>> import mltrail
    >>> from sklearn.linear_model import LinearRegression
    >>> with mltrail.start_run():
    ...     info = mltrail.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]),
    ...                                      name="model")
    >>> mltrail.last_logged_model().model_id == info.model_id
    True
    """
    client = current_client()
    client._flush_pending()  # autolog creates models on its own thread
    model_id = last_logged_model_id.get("model_id")
    return None if model_id is None else client._store.get_logged_model(model_id)


@overload
def search_logged_models(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str | None = ...,
    datasets: Sequence[Mapping[str, Any]] | None = ...,
    max_results: int | None = ...,
    order_by: Sequence[Mapping[str, Any]] | None = ...,
    output_format: Literal["pandas"] = ...,
) -> pandas.DataFrame: ...


@overload
def search_logged_models(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str | None = ...,
    datasets: Sequence[Mapping[str, Any]] | None = ...,
    max_results: int | None = ...,
    order_by: Sequence[Mapping[str, Any]] | None = ...,
    *,
    output_format: Literal["list"],
) -> list[LoggedModel]: ...


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[Mapping[str, Any]] | None = None,
    output_format: str = "pandas",
) -> pandas.DataFrame | list[LoggedModel]:
    """Return the logged models of experiments that match a filter, every page.

    Parameters
    ----------
    experiment_ids : sequence of str or None, default=None
        The experiments to search; None for the active experiment.
    filter_string : str or None, default=None
        Such as ``"metrics.rmse < 0.5 AND params.alpha = '0.5'"``.
    datasets : sequence of mapping or None, default=None
        Restrict metric filters and orders to these datasets:
        ``{"dataset_name": ..., "dataset_digest": ...}``.
    max_results : int or None, default=None
        At most this many models; None for all.
    order_by : sequence of mapping or None, default=None
        Such as ``[{"field_name": "metrics.rmse", "ascending": True}]``; newest
        first by default.
    output_format : {"pandas", "list"}, default="pandas"
        A DataFrame with one row per model (``LoggedModel.to_dictionary()``), or
        the list of ``LoggedModel``.

    Returns
    -------
    pandas.DataFrame or list of LoggedModel
        The logged models.

    Raises
    ------
    InvalidValueError
        If ``output_format`` is neither ``"pandas"`` nor ``"list"``.

    Examples
    --------
    >>> import mltrail
    >>> from sklearn.linear_model import LinearRegression
    >>> _ = mltrail.set_experiment("search-logged-models-demo")
    >>> with mltrail.start_run():
    ...     _ = mltrail.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]),
    ...                                   name="model")
    >>> list(mltrail.search_logged_models()["name"])
    ['model']
    """
    if output_format not in ("pandas", "list"):
        raise InvalidValueError(
            "output_format", output_format, "'pandas' or 'list'", "Pass 'list'."
        )
    client = current_client()
    client._flush_pending()
    ids = (
        [active_experiment_id(client)]
        if experiment_ids is None
        else to_names("experiment_ids", experiment_ids)
    )
    models: list[LoggedModel] = []
    token: str | None = None
    while max_results is None or len(models) < max_results:
        page = client._store.search_logged_models(
            ids,
            filter_string=filter_string or "",
            datasets=list(datasets or ()),
            max_results=100 if max_results is None else max_results - len(models),
            order_by=list(order_by or ()),
            page_token=token,
        )
        models.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return models
    import pandas as pd

    columns = list(LoggedModel.__dataclass_fields__)
    return pd.DataFrame([model.to_dictionary() for model in models], columns=columns)


def log_input(
    dataset: Any = None,
    context: str | None = None,
    tags: Mapping[str, object] | None = None,
    model: Any = None,
) -> None:
    """Record a dataset of ``mltrail.data`` as an input of the active run.

    Starts a run if none is active, as MLflow does. The record is the one autolog
    writes for the same data: its name, digest, schema and profile.

    Parameters
    ----------
    dataset : PandasDataset or NumpyDataset or None, default=None
        The dataset, from ``mltrail.data.from_pandas`` or ``from_numpy``.
    context : str or None, default=None
        How the run uses it, such as ``"training"``; stored as the input tag
        ``mlflow.data.context``.
    tags : mapping or None, default=None
        More input tags; values are converted with ``str``.
    model : LoggedModelInput or None, default=None
        A logged model the run reads, such as the model it evaluates.

    Raises
    ------
    InvalidValueError
        If ``dataset`` is not a dataset of ``mltrail.data``.

    Examples
    --------
    >>> import mltrail
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_input(mltrail.data.from_pandas(df, targets="y", name="train"),
    ...                       context="training")
    >>> inputs = mltrail.get_run(run.info.run_id).inputs.dataset_inputs
    >>> inputs[0].dataset.name, inputs[0].tags[0].value
    ('train', 'training')
    """
    from mltrail.data._dataset import _TrackedDataset

    run_id = _active_run_id()
    client = current_client()
    if dataset is not None:
        if not isinstance(dataset, _TrackedDataset):
            raise InvalidValueError(
                "dataset",
                dataset,
                "a dataset of mltrail.data",
                "Build it with mltrail.data.from_pandas(df) or from_numpy(X).",
            )
        input_tags = {
            str(k): str(v)
            for k, v in to_mapping("tags", tags, "Pass {'split': 'a'}.").items()
        }
        client.log_inputs(run_id, [dataset.to_dataset_input(context, input_tags)])
    if model is not None:
        client._store.log_model_inputs(run_id, [str(model.model_id)])


def link_metrics(
    client: TrackingClient,
    run_id: str,
    points: Sequence[Metric],
    *,
    model_id: str | None,
    dataset: Any,
) -> None:
    """Link metric points of a run to a logged model and a dataset, as MLflow 3 does.

    The model becomes an input of the run unless the run produced or read it
    already, and the dataset an input unless the run has it.
    """
    store = client._store
    name = None if dataset is None else str(dataset.name)
    digest = None if dataset is None else str(dataset.digest)
    if dataset is not None:
        inputs = client.get_run(run_id).inputs.dataset_inputs
        if all((i.dataset.name, i.dataset.digest) != (name, digest) for i in inputs):
            from mltrail.data._dataset import _TrackedDataset

            if isinstance(dataset, _TrackedDataset):
                client.log_inputs(run_id, [dataset.to_dataset_input()])
    if model_id is None:
        return
    store.log_logged_model_metrics(
        model_id,
        [
            LoggedModelMetric(
                point.key,
                point.value,
                point.timestamp,
                point.step,
                run_id=run_id,
                dataset_name=name,
                dataset_digest=digest,
            )
            for point in points
        ],
    )
    model_inputs, model_outputs = store.get_run_models(run_id)
    if model_id not in model_inputs and all(m != model_id for m, _ in model_outputs):
        store.log_model_inputs(run_id, [model_id])
