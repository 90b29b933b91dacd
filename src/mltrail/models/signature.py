"""MLflow's ``mlflow.models.signature`` module name, for scripts that import from it.

Examples
--------
>>> from mltrail.models.signature import ModelSignature, infer_signature
>>> infer_signature([[1.0, 2.0]]).inputs.to_dict()
[{'type': 'tensor', 'tensor-spec': {'dtype': 'float64', 'shape': [-1, 2]}}]
"""

from mltrail.models._signature import (
    ColSpec,
    ModelSignature,
    Schema,
    TensorSpec,
    infer_signature,
)

__all__ = [
    "ColSpec",
    "ModelSignature",
    "Schema",
    "TensorSpec",
    "infer_signature",
]
