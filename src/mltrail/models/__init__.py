"""MLflow's model format for scikit-learn: signatures, examples, the model directory.

``mltrail.sklearn.save_model``/``log_model``/``load_model`` and
``mltrail.pyfunc.load_model`` are built on this package. Importing it loads neither
numpy, pandas nor scikit-learn.
"""

from mltrail.models._mlmodel import Model
from mltrail.models._model import ModelInfo
from mltrail.models._serialization import UntrustedModelError
from mltrail.models._signature import (
    ColSpec,
    DataType,
    ModelSignature,
    Schema,
    TensorSpec,
    infer_schema,
    infer_signature,
)

__all__ = [
    "ColSpec",
    "DataType",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "Schema",
    "TensorSpec",
    "UntrustedModelError",
    "infer_schema",
    "infer_signature",
]
