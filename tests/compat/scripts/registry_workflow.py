# mypy: ignore-errors
# A public MLflow script, checked by running it (tests/compat/test_scripts.py).
"""MLflow's model registry tutorial (docs, "Model Registry workflows"), import changed.

It registers a random forest while logging it, then manages the version with
``MlflowClient``: an alias, a description, a tag, and a search.
"""

from pprint import pprint

from sklearn.datasets import make_regression
from sklearn.ensemble import RandomForestRegressor

import mltrail as mlflow
import mltrail.sklearn
from mltrail import MlflowClient
from mltrail.models import infer_signature

name = "sk-learn-random-forest-reg-model"

with mlflow.start_run() as run:
    X, y = make_regression(n_features=4, n_informative=2, random_state=0, shuffle=False)
    params = {"max_depth": 2, "random_state": 42, "n_estimators": 10}
    model = RandomForestRegressor(**params)
    model.fit(X, y)

    # Log parameters and metrics using the MLflow APIs
    mlflow.log_params(params)

    y_pred = model.predict(X)
    mlflow.log_metrics({"mse": ((y - y_pred) ** 2).mean()})

    # Infer the model signature
    signature = infer_signature(X, y_pred)

    # Log the sklearn model and register as version 1
    mlflow.sklearn.log_model(
        sk_model=model,
        name="sklearn-model",
        signature=signature,
        registered_model_name=name,
    )

client = MlflowClient()
client.set_registered_model_alias(name, "champion", 1)
client.update_model_version(
    name=name,
    version=1,
    description="This model version is a scikit-learn random forest",
)
client.set_model_version_tag(name, "1", "validation_status", "approved")

champion = mlflow.pyfunc.load_model(f"models:/{name}@champion")
print(champion.predict(X[:3]))

for mv in client.search_model_versions(f"name='{name}'"):
    pprint(dict(mv), indent=4)
