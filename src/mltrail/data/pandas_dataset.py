"""MLflow's ``mlflow.data.pandas_dataset`` module name: ``PandasDataset``."""

from mltrail.data._dataset import PandasDataset, from_pandas

__all__ = ["PandasDataset", "from_pandas"]
