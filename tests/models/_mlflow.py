"""Import the real ``mlflow`` for compatibility tests, without its own warnings."""

from __future__ import annotations

import warnings
from types import ModuleType


def import_mlflow() -> ModuleType:
    """Return ``mlflow`` with its pyfunc, sklearn and models modules imported."""
    with warnings.catch_warnings():
        # MLflow 3.17.2 warns about type hints of its own response classes when
        # mlflow.types.responses is first imported; it says nothing about our models.
        warnings.filterwarnings(
            "ignore",
            message=".*Any type hint is inferred as AnyType",
            category=UserWarning,
        )
        import mlflow
        import mlflow.models
        import mlflow.pyfunc
        import mlflow.sklearn
    return mlflow
