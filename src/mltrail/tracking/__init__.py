"""Tracking: the fluent API on the active run, and ``TrackingClient`` for explicit ids.

``MlflowClient`` is ``TrackingClient`` with MLflow's client signatures, for scripts
that import it from ``mlflow.tracking``.

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
    load_table,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_table,
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
from mltrail.tracking._fluent_extras import (
    get_parent_run,
    search_model_versions,
    search_registered_models,
    set_experiment_tags,
)
from mltrail.tracking._fluent_models import (
    get_artifact_uri,
    get_logged_model,
    last_logged_model,
    log_input,
    search_logged_models,
)
from mltrail.tracking._fluent_search import search_runs
from mltrail.tracking._mlflow_client import MlflowClient
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
    "MlflowClient",
    "TrackingClient",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "last_logged_model",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
