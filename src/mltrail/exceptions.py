"""MLflow's ``mlflow.exceptions`` names, for ``except`` clauses written for MLflow.

``MlflowException`` *is* ``mltrail.MltrailError``, the base of every error that
mltrail raises on purpose, so ``except MlflowException`` catches all of them; each
carries MLflow's ``error_code`` (``get_error_code()``) for its kind.

Examples
--------
>>> import mltrail
>>> from mltrail.exceptions import MlflowException
>>> try:
...     mltrail.TrackingClient().get_run("0" * 32)
... except MlflowException as error:
...     print(error.get_error_code())
RESOURCE_DOES_NOT_EXIST
"""

from __future__ import annotations

from mltrail._errors import (
    ConflictError,
    FilterSyntaxError,
    InvalidValueError,
    MltrailError,
    NotFoundError,
    StoreError,
)

__all__ = [
    "ConflictError",
    "FilterSyntaxError",
    "InvalidValueError",
    "MlflowException",
    "MltrailError",
    "NotFoundError",
    "StoreError",
]

MlflowException = MltrailError
