"""``/``: the experiments, with their run counts and last activity.

Creating, renaming, deleting and restoring an experiment are POSTs of the page's
script to the REST API (``experiments/create``, ``update``, ``delete``,
``restore``), which checks the caller's permissions itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mltrail._entities import Experiment, ViewType
from mltrail._errors import InvalidValueError
from mltrail.ui._store import ui_store

if TYPE_CHECKING:
    from mltrail.ui._routes import PageContext

__all__ = ["VIEWS", "experiments_page", "view_type"]

PAGE_SIZE = 1000
#: The ``view`` query parameter -> which lifecycle stages are listed.
VIEWS = {
    "active": ViewType.ACTIVE_ONLY,
    "deleted": ViewType.DELETED_ONLY,
    "all": ViewType.ALL,
}


def view_type(text: str) -> ViewType:
    """Return the view that a ``view`` query parameter names."""
    if text not in VIEWS:
        raise InvalidValueError(
            "view", text, "one of " + ", ".join(VIEWS), "Leave it out for active."
        )
    return VIEWS[text]


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    """Return an experiment's fields for a page."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "tags": dict(experiment.tags),
    }


def experiments_page(context: PageContext) -> dict[str, Any]:
    """Return the experiments page: one row per experiment, newest activity first."""
    view = context.text("view", "active")
    views = view_type(view)
    store = ui_store(context.services.store)
    found = store.search_experiments(
        view_type=views,
        max_results=PAGE_SIZE,
        page_token=context.text("page_token") or None,
    )
    experiments = list(found)
    readable = getattr(context.services.authenticator, "readable", None)
    if readable is not None:
        allowed = readable(context.user, "experiment", [e.experiment_id for e in found])
        experiments = [e for e in experiments if e.experiment_id in allowed]
    stats = store.experiment_run_stats([e.experiment_id for e in experiments])
    rows = []
    for experiment in experiments:
        run_count, last_start = stats.get(experiment.experiment_id, (0, None))
        row = experiment_json(experiment)
        row["run_count"] = run_count
        row["last_activity"] = (
            max(experiment.last_update_time or 0, last_start or 0) or None
        )
        rows.append(row)
    rows.sort(key=lambda r: (-(r["last_activity"] or 0), r["name"]))
    return {
        "view": view,
        "experiments": rows,
        "next_page_token": found.token,
    }
