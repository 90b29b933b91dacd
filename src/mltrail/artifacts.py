"""MLflow's ``mlflow.artifacts`` module: download, list and read artifacts by URI.

An artifact is named either by ``run_id`` (and ``artifact_path``) or by one URI:
``runs:/<run_id>/<path>``, ``models:/...``, or a run's ``artifact_uri`` followed by a
path (a local path, ``file://``, ``s3://`` or a tracking server's
``mlflow-artifacts:``).

Examples
--------
>>> import mltrail
>>> with mltrail.start_run() as run:
...     mltrail.log_dict({"max_depth": 3}, "config.json")
>>> mltrail.artifacts.load_dict(f"runs:/{run.info.run_id}/config.json")
{'max_depth': 3}
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mltrail._entities import FileInfo
from mltrail._errors import InvalidValueError, MltrailError, NotFoundError
from mltrail.tracking import _pending

if TYPE_CHECKING:
    from PIL import Image

    from mltrail.store._base import ArtifactStore

__all__ = [
    "download_artifacts",
    "list_artifacts",
    "load_dict",
    "load_image",
    "load_text",
]

_URI_HINT = "For example 'runs:/<run_id>/config.json'."


def _check_arguments(
    artifact_uri: object, run_id: object, artifact_path: object
) -> None:
    if (artifact_uri is None) == (run_id is None):
        raise InvalidValueError(
            "artifact_uri and run_id",
            {"artifact_uri": artifact_uri, "run_id": run_id},
            "exactly one of them",
            "Pass artifact_uri='runs:/<run_id>/<path>', or run_id and artifact_path.",
        )
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidValueError(
            "artifact_path",
            artifact_path,
            "None when artifact_uri is given",
            "Put the path at the end of artifact_uri instead.",
        )
    for name, value in (
        ("artifact_uri", artifact_uri),
        ("run_id", run_id),
        ("artifact_path", artifact_path),
    ):
        if value is not None and (not isinstance(value, str) or not value):
            raise InvalidValueError(name, value, "a non-empty str or None", _URI_HINT)


def _run_location(
    artifact_uri: str | None,
    run_id: str | None,
    artifact_path: str | None,
    tracking_uri: str | None,
) -> tuple[ArtifactStore, str, str] | None:
    """Return the run's artifact store, its artifact URI and the run-relative path.

    None when the artifact is not named through a run (a plain URI).
    """
    if artifact_uri is not None:
        if urlparse(artifact_uri).scheme != "runs":
            return None
        run_id, _, artifact_path = (
            artifact_uri[len("runs:/") :].lstrip("/").partition("/")
        )
        if not run_id:
            raise InvalidValueError(
                "artifact_uri", artifact_uri, "'runs:/<run_id>/<path>'", _URI_HINT
            )
    from mltrail.tracking import TrackingClient

    assert run_id is not None  # noqa: S101 - _check_arguments ensured it
    client = TrackingClient(tracking_uri)
    _pending.wait(run_id)
    store, uri = client._artifacts(run_id)
    return store, uri, (artifact_path or "").strip("/")


def _split_uri(artifact_uri: str) -> tuple[str, str]:
    """Return the URI of the folder that holds an artifact, and the artifact's name."""
    if urlparse(artifact_uri).scheme == "models":
        from mltrail.models._uris import resolve_model_uri

        artifact_uri = str(resolve_model_uri(artifact_uri))
    parent, _, name = artifact_uri.rstrip("/").rpartition("/")
    if not parent or not name or name in (".", ".."):
        raise InvalidValueError(
            "artifact_uri", artifact_uri, "a URI ending with a file or folder name"
        )
    return parent, name


def _open_store(uri: str) -> ArtifactStore:
    from mltrail.store._artifacts import open_artifact_store

    return open_artifact_store(uri)


def _download_into(store: ArtifactStore, uri: str, path: str, dst_path: Path) -> Path:
    """Copy ``path`` of ``uri`` to ``dst_path / <its last name>``, as MLflow does."""
    if "/" not in path:
        return store.download(uri, path, dst_path)
    # The store keeps the folders of ``path``: copy next to the target, then move.
    staging = Path(tempfile.mkdtemp(prefix=".mltrail-download-", dir=dst_path))
    try:
        copied = store.download(uri, path, staging)
        target = dst_path / copied.name
        if copied.is_dir():
            shutil.copytree(copied, target, dirs_exist_ok=True)
        else:
            os.replace(copied, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Copy an artifact file or folder to a local directory.

    Parameters
    ----------
    artifact_uri : str or None, default=None
        Where the artifact is: ``runs:/<run_id>/<path>``, ``models:/...``, or a
        run's ``artifact_uri`` plus ``/<path>``. Give this or ``run_id``.
    run_id : str or None, default=None
        The run whose artifacts to copy, instead of ``artifact_uri``.
    artifact_path : str or None, default=None
        With ``run_id``: the run-relative path; None for all of the run's artifacts.
    dst_path : str or os.PathLike or None, default=None
        The local directory to copy into, created if missing. None: a new temporary
        directory, or, for an artifact already on this machine, its own path.
    tracking_uri : str or None, default=None
        The store that holds the run; None for the current tracking URI.

    Returns
    -------
    str
        The local path of the artifact: ``<dst_path>/<its last name>``.

    Raises
    ------
    InvalidValueError
        If not exactly one of ``artifact_uri`` and ``run_id`` is given, or
        ``artifact_path`` is given with ``artifact_uri``.
    NotFoundError
        If the run or the artifact does not exist.

    Examples
    --------
    >>> import mltrail
    >>> from pathlib import Path
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_text("hello", "notes/a.txt")
    >>> local = mltrail.artifacts.download_artifacts(
    ...     run_id=run.info.run_id, artifact_path="notes/a.txt", dst_path="copy")
    >>> Path(local).relative_to(Path("copy").resolve()).as_posix()
    'a.txt'
    >>> Path(local).read_text()
    'hello'
    """
    _check_arguments(artifact_uri, run_id, artifact_path)
    target = None if dst_path is None else Path(dst_path).resolve()
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
    found = _run_location(artifact_uri, run_id, artifact_path, tracking_uri)
    if found is not None:
        store, uri, path = found
        if target is None:
            return str(store.download(uri, path, Path(tempfile.mkdtemp())))
        return str(_download_into(store, uri, path, target))
    assert artifact_uri is not None  # noqa: S101 - _check_arguments ensured it
    _pending.wait()
    parent, name = _split_uri(artifact_uri)
    from mltrail.models._uris import local_path_of_uri

    local = local_path_of_uri(f"{parent}/{name}")
    if target is None and local is not None:
        if not local.exists():
            raise NotFoundError("artifact", artifact_uri, _URI_HINT)
        return str(local)
    store = _open_store(parent)
    return str(store.download(parent, name, target or Path(tempfile.mkdtemp())))


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """List the files and folders directly in an artifact folder.

    Parameters
    ----------
    artifact_uri : str or None, default=None
        The folder: ``runs:/<run_id>/<path>``, or a run's ``artifact_uri`` plus
        ``/<path>``. Give this or ``run_id``.
    run_id : str or None, default=None
        The run whose artifacts to list, instead of ``artifact_uri``.
    artifact_path : str or None, default=None
        With ``run_id``: the run-relative folder; None for the run's root.
    tracking_uri : str or None, default=None
        The store that holds the run; None for the current tracking URI.

    Returns
    -------
    list of FileInfo
        Sorted by path; run-relative for a run, else relative to the folder that
        holds ``artifact_uri``. Empty when the folder does not exist or is a file.

    Raises
    ------
    InvalidValueError
        If not exactly one of ``artifact_uri`` and ``run_id`` is given, or
        ``artifact_path`` is given with ``artifact_uri``.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_text("hello", "notes/a.txt")
    >>> mltrail.artifacts.list_artifacts(f"runs:/{run.info.run_id}/notes")
    [FileInfo(path='notes/a.txt', is_dir=False, file_size=5)]
    """
    _check_arguments(artifact_uri, run_id, artifact_path)
    found = _run_location(artifact_uri, run_id, artifact_path, tracking_uri)
    if found is not None:
        store, uri, path = found
        return store.list(uri, path or None)
    assert artifact_uri is not None  # noqa: S101 - _check_arguments ensured it
    _pending.wait()
    parent, name = _split_uri(artifact_uri)
    return _open_store(parent).list(parent, name)


def _read_bytes(artifact_uri: str) -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        local = Path(download_artifacts(artifact_uri, dst_path=directory))
        if local.is_dir():
            raise InvalidValueError(
                "artifact_uri", artifact_uri, "the URI of a file, not a folder"
            )
        return local.read_bytes()


def _read_text(artifact_uri: str) -> str:
    try:
        return _read_bytes(artifact_uri).decode("utf-8")
    except UnicodeDecodeError as error:
        raise MltrailError(
            f"artifact {artifact_uri!r} is not valid UTF-8. Download it with "
            "download_artifacts and open it with its encoding.",
            "BAD_REQUEST",
        ) from error


def load_text(artifact_uri: str) -> str:
    """Return the content of a text artifact.

    Parameters
    ----------
    artifact_uri : str
        The file, such as ``runs:/<run_id>/notes.txt``.

    Returns
    -------
    str
        The file's content, decoded as UTF-8.

    Raises
    ------
    NotFoundError
        If the artifact does not exist.
    MltrailError
        If the file is not valid UTF-8.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_text("hello", "notes.txt")
    >>> mltrail.artifacts.load_text(run.info.artifact_uri + "/notes.txt")
    'hello'
    """
    return _read_text(artifact_uri)


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """Return the content of a JSON artifact, such as one ``log_dict`` wrote.

    Parameters
    ----------
    artifact_uri : str
        The file, such as ``runs:/<run_id>/config.json``.

    Returns
    -------
    dict
        The parsed JSON.

    Raises
    ------
    NotFoundError
        If the artifact does not exist.
    MltrailError
        If the file is not a JSON object.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_dict({"max_depth": 3}, "config.json")
    >>> mltrail.artifacts.load_dict(f"runs:/{run.info.run_id}/config.json")
    {'max_depth': 3}
    """
    text = _read_text(artifact_uri)
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as error:
        raise MltrailError(
            f"artifact {artifact_uri!r} is not JSON ({error}). Read it with "
            "load_text instead.",
            "BAD_REQUEST",
        ) from error
    if not isinstance(loaded, dict):
        raise MltrailError(
            f"artifact {artifact_uri!r} holds a JSON {type(loaded).__name__}, not "
            "an object. Read it with load_text and json.loads instead.",
            "BAD_REQUEST",
        )
    return loaded


def load_image(artifact_uri: str) -> Image.Image:
    """Return an image artifact as a ``PIL.Image.Image``.

    Parameters
    ----------
    artifact_uri : str
        The file, such as ``runs:/<run_id>/confusion_matrix.png``.

    Returns
    -------
    PIL.Image.Image
        The image, loaded in memory.

    Raises
    ------
    NotFoundError
        If the artifact does not exist.
    MltrailError
        If Pillow cannot read the file as an image.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import mltrail
    >>> figure, axes = plt.subplots(figsize=(2, 1), dpi=50)
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_figure(figure, "plot.png")
    >>> plt.close(figure)
    >>> mltrail.artifacts.load_image(f"runs:/{run.info.run_id}/plot.png").size
    (100, 50)
    """
    import io

    from PIL import Image, UnidentifiedImageError

    data = _read_bytes(artifact_uri)
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise MltrailError(
            f"artifact {artifact_uri!r} is not an image that Pillow reads "
            f"({error}). Download it with download_artifacts instead.",
            "BAD_REQUEST",
        ) from error
    return image
