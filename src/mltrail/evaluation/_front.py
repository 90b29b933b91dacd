"""``mltrail.evaluate``: mltrail's form, and MLflow's form with its result object.

``evaluate(model, X, y, name=...)`` is mltrail's held-out evaluation
(``sklearn._explicit.evaluate``). A call in MLflow's form (``targets=``,
``model_type=``, ``evaluators=``..., a model URI, a pyfunc model or a function)
computes the same suite, logs it as mltrail does (``<dataset>_*`` metrics, the
dataset input, plots) and also under the names MLflow's default evaluator logs
(``accuracy_score``, ``root_mean_squared_error``...), linked to the logged model
when there is one, and returns MLflow's ``EvaluationResult``. This is the one
module of this package that logs; it imports the layers above it inside functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mltrail._errors import InvalidValueError

__all__ = ["EvaluationArtifact", "EvaluationResult", "evaluate"]

MODEL_TYPES = ("classifier", "regressor")
# mltrail's name of the evaluation when MLflow's call names no dataset.
DEFAULT_NAME = "eval"
# MLflow's names of the plots, for the plots mltrail draws.
PLOT_NAMES = {
    "confusion_matrix": "confusion_matrix",
    "roc_curve": "roc_curve_plot",
    "precision_recall_curve": "precision_recall_curve_plot",
    "calibration_curve": "calibration_curve_plot",
}


@dataclass(frozen=True, slots=True)
class EvaluationArtifact:
    """A file that an evaluation logged, as MLflow's result lists it.

    Parameters
    ----------
    uri : str
        Where the file is among the run's artifacts.

    Examples
    --------
    >>> from mltrail.evaluation._front import EvaluationArtifact
    >>> EvaluationArtifact("runs:/abc/plots/eval_roc_curve.png").uri[-4:]
    '.png'
    """

    uri: str


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """What ``mltrail.evaluate`` returns in MLflow's form.

    Parameters
    ----------
    metrics : dict of str to float
        Metrics under the names of MLflow's default evaluator.
    artifacts : dict of str to EvaluationArtifact
        The plots, under MLflow's names (``confusion_matrix``, ``roc_curve_plot``).
    run_id : str
        The run the evaluation was logged to.
    tables : dict, default={}
        Always empty: MLflow fills it for GenAI evaluations only.

    Examples
    --------
    >>> from mltrail.evaluation._front import EvaluationResult
    >>> EvaluationResult({"score": 1.0}, {}, "abc").metrics
    {'score': 1.0}
    """

    metrics: dict[str, float]
    artifacts: dict[str, EvaluationArtifact]
    run_id: str
    tables: dict[str, Any] = field(default_factory=dict)


def evaluate(
    model: Any = None,
    X: Any = None,
    y: Any = None,
    *,
    name: str | None = None,
    run_id: str | None = None,
    data: Any = None,
    model_type: str | None = None,
    targets: Any = None,
    predictions: str | None = None,
    dataset_path: str | None = None,
    feature_names: list[str] | None = None,
    evaluators: str | list[str] | None = None,
    evaluator_config: dict[str, Any] | None = None,
    extra_metrics: list[Any] | None = None,
    custom_artifacts: list[Any] | None = None,
    env_manager: str = "local",
    model_config: dict[str, Any] | None = None,
    inference_params: dict[str, Any] | None = None,
    model_id: str | None = None,
    trusted: bool | list[str] | None = None,
) -> Any:
    """Evaluate a model on a dataset and log the metric suite and plots.

    mltrail's form, ``evaluate(model, X, y, name="test")``, evaluates a fitted
    estimator and returns its metrics as logged (``{"test_accuracy": ...}``): see
    ``mltrail.sklearn`` for the suite. MLflow's form, ``evaluate(model_uri, data,
    targets="label", model_type="classifier")``, is chosen by any of MLflow's
    keywords, or by a model given as a URI, a pyfunc model or a function: it logs
    the same suite and plots, and the metrics of MLflow's default evaluator
    (``accuracy_score``, ``f1_score``, ``roc_auc``..., ``mean_squared_error``,
    ``r2_score``..., ``example_count`` and the model's ``score``) unprefixed, as
    MLflow does, then returns MLflow's ``EvaluationResult``.

    Parameters
    ----------
    model : estimator, str, PyFuncModel, callable or None, default=None
        A fitted estimator; in MLflow's form also a model URI (``models:/...``,
        ``runs:/...``, a path), a pyfunc model, a function returning predictions,
        or None with ``predictions``.
    X : array-like or DataFrame, default=None
        The features (mltrail), or MLflow's ``data``: features, or a DataFrame
        holding the ``targets`` column, or a dataset of ``mltrail.data``.
    y : array-like, default=None
        The labels (mltrail's form); MLflow's form takes ``targets``.
    name : str or None, default=None
        The dataset's name, the prefix of mltrail's metrics; ``"test"`` in
        mltrail's form, else the dataset's name or ``"eval"``.
    run_id : str or None, default=None
        The run to log into; by default the active run, else a new run.
    data : array-like, DataFrame or dataset, default=None
        MLflow's name for ``X``.
    model_type : {"classifier", "regressor"} or None, default=None
        The kind of model; None infers it from an estimator.
    targets : str or array-like or None, default=None
        The labels, or the column of ``data`` that holds them.
    predictions : str or None, default=None
        The column of ``data`` that holds the model's predictions (no model).
    dataset_path : str or None, default=None
        Accepted for MLflow; the dataset's source is recorded from the code.
    feature_names : list of str or None, default=None
        Accepted for MLflow; the model reads ``data`` as it is.
    evaluators : str or list of str or None, default=None
        ``"default"`` (or None): the only evaluator.
    evaluator_config : dict or None, default=None
        ``pos_label`` (binary), ``average`` (``"weighted"`` or ``"macro"``,
        multiclass); other keys, such as SHAP's, are ignored.
    extra_metrics : list or None, default=None
        MLflow's custom metrics: not supported, must be None.
    custom_artifacts : list or None, default=None
        MLflow's custom artifacts: not supported, must be None.
    env_manager : str, default="local"
        Only ``"local"``: the model runs in this process.
    model_config : dict or None, default=None
        Accepted for MLflow; scikit-learn models take no configuration.
    inference_params : dict or None, default=None
        Accepted for MLflow; scikit-learn models take no parameters.
    model_id : str or None, default=None
        The logged model (``m-...``) to link the metrics to; by default the one
        the model URI names, if any.
    trusted : bool or list of str or None, default=None
        mltrail's own: what a model URI may load beyond the types trusted by
        default, as for ``mltrail.pyfunc.load_model``.

    Returns
    -------
    dict of str to float or EvaluationResult
        The metrics as logged (mltrail's form), or the result with ``metrics``,
        ``artifacts`` and ``run_id`` (MLflow's form).

    Raises
    ------
    InvalidValueError
        If the model cannot be evaluated, the labels are missing, or an MLflow
        option that mltrail does not support is set.

    Examples
    --------
    >>> import mltrail
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import LinearRegression
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = LinearRegression().fit(X[:300], y[:300])
    >>> result = mltrail.evaluate(model, X[300:], targets=y[300:],
    ...                           model_type="regressor")
    >>> round(result.metrics["r2_score"], 3), result.metrics["example_count"]
    (0.507, 142)
    """
    mlflow_options = {
        "model_type": model_type,
        "targets": targets,
        "predictions": predictions,
        "dataset_path": dataset_path,
        "feature_names": feature_names,
        "evaluators": evaluators,
        "evaluator_config": evaluator_config,
        "extra_metrics": extra_metrics,
        "custom_artifacts": custom_artifacts,
        "model_config": model_config,
        "inference_params": inference_params,
        "model_id": model_id,
        "data": data,
        "trusted": trusted,
    }
    is_mlflow_form = (
        any(value is not None for value in mlflow_options.values())
        or env_manager != "local"
        or model is None
        or isinstance(model, str | os.PathLike)
        or not hasattr(model, "fit")
    )
    if not is_mlflow_form:
        from mltrail.sklearn._explicit import evaluate as evaluate_estimator

        metrics: dict[str, float] = evaluate_estimator(
            model, X, y, name=name or "test", run_id=run_id
        )
        return metrics
    _check_supported(evaluators, extra_metrics, custom_artifacts, env_manager)
    if data is not None and X is not None:
        raise InvalidValueError(
            "data", data, "None when X is given", "Pass the dataset once, as data."
        )
    if y is not None and targets is not None:
        raise InvalidValueError(
            "y", y, "None when targets is given", "Pass the labels once, as targets."
        )
    return _evaluate_mlflow_form(
        model,
        X if data is None else data,
        y if targets is None else targets,
        name=name,
        run_id=run_id,
        model_type=model_type,
        predictions=predictions,
        config=dict(evaluator_config or {}),
        model_id=model_id,
        trusted=trusted,
    )


def _check_supported(
    evaluators: Any, extra_metrics: Any, custom_artifacts: Any, env_manager: str
) -> None:
    names = [evaluators] if isinstance(evaluators, str) else list(evaluators or [])
    if any(evaluator != "default" for evaluator in names):
        raise InvalidValueError(
            "evaluators",
            evaluators,
            "'default' or None",
            "mltrail has MLflow's default evaluator only.",
        )
    for option, value in (
        ("extra_metrics", extra_metrics),
        ("custom_artifacts", custom_artifacts),
    ):
        if value:
            raise InvalidValueError(
                option,
                value,
                "None",
                "Compute the metric yourself and log it with mltrail.log_metric.",
            )
    if env_manager != "local":
        raise InvalidValueError(
            "env_manager", env_manager, "'local'", "The model runs in this process."
        )


@dataclass(slots=True)
class _Evaluated:
    """The model's pieces that an evaluation needs."""

    estimator: Any = None
    predict: Any = None
    model_id: str | None = None


def _resolve_model(
    model: Any, model_id: str | None, trusted: bool | list[str] | None = None
) -> _Evaluated:
    """Turn a URI, pyfunc model, estimator or function into what is evaluated."""
    from mltrail.models._loading import PyFuncModel
    from mltrail.sklearn.shared._evaluate import model_kind

    if isinstance(model, str | os.PathLike):
        from mltrail import pyfunc

        loaded = pyfunc.load_model(model, trusted=trusted)
        found = loaded.metadata.model_id
        return _resolve_model(loaded, model_id or found)
    if isinstance(model, PyFuncModel):
        raw = model.get_raw_model()
        if model_kind(raw) is not None:
            return _Evaluated(estimator=raw, model_id=model_id)
        return _Evaluated(predict=model.predict, model_id=model_id)
    if model is None:
        return _Evaluated(model_id=model_id)
    if hasattr(model, "predict") and model_kind(model) is not None:
        return _Evaluated(estimator=model, model_id=model_id)
    if callable(model):
        return _Evaluated(predict=model, model_id=model_id)
    raise InvalidValueError(
        "model",
        model,
        "a fitted estimator, a model URI, a pyfunc model, a function or None",
        "Pass the fitted estimator or the model_uri that log_model returned.",
    )


def _split(
    data: Any, targets: Any, predictions: str | None
) -> tuple[Any, Any, Any, str | None]:
    """Return features, labels, static predictions and the dataset's own name."""
    import pandas as pd

    from mltrail.data._dataset import NumpyDataset, PandasDataset

    dataset_name = None
    if isinstance(data, PandasDataset):
        dataset_name = data.name
        targets = targets if targets is not None else data.targets
        predictions = predictions or data.predictions
        data = data.df
    elif isinstance(data, NumpyDataset):
        dataset_name = data.name
        targets = targets if targets is not None else data.targets
        data = data.features
    if data is None:
        raise InvalidValueError(
            "data", None, "the evaluation dataset", "Pass data=X_test, targets=y_test."
        )
    static = None
    if isinstance(data, pd.DataFrame):
        drop = [c for c in (targets, predictions) if isinstance(c, str)]
        for column in drop:
            if column not in data.columns:
                raise InvalidValueError(
                    "targets" if column == targets else "predictions",
                    column,
                    f"a column of data ({', '.join(map(str, data.columns))})",
                    "Name the column that holds it.",
                )
        if isinstance(targets, str):
            targets = data[targets]
        if predictions is not None:
            static = data[predictions]
        data = data.drop(columns=drop)
    elif isinstance(targets, str) or predictions is not None:
        raise InvalidValueError(
            "data",
            type(data).__name__,
            "a DataFrame when targets or predictions name a column",
            "Pass targets=y_test (the labels) with array data.",
        )
    return data, targets, static, dataset_name


def _evaluate_mlflow_form(
    model: Any,
    data: Any,
    targets: Any,
    *,
    name: str | None,
    run_id: str | None,
    model_type: str | None,
    predictions: str | None,
    config: dict[str, Any],
    model_id: str | None,
    trusted: bool | list[str] | None,
) -> EvaluationResult:
    import numpy as np

    from mltrail.sklearn.recorders._heldout import quiet
    from mltrail.sklearn.shared._evaluate import (
        Outputs,
        complete_outputs,
        model_kind,
        model_name,
        suite,
    )

    if model_type is not None and model_type not in MODEL_TYPES:
        raise _model_type_error(model_type)
    evaluated = _resolve_model(model, model_id, trusted)
    X, y, static, dataset_name = _split(data, targets, predictions)
    if y is None:
        raise InvalidValueError(
            "targets", None, "the labels of data", "Pass targets='label' or y_test."
        )
    kind = model_type or (
        None if evaluated.estimator is None else model_kind(evaluated.estimator)
    )
    if kind not in MODEL_TYPES:
        raise _model_type_error(model_type)
    if evaluated.estimator is None and static is None and evaluated.predict is None:
        raise InvalidValueError(
            "predictions",
            None,
            "the column of data with the predictions, when model is None",
            "Pass a model, or predictions='prediction'.",
        )
    outputs = Outputs(
        kind,
        model=None if evaluated.estimator is None else model_name(evaluated.estimator),
    )
    if static is not None:
        outputs.y_pred = np.asarray(static)
    elif evaluated.estimator is not None:
        with quiet():
            complete_outputs(evaluated.estimator, X, outputs)
    else:
        outputs.y_pred = np.asarray(evaluated.predict(X))
    pos_label = config.get("pos_label")
    ours = suite(outputs, X, y, pos_label=pos_label)
    theirs = _mlflow_metrics(kind, ours, outputs, y, config)
    if evaluated.estimator is not None:
        with quiet():
            theirs["score"] = float(evaluated.estimator.score(X, y))
    label = name or dataset_name or DEFAULT_NAME
    return _log(
        theirs, ours, outputs, X, y, label, run_id, evaluated.model_id, pos_label
    )


def _model_type_error(model_type: str | None) -> InvalidValueError:
    return InvalidValueError(
        "model_type",
        model_type,
        "'classifier' or 'regressor'",
        "Pass model_type='classifier' or 'regressor'.",
    )


def _mlflow_metrics(
    kind: str, ours: dict[str, float], outputs: Any, y: Any, config: dict[str, Any]
) -> dict[str, float]:
    """Rename our suite to MLflow's default evaluator's names, adding its extras."""
    import numpy as np

    labels = np.asarray(y)
    metrics: dict[str, float] = {"example_count": int(labels.shape[0])}
    if kind == "regressor":
        renamed = {
            "mae": "mean_absolute_error",
            "mse": "mean_squared_error",
            "rmse": "root_mean_squared_error",
            "r2": "r2_score",
            "max_error": "max_error",
            "mape": "mean_absolute_percentage_error",
        }
        metrics.update(
            {theirs: ours[key] for key, theirs in renamed.items() if key in ours}
        )
        total = float(labels.sum())
        metrics["sum_on_target"] = total
        metrics["mean_on_target"] = total / labels.shape[0]
        return metrics
    is_binary = "true_positives" in ours
    average = "" if is_binary else "_" + str(config.get("average", "weighted"))
    for key, theirs in (
        ("accuracy", "accuracy_score"),
        (f"recall{average}", "recall_score"),
        (f"precision{average}", "precision_score"),
        (f"f1{average}", "f1_score"),
        ("log_loss", "log_loss"),
    ):
        if key in ours:
            metrics[theirs] = ours[key]
    if is_binary:
        for key in (
            "true_negatives",
            "false_positives",
            "false_negatives",
            "true_positives",
        ):
            metrics[key] = int(ours[key])
        if "roc_auc" in ours:
            metrics["roc_auc"] = ours["roc_auc"]
        if "average_precision" in ours:
            metrics["precision_recall_auc"] = ours["average_precision"]
    else:
        auc = _multiclass_roc_auc(outputs, labels, weighted=average == "_weighted")
        if auc is not None:
            metrics["roc_auc"] = auc
    return metrics


def _multiclass_roc_auc(outputs: Any, labels: Any, *, weighted: bool) -> float | None:
    """One-vs-rest AUC, averaged weighted by support as MLflow's default is."""
    import numpy as np

    from mltrail.evaluation._metrics import binary_curve, roc_auc_of

    scores, classes = outputs.y_score, outputs.classes
    if not outputs.is_probability or scores is None or classes is None:
        return None
    aucs, supports = [], []
    for index, label in enumerate(list(classes)):
        positive = labels == label
        if not positive.any() or positive.all():
            continue
        fps, tps, _ = binary_curve(positive, np.asarray(scores)[:, index], None)
        auc = roc_auc_of(fps, tps)
        if auc is not None:
            aucs.append(auc)
            supports.append(float(positive.sum()))
    if not aucs:
        return None
    return float(np.average(aucs, weights=supports if weighted else None))


def _log(
    theirs: dict[str, float],
    ours: dict[str, float],
    outputs: Any,
    X: Any,
    y: Any,
    label: str,
    run_id: str | None,
    model_id: str | None,
    pos_label: Any,
) -> EvaluationResult:
    """Log both sets of metrics, the dataset and plots; wait for the plots."""
    import time

    from mltrail._entities import Metric
    from mltrail.sklearn.shared._evaluate import log_evaluation
    from mltrail.tracking import _runs, end_run, start_run
    from mltrail.tracking._fluent_models import link_metrics

    client = _runs.current_client()
    active = _runs.active_run()
    is_new = run_id is None and active is None
    if run_id is not None:
        target = run_id
    else:
        target = (start_run() if active is None else active).info.run_id
    try:
        now = int(time.time() * 1000)
        points = [Metric(key, float(value), now, 0) for key, value in theirs.items()]
        client.log_batch(target, metrics=points)
        log_evaluation(
            client,
            target,
            label,
            ours,
            outputs=outputs,
            X=X,
            y_true=y,
            pos_label=pos_label,
        )
        if model_id is not None:
            from types import SimpleNamespace

            from mltrail.capture._datasets import dataset_digest

            # The dataset as log_evaluation recorded it, without a second input.
            dataset = SimpleNamespace(name=label, digest=dataset_digest(X, y))
            link_metrics(client, target, points, model_id=model_id, dataset=dataset)
        client._flush_pending(target)  # the plots are drawn on the worker
        names = {f.path for f in client.list_artifacts(target, "plots")}
    except BaseException:
        if is_new:
            end_run("FAILED")
        raise
    if is_new:
        end_run()
    artifacts = {
        theirs_name: EvaluationArtifact(f"runs:/{target}/plots/{label}_{ours_name}.png")
        for ours_name, theirs_name in PLOT_NAMES.items()
        if f"plots/{label}_{ours_name}.png" in names
    }
    return EvaluationResult(dict(theirs), artifacts, target)
