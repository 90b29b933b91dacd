# mypy: ignore-errors
# A public MLflow script, checked by running it (tests/compat/test_scripts.py).
"""MLflow's examples/evaluation/evaluate_on_binary_classifier.py, import changed.

SHAP's adult census data is downloaded by the original; scikit-learn's bundled breast
cancer data stands in for it. MLflow 3 has no ``dataset_name`` argument (the
original's MLflow 2 keyword fails under MLflow 3.17 too), so it is left out. mltrail
asks for one change: the model's XGBoost types are trusted by name.
"""

import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import mltrail as mlflow

# train XGBoost model
X, y = load_breast_cancer(return_X_y=True, as_frame=True)

num_examples = len(X)

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.33, random_state=42
)

model = xgboost.XGBClassifier(n_estimators=20).fit(X_train, y_train)

eval_data = X_test
eval_data["label"] = y_test

with mlflow.start_run() as run:
    # MLflow 3.17 refuses XGBoost's types in its skops file unless they are named.
    mlflow.sklearn.log_model(
        model,
        "model",
        skops_trusted_types=["xgboost.core.Booster", "xgboost.sklearn.XGBClassifier"],
    )
    model_uri = mlflow.get_artifact_uri("model")
    result = mlflow.evaluate(
        model_uri,
        eval_data,
        targets="label",
        model_type="classifier",
        evaluators=["default"],
        # mltrail's one change: the loader trusts the caller, never the list the
        # model's own MLmodel file holds.
        trusted=["xgboost.core.Booster", "xgboost.sklearn.XGBClassifier"],
    )

print(f"metrics:\n{result.metrics}")
print(f"artifacts:\n{result.artifacts}")
