# mypy: ignore-errors
# A public MLflow script, checked by running it (tests/compat/test_scripts.py).
"""MLflow's examples/sklearn_autolog/grid_search_cv.py, with only the import changed."""

from pprint import pprint

import pandas as pd
from autolog_utils import fetch_logged_data
from sklearn import datasets, svm
from sklearn.model_selection import GridSearchCV

import mltrail as mlflow


def main():
    mlflow.sklearn.autolog()

    iris = datasets.load_iris()
    parameters = {"kernel": ("linear", "rbf"), "C": [1, 10]}
    svc = svm.SVC()
    clf = GridSearchCV(svc, parameters)

    with mlflow.start_run() as run:
        clf.fit(iris.data, iris.target)

    # show data logged in the parent run
    print("========== parent run ==========")
    for key, data in fetch_logged_data(run.info.run_id).items():
        print(f"\n---------- logged {key} ----------")
        pprint(data)

    # show data logged in the child runs
    filter_child_runs = f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    runs = mlflow.search_runs(filter_string=filter_child_runs)
    param_cols = [f"params.{p}" for p in parameters]
    metric_cols = ["metrics.mean_test_score"]

    print("\n========== child runs ==========\n")
    pd.set_option("display.max_columns", None)  # show all columns
    print(runs[["run_id", *param_cols, *metric_cols]])


if __name__ == "__main__":
    main()
