"""MLflow's ``mlflow.data.numpy_dataset`` module name: ``NumpyDataset``."""

from mltrail.data._dataset import NumpyDataset, from_numpy

__all__ = ["NumpyDataset", "from_numpy"]
