"""MLflow's ``mlflow.types`` names: the specs that make up a model signature.

Examples
--------
>>> from mltrail.types import ColSpec, DataType, Schema
>>> Schema((ColSpec(DataType.double, "alcohol"),)).to_dict()
[{'type': 'double', 'name': 'alcohol', 'required': True}]
"""

from mltrail.models._signature import ColSpec, DataType, Schema, TensorSpec

__all__ = [
    "ColSpec",
    "DataType",
    "Schema",
    "TensorSpec",
]
