"""``/compare?run_ids=a,b,...``: up to 100 runs side by side.

Params, metrics and tags in one row per key with a column per run, and whether the
values differ; ``diff=1`` keeps only the rows that differ. The page's script
overlays metric histories (from ``/history``), draws parallel coordinates of the
params against a chosen metric and a scatter of any two columns, all from this
data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._errors import InvalidValueError
from mltrail._system_tags import SYSTEM_PREFIX
from mltrail.ui._store import ui_store

if TYPE_CHECKING:
    from mltrail.ui._routes import PageContext

__all__ = ["compare_page"]


def _rows(values: Sequence[Mapping[str, Any]], diff_only: bool) -> list[dict[str, Any]]:
    keys = sorted({key for found in values for key in found})
    rows = []
    for key in keys:
        cells = [found.get(key) for found in values]
        differs = len({repr(cell) for cell in cells}) > 1
        if diff_only and not differs:
            continue
        rows.append({"key": key, "values": cells, "differs": differs})
    return rows


def _extremes(row: dict[str, Any]) -> None:
    """Mark which runs hold the lowest and the highest value of a metric row."""
    numbers = [
        (value, index)
        for index, value in enumerate(row["values"])
        if isinstance(value, float) and value == value
    ]
    row["lowest"] = min(numbers)[1] if len(numbers) > 1 else None
    row["highest"] = max(numbers)[1] if len(numbers) > 1 else None


def compare_page(context: PageContext) -> dict[str, Any]:
    """Return the compared runs' params, metrics and tags, key by key."""
    from mltrail.ui._routes import run_ids_of

    run_ids = run_ids_of(context.query)
    if not run_ids:
        raise InvalidValueError(
            "run_ids",
            "",
            "one or more run ids",
            "Select runs in an experiment's table, then Compare.",
        )
    store = ui_store(context.services.store)
    runs = [store.get_run(run_id) for run_id in run_ids]
    diff_only = context.flag("diff", False)
    names = {
        experiment_id: store.get_experiment(experiment_id).name
        for experiment_id in {run.info.experiment_id for run in runs}
    }
    histories = [set(store.metric_keys_with_history(run.info.run_id)) for run in runs]
    metrics = _rows([run.data.metrics for run in runs], diff_only)
    for row in metrics:
        _extremes(row)
        row["has_history"] = any(row["key"] in found for found in histories)
    return {
        "runs": [
            {
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "status": run.info.status,
                "start_time": run.info.start_time,
                "duration": None
                if run.info.end_time is None
                else run.info.end_time - run.info.start_time,
                "experiment_id": run.info.experiment_id,
                "experiment_name": names[run.info.experiment_id],
            }
            for run in runs
        ],
        "diff": diff_only,
        "params": _rows([run.data.params for run in runs], diff_only),
        "metrics": metrics,
        "tags": _rows(
            [
                {
                    k: v
                    for k, v in run.data.tags.items()
                    if not k.startswith(SYSTEM_PREFIX)
                }
                for run in runs
            ],
            diff_only,
        ),
    }
