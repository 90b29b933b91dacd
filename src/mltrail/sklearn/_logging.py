"""Everything a finished top-level fit writes to its run, in few store calls.

Each step that fails adds one line to ``problems`` (the caller warns once) and leaves
the others to run: a broken metric never costs the model, nor the model the params.
"""

from __future__ import annotations

import contextvars
import platform
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail._version import __version__

if TYPE_CHECKING:
    from mltrail.sklearn._session import AutologSettings

__all__ = ["FitCall", "FitLog", "version_tags"]

PACKAGES_ARTIFACT = "environment/packages.txt"
CV_RESULTS_ARTIFACT = "cv_results.csv"


@dataclass(frozen=True, slots=True)
class FitCall:
    """The arguments and outcome of one fit call."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any
    duration: float


def version_tags() -> dict[str, str]:
    """Return the Python, scikit-learn and mltrail version tags."""
    import sklearn

    return {
        "mltrail.python_version": platform.python_version(),
        "mltrail.sklearn_version": sklearn.__version__,
        "mltrail.version": __version__,
    }


def _packages_text() -> str:
    from mltrail.capture._environment import installed_packages

    return "\n".join(installed_packages()) + "\n"


def _output_for_signature(model: Any, example: Any) -> Any:
    if hasattr(model, "predict"):
        return model.predict(example)
    if hasattr(model, "transform"):
        return model.transform(example)
    return None


class FitLog:
    """What one finished fit writes to its run; ``problems`` collects failures."""

    def __init__(
        self,
        run_id: str,
        config: AutologSettings,
        estimator: Any,
        call: FitCall,
        params: dict[str, str],
        problems: list[str],
    ) -> None:
        from mltrail.sklearn import _search, _session, _training

        self.run_id = run_id
        self.config = config
        self.estimator = estimator
        self.call = call
        self.problems = problems
        self.X, self.y, self.sample_weight = _training.fit_arguments(
            call.function, call.args, call.kwargs
        )
        self.params = dict(params)
        self.metrics: dict[str, float] = {_session.DURATION_METRIC: call.duration}
        self.tags = {
            _session.AUTOLOGGING_TAG: "sklearn",
            **_training.estimator_tags(estimator),
            **version_tags(),
        }
        # Training predictions, made once by the metrics step: y_pred, y_score.
        self.predictions: dict[str, Any] = {}
        self.is_search = _search.is_search(estimator)
        self.model = (
            getattr(estimator, "best_estimator_", None) if self.is_search else estimator
        )

    def step(self, name: str, action: Callable[[], None]) -> None:
        """Run one logging step; a failure becomes a line of ``problems``."""
        try:
            action()
        except Exception as exc:  # autolog must never break the user's fit
            self.problems.append(f"{name}: {type(exc).__name__}: {exc}")

    def write(self) -> None:
        """Write everything: the model on a second thread, the rest on this one."""
        # File writes and tree traversals release the GIL, so the model is written
        # while the metrics are computed. It is joined before fit returns: the model
        # is durable by then, and the user cannot change the estimator under it.
        writer = None
        if self.config.log_models and self.model is not None:
            context = contextvars.copy_context()  # keeps the session: no nested runs
            writer = threading.Thread(
                target=context.run,
                args=(self.step, "model", self._log_model),
                name="mltrail-model-writer",
                daemon=True,
            )
            writer.start()
        try:
            self.step("training metrics", self._add_metrics)
            if self.is_search:
                self.step("search child runs", self._add_search)
                self.step("cv_results.csv", self._log_cv_results)
            self.step("params, metrics and tags", self._log_batch)
            if self.config.log_datasets and self.X is not None:
                self.step("dataset", self._log_dataset)
            self.step("environment", self._log_packages)
        finally:
            if writer is not None:
                writer.join()

    def _add_metrics(self) -> None:
        from mltrail.sklearn import _training

        if self.is_search and self.model is None:
            return  # refit=False: nothing can predict
        self.metrics.update(
            _training.training_metrics(
                self.estimator,
                self.X,
                self.y,
                self.sample_weight,
                pos_label=self.config.pos_label,
                fit_result=self.call.result,
                predictions=self.predictions,
            )
        )

    def _add_search(self) -> None:
        from mltrail.sklearn import _runs, _search, _session, _training

        search = self.estimator
        self.params.update(_search.best_params(search))
        best_score = getattr(search, "best_score_", None)
        if best_score is not None:
            self.metrics["best_cv_score"] = float(best_score)
        rows = _search.candidate_order(search, self.config.max_tuning_runs)
        best_row = getattr(search, "best_index_", None)
        child_ids = _runs.log_child_runs(
            self.run_id,
            _search.candidates(search, rows),
            tags={
                _session.AUTOLOGGING_TAG: "sklearn",
                **_training.estimator_tags(search.estimator),
                **self.config.extra_tags,
            },
            best_row=best_row,
        )
        if child_ids and rows[0] == best_row:
            self.tags[_search.BEST_CHILD_TAG] = child_ids[0]

    def _log_cv_results(self) -> None:
        from mltrail.sklearn import _runs, _search

        text = _search.cv_results_csv(self.estimator)
        _runs.log_text(self.run_id, text, CV_RESULTS_ARTIFACT)

    def _log_batch(self) -> None:
        from mltrail.sklearn import _runs

        _runs.log_batch(self.run_id, self.params, self.metrics, self.tags)

    def _log_dataset(self) -> None:
        from mltrail.sklearn import _runs, _training

        dataset = _training.dataset_input(self.X, self.y, _runs.source_tags())
        _runs.log_input(self.run_id, dataset)

    def _log_packages(self) -> None:
        from mltrail.sklearn import _runs

        _runs.log_text(self.run_id, _packages_text(), PACKAGES_ARTIFACT)

    def _log_model(self) -> None:
        from mltrail.sklearn import _runs, _training

        example = _training.head(self.X) if self.X is not None else None
        signature: Any = False
        if self.config.log_model_signatures and example is not None:
            from mltrail.models import infer_signature

            output = _output_for_signature(self.model, example)
            signature = infer_signature(example, output)
        _runs.log_model(
            self.run_id,
            self.model,
            serialization_format=self.config.serialization_format,
            signature=signature,
            input_example=example if self.config.log_input_examples else None,
        )
