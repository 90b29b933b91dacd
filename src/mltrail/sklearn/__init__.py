"""The scikit-learn integration: ``autolog`` and the ``sklearn`` model flavor.

Importing this package does not import scikit-learn; each function does, when called.
The flavor's functions load on first use: ``autolog()`` starts its helper process
before the model code is imported (about 25 ms), and the helper's imports are what
a one-shot script's end waits for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mltrail.sklearn._autolog import autolog

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from mltrail.sklearn.shared._flavor import load_model, log_model, save_model

__all__ = [
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "autolog",
    "load_model",
    "log_model",
    "save_model",
]

# MLflow's names of the formats ``save_model(serialization_format=...)`` takes.
SERIALIZATION_FORMAT_SKOPS = "skops"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = [
    SERIALIZATION_FORMAT_SKOPS,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
]

_FLAVOR = "mltrail.sklearn.shared._flavor"


def __getattr__(name: str) -> Any:
    if name not in ("load_model", "log_model", "save_model"):
        raise AttributeError(f"module 'mltrail.sklearn' has no attribute {name!r}")
    value = getattr(importlib.import_module(_FLAVOR), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
