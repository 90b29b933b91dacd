"""Where a request names its experiment: the ``Resource`` finders of the policies.

Each finder returns the experiment ids that a request acts on; a policy then needs
its permission level on every one of them. A run's experiment is looked up once per
run id and cached (a run never moves between experiments).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mltrail.server._context import ServerContext
from mltrail.server._messages import read_message
from mltrail.server._policy import Resource

__all__ = [
    "EXPERIMENTS_BY_IDS",
    "EXPERIMENT_BY_ID",
    "EXPERIMENT_BY_NAME",
    "EXPERIMENT_OF_RUN",
    "EXPERIMENT_OF_RUNS",
    "cached_experiment",
    "experiment_of_run",
]

_CACHE_SIZE = 100_000
_lock = threading.Lock()
_experiments: OrderedDict[tuple[int, str, str], str] = OrderedDict()


def cached_experiment(
    services: ServerContext, kind: str, key: str, lookup: Callable[[str], str]
) -> str:
    """Return ``lookup(key)``, the experiment of a run or model, cached per store.

    Runs and logged models never move between experiments, so the answer holds.
    """
    cache_key = (id(services.store), kind, key)
    with _lock:
        found = _experiments.get(cache_key)
    if found is not None:
        return found
    experiment_id = lookup(key)
    with _lock:
        _experiments[cache_key] = experiment_id
        if len(_experiments) > _CACHE_SIZE:
            _experiments.popitem(last=False)
    return experiment_id


def experiment_of_run(services: ServerContext, run_id: str) -> str:
    """Return the experiment id of a run (blocking; cached)."""
    return cached_experiment(
        services,
        "run",
        run_id,
        lambda key: services.store.get_run(key).info.experiment_id,
    )


async def _by_id(request: Request) -> Sequence[str]:
    return [(await read_message(request)).required_text("experiment_id")]


async def _by_ids(request: Request) -> Sequence[str]:
    return (await read_message(request)).texts("experiment_ids")


async def _by_name(request: Request) -> Sequence[str]:
    name = (await read_message(request)).required_text("experiment_name")
    services: ServerContext = request.app.state.services
    experiment = await run_in_threadpool(services.store.get_experiment_by_name, name)
    return [] if experiment is None else [experiment.experiment_id]


async def _of_run(request: Request) -> Sequence[str]:
    run_id = (await read_message(request)).run_id()
    services: ServerContext = request.app.state.services
    return [await run_in_threadpool(experiment_of_run, services, run_id)]


async def _of_runs(request: Request) -> Sequence[str]:
    services: ServerContext = request.app.state.services
    run_ids = (await read_message(request)).texts("run_ids")

    def find() -> list[str]:
        return sorted({experiment_of_run(services, run_id) for run_id in run_ids})

    return await run_in_threadpool(find)


EXPERIMENT_BY_ID = Resource("experiment", "experiment_id", _by_id)
EXPERIMENTS_BY_IDS = Resource("experiment", "experiment_ids", _by_ids)
EXPERIMENT_BY_NAME = Resource("experiment", "experiment_name", _by_name)
EXPERIMENT_OF_RUN = Resource("experiment", "the experiment of run_id", _of_run)
EXPERIMENT_OF_RUNS = Resource("experiment", "the experiments of run_ids", _of_runs)
