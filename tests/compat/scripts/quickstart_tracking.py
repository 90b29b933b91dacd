# mypy: ignore-errors
# A public MLflow script, checked by running it (tests/compat/test_scripts.py).
"""MLflow's examples/quickstart/mlflow_tracking.py, with only the import changed."""

import os
from random import randint, random

from mltrail import log_artifacts, log_metric, log_param

if __name__ == "__main__":
    print("Running mlflow_tracking.py")

    log_param("param1", randint(0, 100))  # noqa: S311  # as in the original

    log_metric("foo", random())  # noqa: S311
    log_metric("foo", random() + 1)  # noqa: S311
    log_metric("foo", random() + 2)  # noqa: S311
    log_metric("accuracy 2", random())  # noqa: S311

    if not os.path.exists("outputs"):
        os.makedirs("outputs")
    with open("outputs/test.txt", "w") as f:
        f.write("hello world!")

    log_artifacts("outputs")
