"""The fluent API for runs and experiments: get, create, delete, tag and search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mltrail._entities import Experiment, Run, ViewType
from mltrail.tracking._runs import (
    active_experiment_id,
    current_client,
)

__all__ = [
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "search_experiments",
    "set_experiment_tag",
]


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
