"""MLflow's fluent names that are shortcuts to ``TrackingClient`` methods.

``set_experiment_tags``, ``get_parent_run``, ``search_registered_models`` and
``search_model_versions`` exist so that MLflow scripts calling them run unchanged;
each is one client call on the current tracking store (every page, for searches).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from mltrail._entities import PagedList, Run
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.tracking._client_base import to_mapping
from mltrail.tracking._runs import active_experiment_id, current_client

if TYPE_CHECKING:
    from mltrail._registry_entities import ModelVersion, RegisteredModel

__all__ = [
    "get_parent_run",
    "search_model_versions",
    "search_registered_models",
    "set_experiment_tags",
]

T = TypeVar("T")


def set_experiment_tags(tags: Mapping[str, object]) -> None:
    """Set several tags on the active experiment.

    Parameters
    ----------
    tags : mapping
        Tag names to values; values are converted with ``str``.

    Examples
    --------
    >>> import mltrail
    >>> experiment = mltrail.set_experiment("tagged-experiment")
    >>> mltrail.set_experiment_tags({"team": "risk", "quarter": "Q3"})
    >>> mltrail.get_experiment(experiment.experiment_id).tags["quarter"]
    'Q3'
    """
    values = to_mapping("tags", tags, "Pass {'team': 'risk'}.", optional=False)
    client = current_client()
    experiment_id = active_experiment_id(client)
    for key, value in values.items():
        client.set_experiment_tag(experiment_id, str(key), value)


def get_parent_run(run_id: str) -> Run | None:
    """Return the parent of a nested run, or None for a top-level run.

    Parameters
    ----------
    run_id : str
        The child run's id.

    Returns
    -------
    Run or None
        The run named by the child's ``mlflow.parentRunId`` tag.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as parent:
    ...     with mltrail.start_run(nested=True) as child:
    ...         pass
    >>> mltrail.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id
    True
    """
    client = current_client()
    parent_id = client.get_run(run_id).data.tags.get(PARENT_RUN_ID_TAG)
    return None if parent_id is None else client.get_run(parent_id)


def _every_page(
    search: Callable[[int, str | None], PagedList[T]], max_results: int | None
) -> list[T]:
    found: list[T] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        page = search(100 if max_results is None else max_results - len(found), token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """Return the registered models that match a filter, every page.

    Parameters
    ----------
    max_results : int or None, default=None
        At most this many; None for all.
    filter_string : str or None, default=None
        Such as ``"name LIKE 'churn%'"``.
    order_by : sequence of str or None, default=None
        Such as ``["name ASC"]``.

    Returns
    -------
    list of RegisteredModel
        The registered models.

    Examples
    --------
    >>> import mltrail
    >>> _ = mltrail.MlflowClient().create_registered_model("fluent-search-demo")
    >>> [m.name for m in mltrail.search_registered_models(
    ...     filter_string="name = 'fluent-search-demo'")]
    ['fluent-search-demo']
    """
    client = current_client()
    return _every_page(
        lambda size, token: client.search_registered_models(
            filter_string, size, order_by, token
        ),
        max_results,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Return the model versions that match a filter, every page.

    Parameters
    ----------
    max_results : int or None, default=None
        At most this many; None for all.
    filter_string : str or None, default=None
        Such as ``"name = 'churn'"``.
    order_by : sequence of str or None, default=None
        Such as ``["version_number DESC"]``.

    Returns
    -------
    list of ModelVersion
        The model versions.

    Examples
    --------
    >>> import mltrail
    >>> client = mltrail.MlflowClient()
    >>> _ = client.create_registered_model("fluent-versions-demo")
    >>> run_id = client.create_run("0").info.run_id
    >>> _ = client.create_model_version("fluent-versions-demo",
    ...                                 f"runs:/{run_id}/model", run_id)
    >>> [v.version for v in mltrail.search_model_versions(
    ...     filter_string="name = 'fluent-versions-demo'")]
    [1]
    """
    client = current_client()
    return _every_page(
        lambda size, token: client.search_model_versions(
            filter_string, size, order_by, token
        ),
        max_results,
    )
