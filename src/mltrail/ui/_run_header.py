"""The header of every run page: the run, its experiment, and the tabs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mltrail._entities import Experiment, Run
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.ui._registry import versions_of_run

if TYPE_CHECKING:
    from mltrail.ui._routes import PageContext

__all__ = ["TABS", "run_header"]

#: (name, label, path suffix) of each tab, in order.
TABS = (
    ("overview", "Overview", ""),
    ("params", "Params", "/params"),
    ("metrics", "Metrics", "/metrics"),
    ("plots", "Plots", "/plots"),
    ("datasets", "Datasets", "/datasets"),
    ("pipeline", "Pipeline", "/pipeline"),
    ("model", "Model", "/model"),
    ("artifacts", "Artifacts", "/artifacts"),
)


def _duration(run: Run) -> int | None:
    if run.info.end_time is None:
        return None
    return run.info.end_time - run.info.start_time


def run_header(
    context: PageContext, tab: str
) -> tuple[Run, Experiment, dict[str, Any]]:
    """Return the run, its experiment, and the header every tab shows."""
    store = context.services.store
    run = store.get_run(context.path["run_id"])
    experiment = store.get_experiment(run.info.experiment_id)
    info = run.info
    counts = {
        "params": len(run.data.params),
        "metrics": len(run.data.metrics),
        "datasets": len(run.inputs.dataset_inputs),
    }
    header = {
        "tab": tab,
        "run": {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "status": info.status,
            "lifecycle_stage": info.lifecycle_stage,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "duration": _duration(run),
            "user_id": info.user_id,
            "artifact_uri": info.artifact_uri,
            "experiment_id": info.experiment_id,
            "parent_run_id": run.data.tags.get(PARENT_RUN_ID_TAG),
        },
        "experiment": {
            "experiment_id": experiment.experiment_id,
            "name": experiment.name,
        },
        "tabs": [
            {"name": name, "label": label, "path": suffix, "count": counts.get(name)}
            for name, label, suffix in TABS
        ],
        # The registered versions of the run's models, for links to the registry.
        "registered": versions_of_run(context, info.run_id),
    }
    return run, experiment, header
