"""The UI's routes, for ``create_app``: pages, their data endpoints, and the assets.

Every page is a ``PolicyRoute`` whose handler builds the page's data in a worker
thread and answers with :func:`mltrail.ui._render.page` (HTML, or JSON for
``Accept: application/json``). Reading a page needs READ on the experiments it
shows; its actions call the REST API (``/ajax-api/2.0/mlflow/...``), whose own
policies apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute
from starlette.staticfiles import StaticFiles

from mltrail._errors import InvalidValueError, MltrailError, NotFoundError
from mltrail.server._context import ServerContext
from mltrail.server._policy import (
    PUBLIC,
    SIGNED_IN,
    Policy,
    PolicyMount,
    PolicyRoute,
    Resource,
    User,
    current_user,
)
from mltrail.server._resources import experiment_of_run
from mltrail.ui import (
    _compare,
    _experiments,
    _history,
    _run,
    _run_files,
    _runs_table,
)
from mltrail.ui._render import STATIC_DIRECTORY, page, wants_json

__all__ = ["PageContext", "page_route", "routes", "run_ids_of"]

MAX_RUN_IDS = 100


@dataclass(frozen=True, slots=True)
class PageContext:
    """What a page's data function gets: the services, the request's parts, the user.

    ``query`` maps each query parameter to all its values, in order.
    """

    services: ServerContext
    path: Mapping[str, str]
    query: Mapping[str, list[str]]
    user: User

    def text(self, name: str, default: str = "") -> str:
        """Return the last value of a query parameter, or ``default``."""
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str, default: bool) -> bool:
        """Return a 0/1 query parameter as a bool."""
        text = self.text(name)
        return default if text == "" else text not in ("0", "false", "off")


PageData = Callable[[PageContext], Mapping[str, Any]]


def _context(request: Request) -> PageContext:
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return PageContext(
        request.app.state.services,
        dict(request.path_params),
        query,
        current_user(request),
    )


def run_ids_of(query: Mapping[str, list[str]]) -> list[str]:
    """Return the ``run_ids`` of a query: repeated, comma-separated, or both."""
    ids: list[str] = []
    for value in query.get("run_ids", []):
        ids.extend(part.strip() for part in value.split(",") if part.strip())
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_RUN_IDS:
        raise InvalidValueError(
            "run_ids",
            f"{len(ids)} runs",
            f"at most {MAX_RUN_IDS} runs",
            "Compare fewer runs at a time.",
        )
    return ids


def _error_page(request: Request, exc: MltrailError) -> Response:
    status = 404 if isinstance(exc, NotFoundError) else 400
    title = "Not found" if status == 404 else "Invalid request"
    data = {"error": {"type": type(exc).__name__, "message": exc.message}}
    return page(request, "error.html", {**data, "title": title}, status=status)


def page_route(
    path: str, data: PageData, template: str, *, policy: Policy
) -> PolicyRoute:
    """Return the route of one page: ``data`` builds it, ``template`` draws it.

    A NotFoundError or InvalidValueError becomes an HTML error page (404 or
    400); a JSON request gets the server's JSON error instead. ``data`` may set
    ``http_status`` for its JSON answer (the HTML shows the error in place).
    """

    async def endpoint(request: Request) -> Response:
        try:
            built = await run_in_threadpool(data, _context(request))
        except (NotFoundError, InvalidValueError) as exc:
            if wants_json(request):
                raise
            return _error_page(request, exc)
        built = dict(built)
        # A page that shows its own error (a filter that does not parse) answers
        # 400 as JSON; in a browser it is the page itself, fixed by the next edit.
        status = int(built.pop("http_status", 200))
        return page(request, template, built, status=status, json_status_only=True)

    endpoint.__name__ = f"page_{template.removesuffix('.html')}"
    return PolicyRoute(path, endpoint, methods=["GET"], policy=policy)


async def _experiment_in_path(request: Request) -> Sequence[str]:
    return [request.path_params["experiment_id"]]


async def _experiment_of_run_in_path(request: Request) -> Sequence[str]:
    services: ServerContext = request.app.state.services
    run_id = request.path_params["run_id"]
    return [await run_in_threadpool(experiment_of_run, services, run_id)]


async def _experiments_of_runs_in_query(request: Request) -> Sequence[str]:
    services: ServerContext = request.app.state.services
    run_ids = run_ids_of(_context(request).query)

    def find() -> list[str]:
        return sorted({experiment_of_run(services, run_id) for run_id in run_ids})

    return await run_in_threadpool(find)


EXPERIMENT_IN_PATH = Resource(
    "experiment", "experiment_id in the path", _experiment_in_path
)
EXPERIMENT_OF_RUN_IN_PATH = Resource(
    "experiment", "the experiment of run_id in the path", _experiment_of_run_in_path
)
EXPERIMENTS_OF_RUNS_IN_QUERY = Resource(
    "experiment",
    "the experiments of run_ids in the query",
    _experiments_of_runs_in_query,
)


async def _run_file(request: Request) -> Response:
    """Stream one artifact of a run, sandboxed (see ``_run_files.file_headers``)."""
    context = _context(request)
    chunks, headers = await run_in_threadpool(
        _run_files.open_file,
        context.services,
        context.path["run_id"],
        context.path["path"],
    )
    return StreamingResponse(chunks, headers=headers)


def _json_route(path: str, data: PageData, *, policy: Policy) -> PolicyRoute:
    """Return a data endpoint: JSON only, for the pages' scripts (charts, counts)."""

    async def endpoint(request: Request) -> Response:
        built = await run_in_threadpool(data, _context(request))
        return page(request, "", built, json_only=True)

    endpoint.__name__ = f"data_{data.__name__}"
    return PolicyRoute(path, endpoint, methods=["GET"], policy=policy)


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the UI's routes: every page, its data endpoints and ``/static``."""
    read_experiment = Policy.read(EXPERIMENT_IN_PATH)
    read_run = Policy.read(EXPERIMENT_OF_RUN_IN_PATH)
    read_runs = Policy.read(EXPERIMENTS_OF_RUNS_IN_QUERY)
    run_pages = [
        page_route(f"/runs/{{run_id}}{suffix}", data, template, policy=read_run)
        for suffix, data, template in _run.PAGES
    ]
    return [
        page_route(
            "/", _experiments.experiments_page, "experiments.html", policy=SIGNED_IN
        ),
        page_route(
            "/experiments/{experiment_id}",
            _runs_table.runs_table_page,
            "runs.html",
            policy=read_experiment,
        ),
        _json_route(
            "/experiments/{experiment_id}/count",
            _runs_table.count_page,
            policy=read_experiment,
        ),
        *run_pages,
        PolicyRoute(
            "/runs/{run_id}/files/{path:path}",
            _run_file,
            methods=["GET"],
            policy=read_run,
        ),
        page_route("/compare", _compare.compare_page, "compare.html", policy=read_runs),
        _json_route("/history", _history.history_data, policy=read_runs),
        PolicyMount(
            "/static",
            StaticFiles(directory=STATIC_DIRECTORY),
            policy=PUBLIC,
            name="static",
        ),
    ]
