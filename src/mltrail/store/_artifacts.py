"""Run files on the local disk, and the one function that maps artifact paths to files.

Every run-relative path that reaches the filesystem goes through
``resolve_artifact_path``, which refuses anything that could leave the run's root.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from mltrail._entities import FileInfo
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store._base import ArtifactStore

__all__ = [
    "LocalArtifactStore",
    "artifact_root_path",
    "open_artifact_store",
    "resolve_artifact_path",
]

_PATH_HINT = "Use a relative path with '/' separators, such as 'plots/roc.png'."
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_DECODE_ROUNDS = 5


def _decoded_forms(path: str) -> list[str]:
    """Return ``path`` and its percent-decodings, until they stop changing."""
    forms = [path]
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def _check_relative(path: str) -> list[str]:
    """Return the parts of a relative artifact path, or raise InvalidValueError."""
    for form in _decoded_forms(path):
        if "\x00" in form:
            raise InvalidValueError(
                "artifact path", path, "free of NUL bytes", _PATH_HINT
            )
        if "\\" in form:
            raise InvalidValueError(
                "artifact path", path, "free of backslashes", _PATH_HINT
            )
        if form.startswith("/") or _DRIVE.match(form):
            raise InvalidValueError(
                "artifact path", path, "a relative path", _PATH_HINT
            )
        if ".." in form.split("/"):
            raise InvalidValueError(
                "artifact path", path, "a path that stays inside the run", _PATH_HINT
            )
    return [part for part in path.split("/") if part not in ("", ".")]


def resolve_artifact_path(root: str | os.PathLike[str], path: str | None) -> Path:
    """Return the file that the run-relative ``path`` names under ``root``.

    This is the only way a path from a user or a request reaches the filesystem.

    Parameters
    ----------
    root : str or os.PathLike
        The run's artifact directory.
    path : str or None
        A relative path with ``/`` separators; None or ``""`` names the root itself.

    Returns
    -------
    pathlib.Path
        The absolute path, with symlinks resolved, inside ``root``.

    Raises
    ------
    InvalidValueError
        If ``path`` is not a str, is absolute, contains ``..`` (also percent-encoded),
        a backslash or a NUL byte, or leads through a symlink outside ``root``.

    Examples
    --------
    >>> from mltrail.store._artifacts import resolve_artifact_path
    >>> resolve_artifact_path("/data/run", "plots/roc.png").as_posix()
    '/data/run/plots/roc.png'
    >>> resolve_artifact_path("/data/run", "../secret")
    Traceback (most recent call last):
    ...
    mltrail._errors.InvalidValueError: artifact path must be a path that stays inside the run; got '../secret'. Use a relative path with '/' separators, such as 'plots/roc.png'.
    """  # noqa: E501
    if path is not None and not isinstance(path, str):
        raise InvalidValueError("artifact path", path, "a str or None", _PATH_HINT)
    parts = _check_relative(path) if path else []
    real_root = os.path.realpath(root)
    candidate = os.path.realpath(os.path.join(real_root, *parts))
    if candidate != real_root and not candidate.startswith(real_root + os.sep):
        raise InvalidValueError(
            "artifact path",
            path,
            "a path that stays inside the run",
            "It leads through a symlink that points outside the artifact root.",
        )
    return Path(candidate)


def artifact_root_path(artifact_uri: str) -> Path:
    """Return the local directory of a ``file://`` URI or a plain path."""
    if artifact_uri.startswith("file:"):
        parsed = urlparse(artifact_uri)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidValueError(
                "artifact URI",
                artifact_uri,
                "a file:// URI of this machine",
                "Use file:///absolute/path.",
            )
        return Path(os.path.abspath(unquote(parsed.path)))
    return Path(os.path.abspath(artifact_uri))


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


class LocalArtifactStore:
    """Run files in a directory of the local filesystem.

    ``artifact_uri`` is an absolute path or a ``file://`` URI: a run's
    ``info.artifact_uri``. All methods follow the ``ArtifactStore`` protocol.

    Examples
    --------
    >>> from mltrail.store._artifacts import LocalArtifactStore
    >>> store = LocalArtifactStore()
    >>> store.write_bytes("file:///tmp/mltrail-doc/run", "notes/a.txt", b"hi")
    >>> [f.path for f in store.list("/tmp/mltrail-doc/run")]
    ['notes']
    >>> store.read_bytes("/tmp/mltrail-doc/run", "notes/a.txt")
    b'hi'
    """

    def log_file(
        self, artifact_uri: str, local_path: Path, artifact_path: str | None = None
    ) -> None:
        """Copy one local file under ``artifact_path`` (a directory) of the run.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        local_path : pathlib.Path
            The file to copy.
        artifact_path : str or None, default=None
            The run-relative directory to copy it into; None for the root.

        Raises
        ------
        NotFoundError
            If ``local_path`` is not an existing file.
        InvalidValueError
            If ``artifact_path`` is unsafe.
        """
        source = Path(local_path)
        if not source.is_file():
            raise NotFoundError(
                "file",
                str(source),
                "Pass the path of an existing file; use log_artifacts for a directory.",
            )
        root = artifact_root_path(artifact_uri)
        directory = resolve_artifact_path(root, artifact_path)
        name = f"{artifact_path}/{source.name}" if artifact_path else source.name
        target = resolve_artifact_path(root, name)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    def log_dir(
        self, artifact_uri: str, local_dir: Path, artifact_path: str | None = None
    ) -> None:
        """Copy a local directory's contents under ``artifact_path`` of the run.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        local_dir : pathlib.Path
            The directory whose contents are copied.
        artifact_path : str or None, default=None
            The run-relative directory to copy into; None for the root.

        Raises
        ------
        NotFoundError
            If ``local_dir`` is not an existing directory.
        InvalidValueError
            If ``artifact_path`` is unsafe.
        """
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(
                "directory",
                str(source),
                "Pass an existing directory; use log_artifact for a single file.",
            )
        target = resolve_artifact_path(artifact_root_path(artifact_uri), artifact_path)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target, dirs_exist_ok=True)

    def write_bytes(self, artifact_uri: str, path: str, data: bytes) -> None:
        """Write ``data`` to the file at ``path`` of the run, atomically.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str
            The run-relative file path, such as ``"plots/roc.png"``.
        data : bytes
            The content.

        Raises
        ------
        InvalidValueError
            If ``path`` is empty or unsafe.
        """
        if not path or not _check_relative(path):
            raise InvalidValueError(
                "artifact file", path, "a non-empty relative file path", _PATH_HINT
            )
        target = resolve_artifact_path(artifact_root_path(artifact_uri), path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise

    def list(self, artifact_uri: str, path: str | None = None) -> list[FileInfo]:
        """List one directory level; paths in the result are run-relative.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str or None, default=None
            The run-relative directory to list; None for the root.

        Returns
        -------
        list of FileInfo
            Sorted by path; empty if ``path`` is not a directory.
        """
        root = Path(os.path.realpath(artifact_root_path(artifact_uri)))
        directory = resolve_artifact_path(root, path)
        if not directory.is_dir():
            return []
        infos = []
        for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
            if entry.name.startswith(".tmp-"):
                continue
            relative = _relative(root, directory / entry.name)
            if entry.is_dir():
                infos.append(FileInfo(relative, True, None))
            else:
                infos.append(FileInfo(relative, False, entry.stat().st_size))
        return infos

    def download(self, artifact_uri: str, path: str, dst_path: Path) -> Path:
        """Copy a file or directory of the run into ``dst_path``.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str
            The run-relative path; ``""`` for every artifact of the run.
        dst_path : pathlib.Path
            The local directory to copy into; the run-relative path is kept below it.

        Returns
        -------
        pathlib.Path
            The local copy.

        Raises
        ------
        NotFoundError
            If the run has no artifact at ``path``.
        """
        root = artifact_root_path(artifact_uri)
        source = resolve_artifact_path(root, path)
        if not source.exists():
            raise NotFoundError(
                "artifact", path, "List the run's artifacts with list_artifacts."
            )
        parts = _check_relative(path) if path else []
        target = Path(dst_path).joinpath(*parts)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return target

    def read_bytes(self, artifact_uri: str, path: str) -> bytes:
        """Return the content of one file of the run.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str
            The run-relative file path.

        Returns
        -------
        bytes
            The file's content.

        Raises
        ------
        NotFoundError
            If there is no file at ``path``.
        """
        source = resolve_artifact_path(artifact_root_path(artifact_uri), path)
        if not source.is_file():
            raise NotFoundError(
                "artifact file", path, "List the run's artifacts with list_artifacts."
            )
        return source.read_bytes()


_LOCAL = LocalArtifactStore()


def open_artifact_store(artifact_uri: str) -> ArtifactStore:
    """Return the artifact store that serves ``artifact_uri``, chosen by its scheme.

    Parameters
    ----------
    artifact_uri : str
        A run's ``info.artifact_uri``: a local path or a ``file://`` URI.

    Returns
    -------
    ArtifactStore
        A ``LocalArtifactStore`` for local files.

    Raises
    ------
    InvalidValueError
        If the scheme is not supported, such as ``s3://`` in this version.

    Examples
    --------
    >>> from mltrail.store._artifacts import open_artifact_store
    >>> type(open_artifact_store("/tmp/runs/1/abc/artifacts")).__name__
    'LocalArtifactStore'
    """
    scheme = urlparse(artifact_uri).scheme
    if scheme in ("", "file") or _DRIVE.match(artifact_uri):
        return _LOCAL
    raise InvalidValueError(
        "artifact URI",
        artifact_uri,
        "a local path or a file:// URI",
        f"Artifact stores for {scheme}:// are not available in this version; "
        "set MLTRAIL_ARTIFACT_ROOT to a local directory.",
    )
