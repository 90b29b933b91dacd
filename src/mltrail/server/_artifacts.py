"""The artifact proxy (``/api/2.0/mlflow-artifacts``) and ``artifacts/list``.

Files stream in both directions: an upload is written chunk by chunk as it arrives,
a download is read chunk by chunk as it is sent, so a file of any size passes with
little server memory. Every path goes through the store's resolver (local) or
check (S3); downloads of types a browser would run are attachments. Beside the
proxy, ``PUT /api/2.0/mltrail/artifacts/<directory>`` takes a group of small files
as one tar (``mltrail.store._artifact_batch``), with the same paths and policy.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from urllib.parse import quote, urlparse

import anyio.from_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from mltrail._errors import InvalidValueError
from mltrail.server._context import ServerContext
from mltrail.server._errors import ApiError
from mltrail.server._messages import API_PREFIXES, Call, api_routes, json_response
from mltrail.server._policy import Policy, PolicyRoute, Resource, current_user
from mltrail.server._resources import EXPERIMENT_OF_RUN
from mltrail.store._artifact_batch import BATCH_CONTENT_TYPE, MAX_BATCH_BODY, unpack
from mltrail.store._base import ArtifactStore
from mltrail.store._paths import check_relative_path
from mltrail.store._rest_wire import file_info_to_json

__all__ = ["MAX_ARTIFACT_BYTES", "download_headers", "routes", "run_artifacts"]

MAX_ARTIFACT_BYTES = 2**40  # 1 TiB: uploads stream, so only the disk limits them
PROXY_SCHEME = "mlflow-artifacts"
# Types a browser would render or run if opened from the server's origin.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/javascript",
        "text/javascript",
        "application/xml",
        "text/xml",
        "application/pdf",
    }
)
_EXPERIMENT_ID = re.compile(r"[0-9]+")


def download_headers(path: str, size: int) -> dict[str, str]:
    """Return the headers of a file download: type, size and disposition.

    Anything a browser would run or render as a page (HTML, SVG, JavaScript, XML,
    PDF) is an attachment; every download is sandboxed by its CSP.
    """
    name = posixpath.basename(path) or "artifact"
    media, _ = mimetypes.guess_type(name)
    media = media or "application/octet-stream"
    active = media in ACTIVE_TYPES or media.endswith("+xml")
    disposition = "attachment" if active else "inline"
    if media.startswith("text/") and not active:
        media = f"{media}; charset=utf-8"
    return {
        "content-type": media,
        "content-length": str(size),
        "content-disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
        "content-security-policy": "default-src 'none'; sandbox",
        "x-content-type-options": "nosniff",
    }


def _proxy_path(path: str) -> str:
    """Check a proxied path: relative, safe, and starting with an experiment id."""
    parts = check_relative_path(path)
    if not parts or not _EXPERIMENT_ID.fullmatch(parts[0]):
        raise InvalidValueError(
            "artifact path",
            path,
            "a path that starts with an experiment id, such as '1/<run_id>/artifacts'",
            "Use the artifact_uri of a run or a logged model.",
        )
    return "/".join(parts)


async def _experiment_of_path(request: Request) -> Sequence[str]:
    path = request.path_params.get("path") or request.query_params.get("path") or ""
    if not path:
        return []
    return [_proxy_path(path).partition("/")[0]]


EXPERIMENT_OF_PATH = Resource(
    "experiment", "the first part of the artifact path", _experiment_of_path
)


def _destination(request: Request) -> tuple[ServerContext, ArtifactStore, str]:
    services: ServerContext = request.app.state.services
    return services, services.artifact_store, services.artifacts_destination


async def download(request: Request) -> Response:
    """Stream one file of the proxy's destination."""
    _, store, destination = _destination(request)
    path = _proxy_path(request.path_params["path"])
    size, chunks = await run_in_threadpool(store.open_stream, destination, path)
    return StreamingResponse(chunks, headers=download_headers(path, size))


def _pull(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """Turn the request's async body into chunks that a worker thread can iterate."""

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while True:
        chunk = anyio.from_thread.run(next_chunk)
        if chunk is None:
            return
        if chunk:
            yield chunk


async def upload(request: Request) -> Response:
    """Write the request's body, as it arrives, to one file of the destination."""
    _, store, destination = _destination(request)
    path = _proxy_path(request.path_params["path"])
    stream = request.stream()
    await run_in_threadpool(
        lambda: store.write_stream(destination, path, _pull(stream))
    )
    return json_response({})


async def upload_batch(request: Request) -> Response:
    """Write a tar of small files under one directory, in order.

    Every name is checked before the first file is written: a bad one refuses the
    batch. A file the store then refuses (a link out of the root) stops it there.
    """
    _, store, destination = _destination(request)
    directory = _proxy_path(request.path_params["path"])
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != BATCH_CONTENT_TYPE:
        raise ApiError(
            "BAD_REQUEST",
            f"A batch of artifacts must be sent as {BATCH_CONTENT_TYPE}; got "
            f"Content-Type {content_type or 'none'!r}.",
            status_code=415,
        )
    files = unpack(await request.body())
    targets = [(_proxy_path(f"{directory}/{name}"), data) for name, data in files]

    def write() -> None:
        for path, data in targets:
            store.write_bytes(destination, path, data)

    await run_in_threadpool(write)
    return json_response({"files": len(targets)})


async def delete(request: Request) -> Response:
    """Delete one file or folder of the destination."""
    _, store, destination = _destination(request)
    path = _proxy_path(request.path_params["path"])
    await run_in_threadpool(store.delete, destination, path)
    return json_response({})


async def list_directory(request: Request) -> Response:
    """List one folder of the destination; paths are relative to that folder."""
    services, store, destination = _destination(request)
    path = request.query_params.get("path") or ""
    if (
        not path
        and services.authenticator is not None
        and not current_user(request).is_admin
    ):
        raise ApiError(
            "PERMISSION_DENIED",
            "Listing the artifact root needs an administrator; list an experiment's "
            "folder with ?path=<experiment_id>.",
        )
    directory = _proxy_path(path) if path else None
    files = await run_in_threadpool(store.list, destination, directory)
    return json_response(
        {
            "files": [
                file_info_to_json(
                    type(info)(
                        posixpath.basename(info.path), info.is_dir, info.file_size
                    )
                )
                for info in files
            ]
        }
    )


def run_artifacts(
    services: ServerContext, artifact_uri: str
) -> tuple[ArtifactStore, str, str]:
    """Return the store, its base URI and the prefix that hold a run's files.

    A run-relative path ``p`` is ``prefix + p`` under ``base``. Proxied runs
    (``mlflow-artifacts:``) map into the destination; object stores are read
    directly; a local path is served only inside the server's own roots.
    """
    from mltrail.store._artifacts import open_artifact_store

    parsed = urlparse(artifact_uri)
    if parsed.scheme == PROXY_SCHEME:
        relative = _proxy_path(parsed.path.lstrip("/"))
        return services.artifact_store, services.artifacts_destination, relative + "/"
    if parsed.scheme in ("", "file") and not _inside_roots(services, artifact_uri):
        raise InvalidValueError(
            "artifact_uri",
            artifact_uri,
            "a location inside the server's artifact root",
            "The server reads artifacts only under its own roots.",
        )
    store = open_artifact_store(artifact_uri, root=services.store.artifact_root)
    return store, artifact_uri, ""


def _inside_roots(services: ServerContext, artifact_uri: str) -> bool:
    import os

    from mltrail.store._paths import artifact_root_path, is_inside

    location = os.fspath(artifact_root_path(artifact_uri))
    roots = [services.store.artifact_root, services.artifacts_destination]
    return any(
        "://" not in root and root and is_inside(os.path.abspath(root), location)
        for root in roots
    )


def list_run_artifacts(call: Call) -> dict[str, object]:
    message = call.message
    run = call.services.store.get_run(message.run_id())
    path = message.text("path") or ""
    parts = check_relative_path(path) if path else []
    store, base, prefix = run_artifacts(call.services, run.info.artifact_uri)
    relative = "/".join(parts)
    files = store.list(base, (prefix + relative).rstrip("/") or None)
    result = []
    for info in files:
        run_path = info.path[len(prefix) :] if prefix else info.path
        result.append(
            file_info_to_json(type(info)(run_path, info.is_dir, info.file_size))
        )
    return {"root_uri": run.info.artifact_uri, "files": result}


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return ``artifacts/list`` and, when artifacts are served, the proxy."""
    result: list[BaseRoute] = [
        *api_routes(
            "/artifacts/list",
            list_run_artifacts,
            methods=["GET"],
            policy=Policy.read(EXPERIMENT_OF_RUN),
        )
    ]
    if not context.settings.serve_artifacts:
        return result
    read = Policy.read(EXPERIMENT_OF_PATH)
    for prefix in API_PREFIXES:
        base = f"{prefix}/2.0/mlflow-artifacts/artifacts"
        result += [
            PolicyRoute(
                base,
                list_directory,
                methods=["GET"],
                policy=read,
                name=f"list_artifacts:{prefix}",
            ),
            PolicyRoute(
                base + "/{path:path}",
                download,
                methods=["GET"],
                policy=read,
                name=f"download_artifact:{prefix}",
            ),
            PolicyRoute(
                base + "/{path:path}",
                upload,
                methods=["PUT"],
                policy=Policy.edit(EXPERIMENT_OF_PATH),
                name=f"upload_artifact:{prefix}",
                max_body_size=MAX_ARTIFACT_BYTES,
            ),
            PolicyRoute(
                f"{prefix}/2.0/mltrail/artifacts/{{path:path}}",
                upload_batch,
                methods=["PUT"],
                policy=Policy.edit(EXPERIMENT_OF_PATH),
                name=f"upload_artifact_batch:{prefix}",
                max_body_size=MAX_BATCH_BODY,
            ),
            PolicyRoute(
                base + "/{path:path}",
                delete,
                methods=["DELETE"],
                policy=Policy.manage(EXPERIMENT_OF_PATH),
                name=f"delete_artifact:{prefix}",
            ),
        ]
    return result
