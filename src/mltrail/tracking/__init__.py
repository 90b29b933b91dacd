"""Tracking: the fluent API on the active run, and ``TrackingClient`` for explicit ids.

Nothing heavy is imported here: the store (SQLAlchemy), pandas, PyYAML and matplotlib
load inside the functions that need them.
"""

from mltrail.tracking._client import TrackingClient
from mltrail.tracking._fluent import (
    delete_tag,
    flush,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    set_tag,
    set_tags,
)
from mltrail.tracking._fluent_artifacts import (
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_text,
)
from mltrail.tracking._fluent_experiments import (
    create_experiment,
    delete_experiment,
    delete_run,
    get_experiment,
    get_experiment_by_name,
    get_run,
    search_experiments,
    set_experiment_tag,
)
from mltrail.tracking._fluent_search import search_runs
from mltrail.tracking._runs import (
    ActiveRun,
    active_run,
    end_run,
    get_tracking_uri,
    last_active_run,
    set_experiment,
    set_tracking_uri,
    start_run,
)

__all__ = [
    "ActiveRun",
    "TrackingClient",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
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
    "set_experiment",
    "set_experiment_tag",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
