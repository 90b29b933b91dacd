"""Run files through a tracking server's artifact proxy (``mlflow-artifacts:``).

``mlflow-artifacts:/<path>`` names ``<path>`` under the proxy of the current tracking
server; ``mlflow-artifacts://host:port/<path>`` names another server's, and
``http(s)://host/api/2.0/mlflow-artifacts/artifacts/<path>`` is the same spelled out.
Files stream both ways: uploads are sent in chunks from disk, downloads are written
in chunks to disk, so their size is not bounded by memory. A group of small files
(a model's folder, a job's plots) goes to mltrail's server as one request
(``_artifact_batch``); to a server without that route, one request per file.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

from mltrail._entities import FileInfo
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store._artifact_batch import (
    BATCH_CONTENT_TYPE,
    BATCH_PATH,
    MAX_BATCH_BYTES,
    MAX_BATCH_FILES,
    pack,
)
from mltrail.store._paths import PATH_HINT, check_relative_path
from mltrail.store._rest_client import RestClient, rest_client

__all__ = ["HttpArtifactStore", "proxy_location"]

PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts"
CHUNK = 1024 * 1024
# What an mltrail server names in server-info when it takes batches.
BATCH_FEATURE = "artifact_batches"


def proxy_location(artifact_uri: str, tracking_uri: str) -> tuple[str, str]:
    """Return ``(server URL, path under the proxy)`` of a proxied artifact URI.

    Parameters
    ----------
    artifact_uri : str
        ``mlflow-artifacts:/...``, ``mlflow-artifacts://host:port/...`` or an
        ``http(s)://`` URL of the proxy.
    tracking_uri : str
        The server of ``mlflow-artifacts:`` URIs that name no host.

    Returns
    -------
    tuple of (str, str)
        The server's base URL and the path below the proxy root.

    Examples
    --------
    >>> from mltrail.store._artifacts_http import proxy_location
    >>> proxy_location("mlflow-artifacts:/1/abc/artifacts", "http://h:5000")
    ('http://h:5000', '1/abc/artifacts')
    """
    parts = urlsplit(artifact_uri)
    if parts.scheme == "mlflow-artifacts":
        if parts.netloc:
            scheme = urlsplit(tracking_uri).scheme or "http"
            return f"{scheme}://{parts.netloc}", parts.path.strip("/")
        if not tracking_uri.startswith(("http://", "https://")):
            raise InvalidValueError(
                "artifact URI",
                artifact_uri,
                "an mlflow-artifacts: URI read through an http(s) tracking server",
                "Set MLTRAIL_TRACKING_URI to the server, such as http://host:5000.",
            )
        return tracking_uri.rstrip("/"), parts.path.strip("/")
    path = parts.path
    marker = path.find(PROXY_PATH)
    if parts.scheme in ("http", "https") and marker >= 0:
        base = f"{parts.scheme}://{parts.netloc}{path[:marker]}"
        return base, path[marker + len(PROXY_PATH) :].strip("/")
    raise InvalidValueError(
        "artifact URI",
        artifact_uri,
        f"an mlflow-artifacts: URI or an http(s) URL containing {PROXY_PATH}",
    )


def _join(prefix: str, path: str | None) -> str:
    parts = check_relative_path(path) if path else []
    return "/".join([prefix, *parts]) if parts else prefix


class HttpArtifactStore:
    """Run files behind a tracking server's artifact proxy.

    Parameters
    ----------
    tracking_uri : str
        The server of ``mlflow-artifacts:`` URIs without a host.

    Examples
    --------
    >>> from mltrail.store._artifacts_http import HttpArtifactStore
    >>> HttpArtifactStore("http://127.0.0.1:5000").tracking_uri
    'http://127.0.0.1:5000'
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri

    def _target(self, artifact_uri: str, path: str | None) -> tuple[RestClient, str]:
        base, prefix = proxy_location(artifact_uri, self.tracking_uri)
        return rest_client(base), _join(prefix, path)

    def _url(self, relative: str) -> str:
        return f"{PROXY_PATH}/{quote(relative)}"

    def _put(
        self, client: RestClient, relative: str, body: bytes | Iterable[bytes]
    ) -> None:
        response = client.request(
            "PUT",
            self._url(relative),
            body=body,
            headers={"Content-Type": "application/octet-stream"},
            idempotent=True,
        )
        client.json_of(response, "PUT", self._url(relative))

    def log_file(
        self, artifact_uri: str, local_path: Path, artifact_path: str | None = None
    ) -> None:
        """Upload one local file under ``artifact_path`` (a directory) of the run."""
        source = Path(local_path)
        if not source.is_file():
            raise NotFoundError(
                "file",
                str(source),
                "Pass the path of an existing file; use log_artifacts for a directory.",
            )
        name = f"{artifact_path}/{source.name}" if artifact_path else source.name
        client, relative = self._target(artifact_uri, name)
        with open(source, "rb") as file:
            self._put(client, relative, _chunks_of(file))

    def log_dir(
        self, artifact_uri: str, local_dir: Path, artifact_path: str | None = None
    ) -> None:
        """Upload a local directory's files under ``artifact_path`` of the run."""
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(
                "directory",
                str(source),
                "Pass an existing directory; use log_artifact for a single file.",
            )
        entries = []
        for root, _, files in os.walk(source):
            relative = Path(root).relative_to(source).as_posix()
            folder = "/".join(
                part for part in (artifact_path or "", relative) if part and part != "."
            )
            entries += [(Path(root) / name, folder) for name in sorted(files)]
        sizes = [local.stat().st_size for local, _ in entries]
        if _fits_a_batch(sizes):
            batch = [
                (f"{folder}/{local.name}" if folder else local.name, local.read_bytes())
                for local, folder in entries
            ]
            if self._send_batch(artifact_uri, batch):
                return
        for local, folder in entries:
            self.log_file(artifact_uri, local, folder or None)

    def write_files(
        self, artifact_uri: str, files: Sequence[tuple[str, bytes]]
    ) -> None:
        """Upload ``(path, content)`` pairs: one request to mltrail's server."""
        if _fits_a_batch([len(data) for _, data in files]) and self._send_batch(
            artifact_uri, files
        ):
            return
        for path, data in files:
            self.write_bytes(artifact_uri, path, data)

    def _send_batch(
        self, artifact_uri: str, files: Sequence[tuple[str, bytes]]
    ) -> bool:
        """Send ``files`` as one batch; False if the server takes no batches.

        A server takes them if its server-info (read once per server) names
        ``BATCH_FEATURE`` and it serves artifacts: mltrail's, not MLflow's. Every
        path is checked here first, as a single upload's would be.
        """
        for path, _ in files:
            _check_file_path(path)
        client, relative = self._target(artifact_uri, None)
        info = client.server_info()
        if BATCH_FEATURE not in (info.get("mltrail_features") or ()) or not info.get(
            "serve_artifacts"
        ):
            return False
        url = f"{BATCH_PATH}/{quote(relative)}"
        response = client.request(
            "PUT",
            url,
            body=pack(files),
            headers={"Content-Type": BATCH_CONTENT_TYPE},
            idempotent=True,
        )
        client.json_of(response, "PUT", url)
        return True

    def write_bytes(self, artifact_uri: str, path: str, data: bytes) -> None:
        """Upload ``data`` as the file at ``path`` of the run."""
        self.write_stream(artifact_uri, path, [bytes(data)])

    def write_stream(
        self, artifact_uri: str, path: str, chunks: Iterable[bytes]
    ) -> int:
        """Upload the file at ``path`` from ``chunks``; return its size."""
        _check_file_path(path)
        client, relative = self._target(artifact_uri, path)
        size = 0

        def counted() -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks:
                size += len(chunk)
                yield chunk

        self._put(client, relative, counted())
        return size

    def list(self, artifact_uri: str, path: str | None = None) -> list[FileInfo]:
        """List one directory level; paths in the result are run-relative."""
        client, relative = self._target(artifact_uri, path)
        body = client.call("GET", PROXY_PATH, {"path": relative})
        parts = check_relative_path(path) if path else []
        result = []
        for item in body.get("files", ()):
            name = posixpath.basename(str(item["path"]))
            size = item.get("file_size")
            result.append(
                FileInfo(
                    "/".join([*parts, name]),
                    bool(item.get("is_dir", False)),
                    None if size is None else int(size),
                )
            )
        return sorted(result, key=lambda info: info.path)

    def open_stream(
        self, artifact_uri: str, path: str, chunk_size: int = CHUNK
    ) -> tuple[int, Iterator[bytes]]:
        """Open one file of the run for reading in chunks."""
        client, relative = self._target(artifact_uri, path)
        response = client.request("GET", self._url(relative), stream=True)
        if response.status != 200:
            data = response.read()
            response.release_conn()
            raise client.error_of(response.status, data, "GET", self._url(relative))
        size = int(response.headers.get("content-length") or -1)

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.stream(chunk_size)
            finally:
                response.release_conn()

        return size, chunks()

    def read_bytes(self, artifact_uri: str, path: str) -> bytes:
        """Return the content of one file of the run."""
        _, chunks = self.open_stream(artifact_uri, path)
        return b"".join(chunks)

    def download(self, artifact_uri: str, path: str, dst_path: Path) -> Path:
        """Download a file or directory of the run into ``dst_path``."""
        parts = check_relative_path(path) if path else []
        target = Path(dst_path).joinpath(*parts)
        if parts:
            try:
                self._download_file(artifact_uri, path, target)
                return target
            except NotFoundError:
                pass
        entries = self.list(artifact_uri, path or None)
        if not entries and parts:
            raise NotFoundError(
                "artifact", path, "List the run's artifacts with list_artifacts."
            )
        target.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            if entry.is_dir:
                self.download(artifact_uri, entry.path, dst_path)
            else:
                self._download_file(
                    artifact_uri,
                    entry.path,
                    Path(dst_path).joinpath(*entry.path.split("/")),
                )
        return target

    def _download_file(self, artifact_uri: str, path: str, target: Path) -> None:
        _, chunks = self.open_stream(artifact_uri, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".download-")
        try:
            with os.fdopen(handle, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def delete(self, artifact_uri: str, path: str) -> None:
        """Delete a file, or a folder with everything in it, of the run."""
        if not isinstance(path, str) or not path:
            raise InvalidValueError("artifact path", path, "a non-empty relative path")
        client, relative = self._target(artifact_uri, path)
        response = client.request("DELETE", self._url(relative))
        client.json_of(response, "DELETE", self._url(relative))

    def delete_run_artifacts(self, artifact_uri: str) -> None:
        """Delete every file of the run through the proxy; none there is fine."""
        client, relative = self._target(artifact_uri, None)
        if not relative:
            raise InvalidValueError(
                "artifact URI", artifact_uri, "a run's URI below the proxy root"
            )
        response = client.request("DELETE", self._url(relative))
        if response.status != 404:
            client.json_of(response, "DELETE", self._url(relative))


def _check_file_path(path: object) -> None:
    if not isinstance(path, str) or not path or not check_relative_path(path):
        raise InvalidValueError(
            "artifact file", path, "a non-empty relative file path", PATH_HINT
        )


def _fits_a_batch(sizes: Sequence[int]) -> bool:
    """Whether files of these sizes go as one batch: several, small in all."""
    return 1 < len(sizes) <= MAX_BATCH_FILES and sum(sizes) <= MAX_BATCH_BYTES


def _chunks_of(file: object) -> Iterator[bytes]:
    read = file.read  # type: ignore[attr-defined]  # a binary file object
    while chunk := read(CHUNK):
        yield chunk
