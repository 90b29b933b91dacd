# mypy: ignore-errors
# A public MLflow script, checked by running it (tests/compat/test_scripts.py).
"""MLflow's dataset tracking guide (docs, ``mlflow.data``), import changed.

The guide reads a CSV from a URL; this copy builds the same kind of DataFrame from
scikit-learn's bundled wine data and names the URL as its source.
"""

from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

import mltrail as mlflow
from mltrail.data.pandas_dataset import PandasDataset

dataset_source_url = "https://raw.githubusercontent.com/mlflow/mlflow/master/tests/datasets/winequality-white.csv"
raw_data = load_wine(as_frame=True).frame.rename(columns={"target": "quality"})

# Create an instance of a PandasDataset
dataset: PandasDataset = mlflow.data.from_pandas(
    raw_data, source=dataset_source_url, name="wine quality - white", targets="quality"
)

with mlflow.start_run() as run:
    mlflow.log_input(dataset, context="training")
    model = RandomForestClassifier(n_estimators=10, random_state=0)
    model.fit(dataset.df.drop(columns=["quality"]), dataset.df["quality"])

# Retrieve the run, including dataset information
logged_run = mlflow.get_run(run.info.run_id)

# Retrieve the Dataset object
logged_dataset = logged_run.inputs.dataset_inputs[0].dataset

# View some of the recorded Dataset information
print(f"Dataset name: {logged_dataset.name}")
print(f"Dataset digest: {logged_dataset.digest}")
print(f"Dataset source URI: {logged_dataset.source}")
print(f"Dataset schema: {logged_dataset.schema}")
print(f"Dataset profile: {logged_dataset.profile}")
