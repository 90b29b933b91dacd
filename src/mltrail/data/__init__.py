"""Datasets as MLflow's ``mlflow.data`` describes them: ``from_pandas``, ``from_numpy``.

A dataset built here has MLflow's shape (``name``, ``digest``, ``source``,
``schema``, ``profile``) and is fingerprinted and profiled as autolog does, so
``mltrail.log_input(dataset, context="train")`` writes the same record that
``mltrail.sklearn.autolog()`` writes for the same data. Importing this package
loads neither numpy nor pandas.
"""

from mltrail.data._dataset import (
    NumpyDataset,
    PandasDataset,
    from_numpy,
    from_pandas,
)

__all__ = ["NumpyDataset", "PandasDataset", "from_numpy", "from_pandas"]
