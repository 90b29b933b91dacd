"""The model a fit logs: its directory's options, signature and package list.

What every recorder that saves an estimator shares (a fit's model, a preprocessing
step's transformer, a ``partial_fit`` loop's model): the artifact paths, the
version tags, ``environment/packages.txt`` and ``log_model``.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import (
    MLTRAIL_VERSION_TAG,
    PYTHON_VERSION_TAG,
    SKLEARN_VERSION_TAG,
)
from mltrail._version import __version__

if TYPE_CHECKING:
    from mltrail.sklearn.shared._state import AutologSettings

__all__ = [
    "MODEL_ARTIFACT",
    "PACKAGES_ARTIFACT",
    "log_model",
    "model_options",
    "packages_text",
    "version_tags",
]

PACKAGES_ARTIFACT = "environment/packages.txt"
MODEL_ARTIFACT = "model"


def version_tags() -> dict[str, str]:
    """Return the Python, scikit-learn and mltrail version tags."""
    import sklearn

    return {
        PYTHON_VERSION_TAG: platform.python_version(),
        SKLEARN_VERSION_TAG: sklearn.__version__,
        MLTRAIL_VERSION_TAG: __version__,
    }


def packages_text() -> str:
    """Return ``environment/packages.txt``: every installed package, pinned."""
    from mltrail.capture._environment import installed_packages

    return "\n".join(installed_packages()) + "\n"


def _output_for_signature(model: Any, example: Any) -> Any:
    """Return what the signature's output is inferred from: a prediction, or its like.

    A scikit-learn classifier predicts labels taken from ``classes_``, so labels of
    that array have the prediction's type and shape without running the model (a
    forest's predict on the example costs as much as the rest of the model's save).
    """
    import numpy as np
    from sklearn.base import is_classifier

    classes = getattr(model, "classes_", None)
    if (
        type(model).__module__.startswith("sklearn.")
        and is_classifier(model)
        and isinstance(classes, np.ndarray)
        and classes.ndim == 1
        and classes.shape[0] > 0
        and hasattr(model, "predict")
    ):
        rows = example.shape[0] if hasattr(example, "shape") else len(example)
        return classes[np.zeros(rows, dtype=np.intp)]
    if hasattr(model, "predict"):
        return model.predict(example)
    if hasattr(model, "transform"):
        return model.transform(example)
    return None


def model_options(config: AutologSettings, model: Any, example: Any) -> dict[str, Any]:
    """Return the signature, example and format options of a model's directory."""
    signature: Any = False
    if config.log_model_signatures and example is not None:
        from mltrail.models import infer_signature

        signature = infer_signature(example, _output_for_signature(model, example))
    return {
        "serialization_format": config.serialization_format,
        "signature": signature,
        "input_example": example if config.log_input_examples else None,
    }


def log_model(
    run_id: str,
    config: AutologSettings,
    model: Any,
    example: Any,
    artifact_path: str = MODEL_ARTIFACT,
) -> None:
    """Log ``model`` with its signature and input example under ``artifact_path``."""
    from mltrail.sklearn.shared import _runs

    _runs.log_model(
        run_id,
        model,
        artifact_path=artifact_path,
        **model_options(config, model, example),
    )
