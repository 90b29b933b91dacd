"""What tracking costs on larger data: a script at SIZE rows, fresh processes (#8 §8).

The script loads 20 generated features from ``.npy`` files (made once by the setup,
so data generation is not measured), splits them with ``train_test_split``, fits a
``HistGradientBoostingRegressor`` and an ``SGDClassifier`` and predicts on each test
set. Each sample runs it plain and tracked, alternating, in fresh interpreters, at
SIZE rows and at ``SMALL`` rows; the tracked script is the plain one after
``mltrail.sklearn.autolog()`` or ``mlflow.sklearn.autolog()``, nothing else.

The value is tracked minus plain at SIZE. The details split it: ``fixed`` is the
same difference at ``SMALL`` rows (imports, the store, the model files, plots: what
a tracked script pays whatever its data), ``growing`` the rest, the part that grows
with the rows, and ``growing_share`` that part over the plain script's time at SIZE
(mltrail's goal: at most 0.10 at 1,000,000 rows). ``*_cpu`` details are the same
numbers in CPU seconds of the script's process and its children, steadier than
wall time when the machine is shared.
"""

from __future__ import annotations

from bench._model import Scenario

ORDER = 4

SMALL = 1_000

_SETUP = f"""
import numpy as np
from sklearn.datasets import make_classification, make_regression

started = time.perf_counter()
for n_samples in sorted({{SIZE, {SMALL}}}):
    X, y = make_regression(
        n_samples=n_samples, n_features=20, n_informative=10, noise=10.0,
        random_state=0,
    )
    np.save(f"regression_X_{{n_samples}}.npy", X)
    np.save(f"regression_y_{{n_samples}}.npy", y)
    X, y = make_classification(
        n_samples=n_samples, n_features=20, n_informative=10, random_state=0
    )
    np.save(f"classification_X_{{n_samples}}.npy", X)
    np.save(f"classification_y_{{n_samples}}.npy", y)
report(time.perf_counter() - started)
"""

_PLAIN = """\
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

rows = sys.argv[1]
X, y = np.load(f"regression_X_{rows}.npy"), np.load(f"regression_y_{rows}.npy")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
regressor = HistGradientBoostingRegressor(random_state=0).fit(X_train, y_train)
regressor.predict(X_test)

X = np.load(f"classification_X_{rows}.npy")
y = np.load(f"classification_y_{rows}.npy")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
classifier = SGDClassifier(random_state=0).fit(X_train, y_train)
classifier.predict(X_test)
"""

_TRACKED = {
    "mltrail": "import mltrail\n\nmltrail.sklearn.autolog()\n" + _PLAIN,
    "mlflow": "import mlflow\n\nmlflow.sklearn.autolog()\n" + _PLAIN,
}

_RUNNER = f"""
import pathlib
import resource
import statistics
import subprocess

pathlib.Path("plain.py").write_text(PLAIN)
pathlib.Path("tracked.py").write_text(TRACKED)


def run(script, rows):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, script, str(rows)], check=True, stdout=subprocess.DEVNULL
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


run("tracked.py", {SMALL})  # bytecode compiled, store created: as a second run
times = {{}}
for _ in range(1 if SIZE > 100_000 else 2):
    for rows in (SIZE, {SMALL}):
        for script in ("plain.py", "tracked.py"):
            times.setdefault((script, rows), []).append(run(script, rows))


def median(script, rows, index):
    return statistics.median(sample[index] for sample in times[(script, rows)])


details = {{}}
for index, suffix in ((0, ""), (1, "_cpu")):
    plain = median("plain.py", SIZE, index)
    overhead = median("tracked.py", SIZE, index) - plain
    fixed = median("tracked.py", {SMALL}, index) - median("plain.py", {SMALL}, index)
    details.update({{
        "plain" + suffix: plain,
        "overhead" + suffix: overhead,
        "fixed" + suffix: fixed,
        "growing" + suffix: overhead - fixed,
        "growing_share" + suffix: (overhead - fixed) / plain,
    }})
report(details["overhead"], check=1, **details)
"""


SCENARIOS = [
    Scenario(
        name="large_data",
        description=(
            "A script on SIZE rows x 20 generated features (loaded from .npy): "
            "train_test_split, HistGradientBoostingRegressor and SGDClassifier fit "
            "and predict on the test set; autologged script minus plain script in "
            "fresh processes, split into the fixed part (the same difference at "
            f"{SMALL:,} rows) and the part that grows with the rows."
        ),
        sizes=(100_000, 1_000_000),
        quick_sizes=(100_000,),
        size_unit="rows",
        setup={"mltrail": _SETUP, "mlflow": _SETUP},
        code={
            tool: f"PLAIN = {_PLAIN!r}\nTRACKED = {tracked!r}\n{_RUNNER}"
            for tool, tracked in _TRACKED.items()
        },
        max_repeat={"mltrail": 2, "mlflow": 1},
        timeout=3600.0,
    )
]
