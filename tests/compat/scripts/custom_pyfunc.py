# mypy: ignore-errors
# A public MLflow script, checked by running it (tests/compat/test_scripts.py).
"""MLflow's examples/custom_pyfunc_knn_iris/train.py, with only the import changed.

The wine-quality CSV of the original stands in as scikit-learn's bundled wine data.
The original loads the model with MLflow 1's ``load_pyfunc(path, run_id)``, which
MLflow 3 no longer has; this copy loads it from its ``runs:/`` URI, trusted: the one
change mltrail asks for (a PythonModel is code, loaded only when trusted).
"""

import sys
import warnings

import numpy as np
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import train_test_split

import mltrail as mlflow
import mltrail.pyfunc
import mltrail.sklearn


class WineClassifier(mlflow.pyfunc.PythonModel):
    def __init__(self, quality_threshold):
        self.quality_threshold = quality_threshold

    def load_context(self, context):
        self.model = mlflow.sklearn.load_model(context.artifacts["sk_model"])

    def predict(self, context, model_input):
        wine_scores = self.model.predict(model_input)
        return wine_scores


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    np.random.seed(40)

    data = load_wine(as_frame=True).frame.rename(columns={"target": "quality"})

    # Split the data into training and test sets. (0.75, 0.25) split.
    train, test = train_test_split(data)

    alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    l1_ratio = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5

    # The predicted column is "quality"
    train_x = train.drop(["quality"], axis=1)
    test_x = test.drop(["quality"], axis=1)
    train_y = train[["quality"]]
    test_y = test[["quality"]]

    lr_model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
    lr_model.fit(train_x, train_y)

    # Log the ElasticNet regressor as an MLflow model in a new run
    sklearn_artifact_path = "sk_model_artifact"
    with mlflow.start_run():
        mlflow.sklearn.log_model(sk_model=lr_model, artifact_path=sklearn_artifact_path)
        sk_model_artifact_uri = mlflow.get_artifact_uri(sklearn_artifact_path)

    pyfunc_artifact_path = "pyfunc_model_artifact"
    with mlflow.start_run():
        my_model = WineClassifier(quality_threshold=5)
        mlflow.pyfunc.log_model(
            artifact_path=pyfunc_artifact_path,
            artifacts={"sk_model": sk_model_artifact_uri},
            python_model=my_model,
        )
        pyfunc_run_id = mlflow.active_run().info.run_uuid

    # mltrail's one change: a PythonModel is code (a cloudpickle file), so loading
    # it is the caller's decision to trust it.
    pyfunc_model = mlflow.pyfunc.load_model(
        f"runs:/{pyfunc_run_id}/{pyfunc_artifact_path}", trusted=True
    )
    print("PREDS", pyfunc_model.predict(test_x), type(pyfunc_model.predict(test_x)))
