"""Scenarios of sklearn autologging (issue 3): overhead per fit, and peak memory.

Overhead = median fit time with autolog minus median fit time without, in the same
process, after a warm-up, alternating the two so that drifts cancel. mltrail saves
the model and renders plots on a background worker after ``fit`` returns, so each
repeat also waits for that work (``mltrail.flush()``), outside the timed fit, and
reports ``overhead_until_durable``: fit plus that wait, minus the plain fit. Both
tools log the model with its signature and input example. mltrail's options are
the defaults; MLflow's are set to log as much (``log_input_examples=True``, every
search candidate as a child run).
"""

from __future__ import annotations

from bench._model import Scenario, Target

ORDER = 1

# Shared by every overhead snippet: ``measure(fit, enable, disable, repeat)`` returns
# (overhead, median with, median without) in seconds.
_MEASURE = """
import statistics


def measure(fit, enable, disable, drain, repeat):
    enable()
    fit()  # warm-up: imports, store creation, first model save
    drain()
    disable()
    fit()
    with_autolog, durable, without_autolog = [], [], []
    for _ in range(repeat):
        enable()
        started = time.perf_counter()
        fit()
        returned = time.perf_counter()
        drain()  # outside the fit: what autolog left to its background worker
        with_autolog.append(returned - started)
        durable.append(time.perf_counter() - started)
        disable()
        started = time.perf_counter()
        fit()
        without_autolog.append(time.perf_counter() - started)
    with_median = statistics.median(with_autolog)
    without_median = statistics.median(without_autolog)
    durable_overhead = statistics.median(durable) - without_median
    return with_median - without_median, with_median, without_median, durable_overhead
"""

_MLTRAIL_TOGGLE = """
import mltrail


def enable():
    mltrail.sklearn.autolog(log_models=True, log_input_examples=True,
                            log_model_signatures=True)


def disable():
    mltrail.sklearn.autolog(disable=True)


def drain():
    mltrail.flush()  # waits for the model and plots the background worker writes


REPEAT = 10
"""

_MLFLOW_TOGGLE = """
import mlflow


def enable():
    mlflow.sklearn.autolog(log_models=True, log_input_examples=True,
                           log_model_signatures=True, max_tuning_runs=None)


def disable():
    mlflow.sklearn.autolog(disable=True)


def drain():
    pass  # MLflow's autolog has written everything when fit returns


REPEAT = 3  # about 5 s per autologged fit
"""

_RUN = """
overhead, with_median, without_median, durable_overhead = measure(
    fit, enable, disable, drain, REPEAT
)
CHECK = 0
"""

_REPORT = """
report(overhead, fit_with_autolog=with_median, fit_without_autolog=without_median,
       overhead_until_durable=durable_overhead, repeat=REPEAT, check=CHECK)
"""

_FITS = {
    "rf_wine": """
        from sklearn.datasets import load_wine
        from sklearn.ensemble import RandomForestClassifier

        X, y = load_wine(return_X_y=True, as_frame=True)


        def fit():
            RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
    """,
    "logistic_cancer": """
        import warnings

        from sklearn.datasets import load_breast_cancer
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        X, y = load_breast_cancer(return_X_y=True)
        # Unscaled, lbfgs stops at max_iter: the same work for both tools.
        warnings.simplefilter("ignore", ConvergenceWarning)


        def fit():
            LogisticRegression().fit(X, y)
    """,
    "pipeline_cancer": """
        from sklearn.datasets import load_breast_cancer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X, y = load_breast_cancer(return_X_y=True)


        def fit():
            make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    """,
    "grid_search_cancer": """
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        X, y = load_breast_cancer(return_X_y=True)
        GRID = {"svc__C": [0.1, 1, 10, 100], "svc__kernel": ["rbf", "linear", "poly"]}


        def fit():
            search = GridSearchCV(make_pipeline(StandardScaler(), SVC()), GRID, cv=3)
            search.fit(X, y)
    """,
}

_DESCRIPTIONS = {
    "rf_wine": "RandomForestClassifier(n_estimators=100) on load_wine (DataFrame)",
    "logistic_cancer": "LogisticRegression on load_breast_cancer",
    "pipeline_cancer": (
        "Pipeline(StandardScaler, LogisticRegression) on load_breast_cancer"
    ),
    "grid_search_cancer": (
        "GridSearchCV(Pipeline(StandardScaler, SVC), 12 candidates, cv=3) on "
        "load_breast_cancer, 12 child runs"
    ),
}

_TARGETS = {
    "rf_wine": 0.05,
    "logistic_cancer": 0.03,
    "pipeline_cancer": 0.03,
    "grid_search_cancer": 0.15,
}

_CHILD_COUNT = {
    "mltrail": """
        client = mltrail.TrackingClient()
        query = "tags.estimator_name = 'GridSearchCV'"
        parents = client.search_runs(["0"], filter_string=query)
        parent = max(parents, key=lambda run: run.info.start_time)
        children = client.search_runs(
            ["0"], filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
        )
        CHECK = len(children)
    """,
    "mlflow": """
        client = mlflow.MlflowClient()
        query = "tags.estimator_name = 'GridSearchCV'"
        parents = client.search_runs(["0"], filter_string=query)
        parent = max(parents, key=lambda run: run.info.start_time)
        children = client.search_runs(
            ["0"], filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
        )
        CHECK = len(children)
    """,
}


def _overhead(key: str) -> Scenario:
    code = {}
    for tool, toggle in (("mltrail", _MLTRAIL_TOGGLE), ("mlflow", _MLFLOW_TOGGLE)):
        # The check: both tools logged every candidate of the last search.
        count = _dedent(_CHILD_COUNT[tool]) if key == "grid_search_cancer" else ""
        code[tool] = _MEASURE + toggle + _dedent(_FITS[key]) + _RUN + count + _REPORT
    return Scenario(
        name=f"autolog_overhead_{key}",
        description=(
            f"Autolog overhead per fit: {_DESCRIPTIONS[key]}; median fit time with "
            "autolog minus without, same process, after a warm-up, models with "
            "signature and input example logged."
        ),
        code=code,
        target=Target(_TARGETS[key]),
        max_repeat={"mlflow": 1},
    )


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


MEMORY = Scenario(
    name="autolog_peak_memory",
    description=(
        "Peak traced memory (tracemalloc, MB) of SGDRegressor.fit (one epoch, which "
        "itself copies nothing) on a 200 MB float64 matrix, with autolog minus "
        "without: autolog must not copy X."
    ),
    code={
        tool: f"""
            import tracemalloc
            import numpy as np
            import {module}
            from sklearn.linear_model import SGDRegressor

            rng = np.random.default_rng(0)
            X = rng.standard_normal((250_000, 100))  # 200 MB
            y = X[:, 0] + rng.standard_normal(250_000)


            def peak(enable):
                if enable:
                    {module}.sklearn.autolog({options})
                else:
                    {module}.sklearn.autolog(disable=True)
                tracemalloc.start()
                SGDRegressor(max_iter=1, tol=None).fit(X, y)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                return peak / 1e6


            peak(True)  # warm-up: imports and the store
            without_autolog = peak(False)
            with_autolog = peak(True)
            report(with_autolog - without_autolog, peak_with_autolog_mb=with_autolog,
                   peak_without_autolog_mb=without_autolog, matrix_mb=X.nbytes / 1e6)
        """
        for tool, module, options in (
            ("mltrail", "mltrail", ""),
            ("mlflow", "mlflow", "log_input_examples=True"),
        )
    },
    unit="MB",
    target=Target(10.0),
    max_repeat={"mlflow": 1},
)

SCENARIOS = [*(_overhead(key) for key in _FITS), MEMORY]
