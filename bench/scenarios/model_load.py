"""Load a registered model in a fresh process, as a scoring job or a notebook does.

Setup logs the seed's wine forest (100 trees, depth 6) with an input example,
registers it as ``wine`` and points the alias ``champion`` at it. Each sample is a
new interpreter that imports the tool and loads ``models:/wine@champion`` through
pyfunc: the value is import plus load, as issue #12 states the target; the first
one-row prediction is reported apart. After the timing, the sample runs one more
interpreter that imports scikit-learn's forest and unpickles the same estimator:
``floor_s``, the part of any load that is scikit-learn's own import.
"""

from __future__ import annotations

from bench._model import Scenario, Target

ORDER = 40

_FIT = """
import json
import pickle

from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

X, y = load_wine(return_X_y=True, as_frame=True)
forest = RandomForestClassifier(n_estimators=100, max_depth=6, random_state=42)
forest.fit(X, y)
with open("forest.pkl", "wb") as file:
    pickle.dump(forest, file)
with open("row.json", "w") as file:
    json.dump(X.iloc[0].to_dict(), file)
started = time.perf_counter()
"""

_SETUP = {
    "mltrail": _FIT
    + """
import mltrail

with mltrail.start_run():
    info = mltrail.sklearn.log_model(forest, "model", input_example=X)
version = mltrail.register_model(info.model_uri, "wine")
mltrail.TrackingClient().set_registered_model_alias("wine", "champion", version.version)
report(time.perf_counter() - started)
""",
    "mlflow": _FIT
    + """
import mlflow

with mlflow.start_run():
    info = mlflow.sklearn.log_model(
        forest,
        name="model",
        input_example=X,
        skops_trusted_types=["sklearn.tree._tree.Tree"],  # MLflow asks for it
    )
version = mlflow.register_model(info.model_uri, "wine")
mlflow.MlflowClient().set_registered_model_alias("wine", "champion", version.version)
report(time.perf_counter() - started)
""",
}

_FLOOR = """
import pickle, sys, time
started = time.perf_counter()
import sklearn.ensemble
with open("forest.pkl", "rb") as file:
    pickle.load(file)
print(time.perf_counter() - started)
"""

_MEASURE = """
started = time.perf_counter()
import {module} as tool
imported = time.perf_counter()
model = tool.pyfunc.load_model("models:/wine@champion")
loaded = time.perf_counter()

import json
import subprocess

import pandas as pd

with open("row.json") as file:
    row = pd.DataFrame([json.load(file)])
predict_started = time.perf_counter()
prediction = model.predict(row)
predicted = time.perf_counter()
floor = subprocess.run(
    [sys.executable, "-c", FLOOR], capture_output=True, text=True, check=True
)
report(
    loaded - started,
    import_s=imported - started,
    load_s=loaded - imported,
    first_predict_s=predicted - predict_started,
    floor_s=float(floor.stdout),
    check=int(prediction[0]),
)
"""


def _measure(module: str) -> str:
    return f"FLOOR = {_FLOOR!r}\n" + _MEASURE.format(module=module)


SCENARIOS = [
    Scenario(
        name="model_load_cold",
        description=(
            "A fresh interpreter imports the tool and loads models:/wine@champion "
            "(a 100-tree forest) through pyfunc; floor_s is scikit-learn's own "
            "import plus unpickling the same forest."
        ),
        code={"mltrail": _measure("mltrail"), "mlflow": _measure("mlflow")},
        setup=_SETUP,
        target=Target(0.5),
        discard_first=True,
    )
]
