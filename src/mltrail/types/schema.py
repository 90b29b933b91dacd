"""MLflow's ``mlflow.types.schema`` module name, for scripts that import from it.

Examples
--------
>>> from mltrail.types.schema import ColSpec, Schema
>>> Schema((ColSpec("long", "age"),)).to_dict()
[{'type': 'long', 'name': 'age', 'required': True}]
"""

from mltrail.models._signature import ColSpec, DataType, Schema, TensorSpec

__all__ = [
    "ColSpec",
    "DataType",
    "Schema",
    "TensorSpec",
]
