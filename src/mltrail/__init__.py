"""mltrail: experiment tracking for scikit-learn that records everything, fast.

``import mltrail`` stays cheap: names load from their modules on first use, and
scikit-learn, numpy, pandas, SQLAlchemy, matplotlib, Starlette and click load only when
a function needs them.
"""

import importlib as _importlib
import typing as _typing

from mltrail._version import __version__

if _typing.TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from mltrail import models, pyfunc, registry, sklearn
    from mltrail._entities import (
        Dataset,
        DatasetInput,
        Experiment,
        FileInfo,
        InputTag,
        LifecycleStage,
        LoggedModel,
        LoggedModelMetric,
        LoggedModelStatus,
        Metric,
        PagedList,
        Param,
        Run,
        RunData,
        RunInfo,
        RunInputs,
        RunStatus,
        RunTag,
        ViewType,
    )
    from mltrail._errors import (
        ConflictError,
        FilterSyntaxError,
        InvalidValueError,
        MltrailDeprecationWarning,
        MltrailError,
        MltrailWarning,
        NotFoundError,
        StoreError,
    )
    from mltrail._registry_entities import (
        AliasChange,
        ModelVersion,
        ModelVersionStage,
        ModelVersionStatus,
        RegisteredModel,
    )
    from mltrail.registry import register_model
    from mltrail.sklearn._evaluate import evaluate
    from mltrail.tracking import (
        ActiveRun,
        TrackingClient,
        active_run,
        create_experiment,
        delete_experiment,
        delete_run,
        delete_tag,
        end_run,
        flush,
        get_experiment,
        get_experiment_by_name,
        get_run,
        get_tracking_uri,
        last_active_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        search_experiments,
        search_runs,
        set_experiment,
        set_experiment_tag,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )

_ENTITIES = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelMetric",
    "LoggedModelStatus",
    "Metric",
    "PagedList",
    "Param",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]
_ERRORS = [
    "ConflictError",
    "FilterSyntaxError",
    "InvalidValueError",
    "MltrailDeprecationWarning",
    "MltrailError",
    "MltrailWarning",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "NotFoundError",
    "StoreError",
]
_TRACKING = [
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
_REGISTRY_ENTITIES = [
    "AliasChange",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "RegisteredModel",
]
_REGISTRY = ["register_model"]
_SUBMODULES = ("models", "pyfunc", "registry", "sklearn")
_EVALUATION = ["evaluate"]

_LOCATIONS: dict[str, str] = {
    **dict.fromkeys(_ENTITIES, "mltrail._entities"),
    **dict.fromkeys(_ERRORS, "mltrail._errors"),
    **dict.fromkeys(_TRACKING, "mltrail.tracking"),
    **dict.fromkeys(_EVALUATION, "mltrail.sklearn._evaluate"),
    **dict.fromkeys(_REGISTRY_ENTITIES, "mltrail._registry_entities"),
    **dict.fromkeys(_REGISTRY, "mltrail.registry"),
}

__all__ = [
    "ActiveRun",
    "AliasChange",
    "ConflictError",
    "Dataset",
    "DatasetInput",
    "Experiment",
    "FileInfo",
    "FilterSyntaxError",
    "InputTag",
    "InvalidValueError",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelMetric",
    "LoggedModelStatus",
    "Metric",
    "MltrailDeprecationWarning",
    "MltrailError",
    "MltrailWarning",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "NotFoundError",
    "PagedList",
    "Param",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "StoreError",
    "TrackingClient",
    "ViewType",
    "__version__",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "evaluate",
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
    "models",
    "pyfunc",
    "register_model",
    "registry",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "sklearn",
    "start_run",
]


def __getattr__(name: str) -> _typing.Any:
    if name in _SUBMODULES:
        value: _typing.Any = _importlib.import_module(f"mltrail.{name}")
    elif name in _LOCATIONS:
        value = getattr(_importlib.import_module(_LOCATIONS[name]), name)
    else:
        raise AttributeError(f"module 'mltrail' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
