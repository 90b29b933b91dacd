"""MLflow's ``mlflow.client`` module name: ``MlflowClient``.

Examples
--------
>>> from mltrail.client import MlflowClient
>>> MlflowClient().get_experiment("0").name
'Default'
"""

from mltrail.tracking._mlflow_client import MlflowClient

__all__ = ["MlflowClient"]
