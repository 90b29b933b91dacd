"""What autolog reads of a fit call and of an estimator, for every stage.

The fit's ``X``, ``y`` and ``sample_weight``, the estimator's params and tags as
MLflow logs them, its first rows, what kind of model it is, and the description
of its training data as a run input. Pure functions:
they never copy the data.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "INPUT_EXAMPLE_ROWS",
    "TRAIN_DATASET",
    "describe_train",
    "estimator_params",
    "estimator_tags",
    "fit_arguments",
    "head",
    "model_kind",
    "model_name",
    "n_rows",
    "predicts_most_probable",
    "static_method",
    "take_rows",
]

INPUT_EXAMPLE_ROWS = 5
TRAIN_DATASET = "train"
# (module, class) defining a classifier ``predict`` that is the class of highest
# ``predict_proba``: see ``_predicts_most_probable``.
MOST_PROBABLE_PREDICTS = (
    ("sklearn.ensemble._forest", "ForestClassifier"),
    ("sklearn.ensemble._bagging", "BaggingClassifier"),
    ("sklearn.ensemble._voting", "VotingClassifier"),
    ("sklearn.calibration", "CalibratedClassifierCV"),
    ("sklearn.semi_supervised._label_propagation", "BaseLabelPropagation"),
    ("sklearn.tree._classes", "BaseDecisionTree"),
)


@functools.cache
def _parameter_names(function: Callable[..., Any]) -> tuple[str, ...]:
    """Return the names of a fit method's parameters after ``self``."""
    try:
        parameters = list(inspect.signature(function).parameters.values())[1:]
    except (TypeError, ValueError):  # pragma: no cover - C functions
        return ()
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )
    return tuple(p.name for p in parameters if p.kind in positional)


def fit_arguments(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, Any, Any]:
    """Return ``(X, y, sample_weight)`` from the arguments of a fit call."""
    names = _parameter_names(function)
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    X = args[0] if args else (bound.get(names[0]) if names else None)
    y_name = names[1] if len(names) > 1 and names[1] in ("y", "Y") else "y"
    return X, bound.get(y_name), bound.get("sample_weight")


def estimator_params(estimator: Any, *, deep: bool = True) -> dict[str, str]:
    """Return ``get_params(deep=deep)`` with every value as ``str``, never truncated."""
    return {key: str(value) for key, value in estimator.get_params(deep=deep).items()}


def estimator_tags(estimator: Any) -> dict[str, str]:
    """Return the ``estimator_name`` and ``estimator_class`` tags, as MLflow does."""
    cls = type(estimator)
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }


def head(X: Any, n: int = INPUT_EXAMPLE_ROWS) -> Any:
    """Return the first ``n`` rows of X without copying the rest."""
    iloc = getattr(X, "iloc", None)
    if iloc is not None:
        return iloc[:n]
    return X[:n]


def take_rows(X: Any, index: Any) -> Any:
    """Return the rows of X at the positions in ``index`` (a frame's by position)."""
    iloc = getattr(X, "iloc", None)
    return iloc[index] if iloc is not None else X[index]


def n_rows(X: Any) -> int:
    """Return the number of rows of X (a frame, an array, a sparse matrix, a list)."""
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def model_name(estimator: Any) -> str:
    """Name an estimator for people: its class, a pipeline by its final step."""
    best = getattr(estimator, "best_estimator_", None)
    if best is not None:
        return model_name(best)
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        return f"{type(steps[-1][1]).__name__} pipeline"
    return type(estimator).__name__


def model_kind(estimator: Any) -> str | None:
    """Return ``"classifier"``, ``"regressor"``, ``"clusterer"`` or None."""
    from sklearn.base import is_classifier, is_clusterer, is_regressor

    if is_classifier(estimator):
        return "classifier"
    if is_regressor(estimator):
        return "regressor"
    if is_clusterer(estimator):
        return "clusterer"
    return None


def predicts_most_probable(estimator: Any) -> bool:
    """Whether ``predict(X)`` is exactly ``classes_.take(predict_proba(X).argmax(1))``.

    Then one pass gives both, instead of two. Checked in scikit-learn's source (1.5
    and 1.9): the ``predict`` of ``MOST_PROBABLE_PREDICTS`` calls
    ``self.predict_proba`` and takes the class of its argmax, or, for trees, takes
    it from the very array that ``predict_proba`` returns. Other classifiers decide
    from ``decision_function`` or raw scores, where a rounding tie could differ.
    """
    from sklearn.pipeline import Pipeline

    predict = static_method(estimator, "predict")
    if isinstance(estimator, Pipeline) and predict is Pipeline.__dict__["predict"]:
        return predicts_most_probable(estimator._final_estimator)
    if getattr(estimator, "n_outputs_", 1) != 1:
        return False
    for module_name, class_name in MOST_PROBABLE_PREDICTS:
        # The estimator's own module is loaded: never import one for this check.
        owner = getattr(sys.modules.get(module_name), class_name, None)
        if owner is not None and predict is owner.__dict__.get("predict"):
            break
    else:
        return False
    if class_name == "VotingClassifier":
        return getattr(estimator, "voting", None) == "soft"  # hard voting counts
    if class_name == "BaseDecisionTree":
        # Its predict mirrors DecisionTreeClassifier.predict_proba, not an override.
        tree = sys.modules[module_name].DecisionTreeClassifier
        return static_method(estimator, "predict_proba") is tree.__dict__.get(
            "predict_proba"
        )
    return True


def static_method(estimator: Any, name: str) -> Any:
    """Return the class attribute behind ``estimator.name``, descriptors unresolved."""
    return inspect.getattr_static(type(estimator), name, None)


def describe_train(model: Any, X: Any, y: Any, lineage: Any) -> Any:
    """Describe the training data of ``model`` as the run input ``train``."""
    from sklearn.base import is_classifier, is_regressor

    from mltrail.capture._datasets import describe_dataset
    from mltrail.tracking._context import system_tags

    is_classification = (
        True if is_classifier(model) else False if is_regressor(model) else None
    )
    return describe_dataset(
        X,
        y,
        name=TRAIN_DATASET,
        context="train",
        lineage=lineage,
        source_tags=system_tags(),
        is_classification=is_classification,
    )
