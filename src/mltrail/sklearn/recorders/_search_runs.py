"""A search's candidates as child runs of its run, and its best params and score."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mltrail._system_tags import AUTOLOGGING_TAG, BEST_CHILD_RUN_ID_TAG

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import FitEnded

__all__ = ["on_fit_ended"]


def on_fit_ended(event: FitEnded) -> None:
    """Log a search's candidates as child runs; add its best params and score.

    The best params and ``best_cv_score`` join the fit's batch, which comes next.
    """
    from mltrail.sklearn.shared import _fit, _runs, _search

    if not event.is_search:
        return
    search = event.estimator
    event.params.update(_search.best_params(search))
    best_score = getattr(search, "best_score_", None)
    if best_score is not None:
        event.metrics["best_cv_score"] = float(best_score)
    rows = _search.candidate_order(search, event.config.max_tuning_runs)
    best_row = getattr(search, "best_index_", None)
    child_ids = _runs.log_child_runs(
        event.run_id,
        _search.candidates(search, rows),
        tags={
            AUTOLOGGING_TAG: "sklearn",
            **_fit.estimator_tags(search.estimator),
            **event.config.extra_tags,
        },
        best_row=best_row,
    )
    if child_ids and rows[0] == best_row:
        event.tags[BEST_CHILD_RUN_ID_TAG] = child_ids[0]
