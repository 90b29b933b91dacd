"""A task: work that the helper process can do as well as the process that asked.

A task names a module-level function, its arguments, and where the run's files go
(``RunArtifacts``, as the asking process sees them). The function returns
``(run-relative path, bytes)`` pairs, or writes bigger things (a model directory)
itself; ``run_task`` writes the pairs. Running a task twice is harmless: files are
replaced atomically, so a task that the helper finished just before it died can
run again in the asking process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mltrail.store._base import ArtifactStore

__all__ = ["RunArtifacts", "Task", "modules_needed", "run_task"]

Files = Iterable[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class RunArtifacts:
    """Where a run's files go, as the process that logs the run sees it.

    ``uri`` is the run's artifact URI, ``root`` the tracking store's artifact root
    (local paths are checked from it down) and ``tracking_uri`` the server whose
    artifact proxy serves ``mlflow-artifacts:`` URIs.
    """

    uri: str
    root: str | None = None
    tracking_uri: str | None = None

    def store(self) -> ArtifactStore:
        """Return the artifact store of the run."""
        from mltrail.store._artifacts import open_artifact_store

        return open_artifact_store(self.uri, root=self.root)


@dataclass(frozen=True, slots=True)
class Task:
    """One piece of a run's background work, described so that it can be pickled.

    ``function(*args)`` does the work; ``is_rendering`` marks a picture drawn from
    data that is durable already (a plot's PNG from its JSON), which may be written
    after the run ends. ``name`` is what a failure warning calls it.
    """

    run_id: str
    artifacts: RunArtifacts
    function: Callable[..., Files]
    args: tuple[Any, ...] = ()
    name: str = "background task"
    is_rendering: bool = False


def run_task(task: Task) -> None:
    """Do the task here and write the files it returns to the run's artifacts."""
    files = list(task.function(*task.args))
    if files:
        task.artifacts.store().write_files(task.artifacts.uri, files)


def modules_needed(
    *, log_models: bool, serialization_format: str, log_plots: bool
) -> list[str]:
    """Name the modules that autologging's tasks will import, in the order to import."""
    # The store (SQLAlchemy) early: the run's start, in the user's first fit, waits
    # for the helper's store (see _store); a model's task waits only at run end.
    modules = [
        "mltrail.store._sql",
        "mltrail.sklearn.recorders._logging",
        "mltrail._worker._model",
    ]
    if log_models:
        modules += ["mltrail.models._model", "mltrail.capture._environment"]
        if serialization_format == "skops":
            # Before the store: skops's import looks for each of scipy's ufuncs in
            # every module loaded, in the order they were (pickle's whichmodule).
            # With SQLAlchemy's 400 modules ahead of scipy's, that took 80 ms;
            # with scipy's first, it finds them at once (and the same names).
            modules.insert(0, "scipy.special")
            modules.append("mltrail.models._skops")  # without scikit-learn's walk
        else:
            modules.append("sklearn")
        # What a model's save imports besides (20 ms): while the helper waits for
        # the model, if it ever does, not inside the save the run's end waits for.
        modules += ["mltrail.store._artifacts", "yaml"]
    if log_plots:
        # Not matplotlib: a model's task arriving during that import would wait
        # for it. The first plot's PNG imports it; nobody waits for those.
        modules.append("mltrail.evaluation._figures")
    return modules
