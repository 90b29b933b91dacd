"""The fluent ``search_runs``: runs of some experiments as a DataFrame or a list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, overload

from mltrail._entities import PagedList, Run, ViewType
from mltrail._errors import InvalidValueError
from mltrail.tracking._client import TrackingClient
from mltrail.tracking._client_base import to_names
from mltrail.tracking._runs import (
    active_experiment_id,
    current_client,
)

if TYPE_CHECKING:
    import pandas

__all__ = [
    "search_runs",
]

_INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri")
# MLflow's fluent default (SEARCH_MAX_RESULTS_PANDAS): scripts that average over
# "all runs" rely on it, so the fluent API pages through the store up to this many.
MAX_RESULTS = 100_000
# Runs asked of the store per page; stores accept at most 5,000.
_PAGE_SIZE = 1_000


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
    search_all_experiments: bool = ...,
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
    search_all_experiments: bool = ...,
) -> PagedList[Run]: ...


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
    max_results: int = MAX_RESULTS,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    *,
    page_token: str | None = None,
    experiment_names: Sequence[str] | None = None,
    search_all_experiments: bool = False,
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
    max_results : int, default=100000
        At most this many runs, fetched from the store page by page, as MLflow's
        fluent ``search_runs`` does.
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
    search_all_experiments : bool, default=False
        With neither ``experiment_ids`` nor ``experiment_names``, search every
        active experiment instead of the active one.

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
    ids = _experiment_ids(
        client, experiment_ids, experiment_names, search_all_experiments
    )
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
    search_all_experiments: bool,
) -> list[str]:
    experiment_ids = to_names("experiment_ids", experiment_ids)
    experiment_names = to_names("experiment_names", experiment_names)
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
    if search_all_experiments:
        from mltrail.tracking._fluent_experiments import search_experiments

        return [experiment.experiment_id for experiment in search_experiments()]
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
            ids,
            filter_string,
            run_view_type,
            min(max_results - len(found), _PAGE_SIZE),
            to_names("order_by", order_by),
            token,
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
