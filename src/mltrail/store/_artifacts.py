"""Run files on the local disk: written atomically, never through a link out of root.

Every path goes through ``resolve_artifact_path`` (``_paths.py``), checked from the
trusted root down: the store's artifact root when the run lives under it, else the
run's experiment folder. A write goes to a file in a staging folder beside the
experiments (``.mltrail-staging``, never inside a run), then is renamed into
place, so a killed process never leaves a truncated file under an artifact's name,
and no name a user may choose is taken. Files are created with mode 0666 masked by
the umask, like any file the user writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import urlparse

from mltrail._entities import FileInfo
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store._base import ArtifactStore, FilesInTurn
from mltrail.store._paths import (
    PATH_HINT,
    artifact_root_path,
    check_relative_path,
    is_inside,
    resolve_artifact_path,
    translate_os_error,
)

__all__ = [
    "STAGING_NAME",
    "LocalArtifactStore",
    "artifact_root_path",
    "local_artifact_path",
    "open_artifact_store",
    "publish_directory",
    "resolve_artifact_path",
]

T = TypeVar("T")

#: The folder, beside experiment folders, where files are written before a rename.
STAGING_NAME = ".mltrail-staging"
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024 * 1024
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True, slots=True)
class _Location:
    """Where a run's files are: the trusted root and the run's parts below it."""

    base: str
    prefix: tuple[str, ...]
    staging: str


@contextlib.contextmanager
def _file_errors(path: str | None) -> Iterator[None]:
    """Turn a failed file operation into mltrail's error naming ``path``."""
    try:
        yield
    except OSError as error:
        raise translate_os_error(error, path) from error


def _user_parts(path: str | None) -> list[str]:
    if path is not None and not isinstance(path, str):
        raise InvalidValueError("artifact path", path, "a str or None", PATH_HINT)
    return check_relative_path(path) if path else []


def _write_atomically(
    target: Path, staging: Path, fill: Callable[[BinaryIO], object]
) -> None:
    """Write a file under a temporary name in ``staging``, then rename it to target."""
    staging.mkdir(parents=True, exist_ok=True)
    temporary = staging / f"{uuid.uuid4().hex}.part"
    # os.open with 0o666 lets the umask decide the mode, as for any file the user
    # writes (tempfile.mkstemp would make it owner-only).
    handle = os.open(temporary, _OPEN_FLAGS, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            fill(file)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _copy_from(source: Path) -> Callable[[BinaryIO], object]:
    def fill(file: BinaryIO) -> None:
        with open(source, "rb") as origin:
            shutil.copyfileobj(origin, file, _CHUNK)

    return fill


def _walk(top: Path, inside: str | None) -> Iterator[tuple[tuple[str, ...], Path]]:
    """Yield (relative parts, real path) of every folder and file below ``top``.

    Symlinks are followed once each (loops are cut); with ``inside`` set, a link
    whose target is outside that real folder is skipped, as if it did not exist.
    Folders come before their contents.
    """
    seen = {os.path.realpath(top)}
    pending: list[tuple[tuple[str, ...], str]] = [((), os.path.realpath(top))]
    while pending:
        parts, directory = pending.pop()
        for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
            real = os.path.realpath(entry.path)
            if inside is not None and not is_inside(inside, real):
                continue
            relative = (*parts, entry.name)
            if os.path.isdir(real):
                if real in seen:
                    continue
                seen.add(real)
                yield relative, Path(real)
                pending.append((relative, real))
            elif os.path.isfile(real):
                yield relative, Path(real)


class LocalArtifactStore(FilesInTurn):
    """Run files in a directory of the local filesystem.

    ``artifact_uri`` is an absolute path or a ``file://`` URI: a run's
    ``info.artifact_uri``. All methods follow the ``ArtifactStore`` protocol.

    Parameters
    ----------
    root : str or os.PathLike or None, default=None
        The store's artifact root. Runs below it are checked from it down, so a
        symlinked experiment or ``artifacts`` folder cannot lead out of it; other
        runs are checked from their experiment's folder down.

    Examples
    --------
    >>> from mltrail.store._artifacts import LocalArtifactStore
    >>> store = LocalArtifactStore("/tmp/mltrail-doc")
    >>> run = "file:///tmp/mltrail-doc/0/0123456789abcdef0123456789abcdef/artifacts"
    >>> store.write_bytes(run, "notes/a.txt", b"hi")
    >>> [f.path for f in store.list(run)]
    ['notes']
    >>> store.read_bytes(run, "notes/a.txt")
    b'hi'
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = None if root is None else os.path.abspath(os.fspath(root))

    def _locate(self, artifact_uri: str) -> _Location:
        run_root = os.fspath(artifact_root_path(artifact_uri))
        if self.root is not None and is_inside(self.root, run_root):
            relative = os.path.relpath(run_root, self.root)
            prefix = () if relative == "." else tuple(relative.split(os.sep))
            return _Location(self.root, prefix, os.path.join(self.root, STAGING_NAME))
        parent, name = os.path.split(run_root)
        experiment, run_id = os.path.split(parent)
        if name == "artifacts" and _RUN_ID.fullmatch(run_id):
            return _Location(
                experiment,
                (run_id, name),
                os.path.join(experiment, STAGING_NAME),
            )
        return _Location(
            run_root, (), os.path.join(os.path.dirname(run_root), STAGING_NAME)
        )

    def _resolve(self, location: _Location, parts: list[str]) -> Path:
        joined = "/".join([*location.prefix, *parts])
        return resolve_artifact_path(location.base, joined or None)

    def _staging(self, location: _Location) -> Path:
        if os.path.dirname(location.staging) == location.base:
            return resolve_artifact_path(location.base, STAGING_NAME)
        return Path(location.staging)

    def _write(
        self, location: _Location, target: Path, fill: Callable[[BinaryIO], object]
    ) -> None:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, self._staging(location), fill)

    def local_path(self, artifact_uri: str, path: str | None) -> Path:
        """Return the checked local path of a run-relative ``path``.

        For code that writes or reads a run's files in place (such as a model
        saved straight into the run); it goes through the same resolver.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str or None
            The run-relative path; None for the run's root.

        Returns
        -------
        pathlib.Path
            The real path, inside the trusted root; it may not exist yet.

        Raises
        ------
        InvalidValueError
            If ``path`` is unsafe, or leads through a link out of the root.
        """
        return self._resolve(self._locate(artifact_uri), _user_parts(path))

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
            If ``artifact_path`` is unsafe, or a file stands where a folder of it
            should be.
        StoreError
            If the disk is full, read-only or not writable.
        """
        source = Path(local_path)
        if not source.is_file():
            raise NotFoundError(
                "file",
                str(source),
                "Pass the path of an existing file; use log_artifacts for a directory.",
            )
        location = self._locate(artifact_uri)
        parts = [*_user_parts(artifact_path), source.name]
        name = "/".join(parts)
        target = self._resolve(location, parts)
        with _file_errors(name):
            self._write(location, target, _copy_from(source))

    def log_dir(
        self, artifact_uri: str, local_dir: Path, artifact_path: str | None = None
    ) -> None:
        """Copy a local directory's contents under ``artifact_path`` of the run.

        Every target is checked before the first file is written, and each file is
        written atomically.

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
            If ``artifact_path`` is unsafe, or a target leads through a link out
            of the root; nothing is written.
        StoreError
            If the disk is full, read-only or not writable.
        """
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(
                "directory",
                str(source),
                "Pass an existing directory; use log_artifact for a single file.",
            )
        location = self._locate(artifact_uri)
        prefix = _user_parts(artifact_path)
        with _file_errors(artifact_path):
            entries = list(_walk(source, None))
        plan = [
            (
                "/".join([*prefix, *parts]),
                real,
                self._resolve(location, [*prefix, *parts]),
            )
            for parts, real in entries
        ]
        top = self._resolve(location, prefix)
        with _file_errors(artifact_path):
            top.mkdir(parents=True, exist_ok=True)
        for name, real, target in plan:
            with _file_errors(name):
                if real.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    self._write(location, target, _copy_from(real))

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
            If ``path`` is empty, unsafe or an existing directory, or ``data`` is
            not bytes.
        StoreError
            If the disk is full, read-only or not writable.
        """
        if not isinstance(path, str) or not path or not check_relative_path(path):
            raise InvalidValueError(
                "artifact file", path, "a non-empty relative file path", PATH_HINT
            )
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidValueError(
                "artifact content",
                type(data).__name__,
                "bytes",
                "Encode text first, such as text.encode('utf-8').",
            )
        self.write_stream(artifact_uri, path, [data])

    def write_stream(
        self, artifact_uri: str, path: str, chunks: Iterable[bytes]
    ) -> int:
        """Write the file at ``path`` of the run from ``chunks``, atomically.

        Only one chunk is held at a time, so a file of any size streams through.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str
            The run-relative file path.
        chunks : iterable of bytes
            The content, in order.

        Returns
        -------
        int
            The number of bytes written.

        Raises
        ------
        InvalidValueError
            If ``path`` is empty, unsafe or an existing directory.
        StoreError
            If the disk is full, read-only or not writable.
        """
        if not isinstance(path, str) or not path or not check_relative_path(path):
            raise InvalidValueError(
                "artifact file", path, "a non-empty relative file path", PATH_HINT
            )
        location = self._locate(artifact_uri)
        target = self._resolve(location, _user_parts(path))
        size = 0

        def fill(file: BinaryIO) -> None:
            nonlocal size
            for chunk in chunks:
                file.write(chunk)
                size += len(chunk)

        with _file_errors(path):
            self._write(location, target, fill)
        return size

    def open_stream(
        self, artifact_uri: str, path: str, chunk_size: int = _CHUNK
    ) -> tuple[int, Iterator[bytes]]:
        """Open one file of the run for reading in chunks.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str
            The run-relative file path.
        chunk_size : int, default=1048576
            The size of each chunk but the last.

        Returns
        -------
        tuple of (int, iterator of bytes)
            The file's size, and its content; the file is closed when the iterator
            is exhausted or closed.

        Raises
        ------
        NotFoundError
            If there is no file at ``path``.
        """
        source = self._resolve(self._locate(artifact_uri), _user_parts(path))
        with _file_errors(path):
            if not source.is_file():
                raise NotFoundError(
                    "artifact file",
                    path,
                    "List the run's artifacts with list_artifacts.",
                )
            handle = open(source, "rb")  # noqa: SIM115 - closed by the generator
            size = os.fstat(handle.fileno()).st_size

        def chunks() -> Iterator[bytes]:
            with handle:
                while data := handle.read(chunk_size):
                    yield data

        return size, chunks()

    def delete(self, artifact_uri: str, path: str) -> None:
        """Delete a file, or a folder with everything in it, of the run.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.
        path : str
            The run-relative path of a file or folder; never empty.

        Raises
        ------
        InvalidValueError
            If ``path`` is empty or unsafe.
        NotFoundError
            If nothing is at ``path``.
        """
        if not isinstance(path, str) or not path or not check_relative_path(path):
            raise InvalidValueError(
                "artifact path", path, "a non-empty relative path", PATH_HINT
            )
        target = self._resolve(self._locate(artifact_uri), _user_parts(path))
        with _file_errors(path):
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            else:
                raise NotFoundError(
                    "artifact", path, "List the run's artifacts with list_artifacts."
                )

    def list(self, artifact_uri: str, path: str | None = None) -> list[FileInfo]:
        """List one directory level; paths in the result are run-relative.

        A symlink whose target is outside the root is left out, as if absent.

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
        location = self._locate(artifact_uri)
        parts = _user_parts(path)
        directory = self._resolve(location, parts)
        real_base = os.path.realpath(location.base)
        infos = []
        with _file_errors(path):
            if not directory.is_dir():
                return []
            for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
                if entry.name == STAGING_NAME and str(directory) == real_base:
                    continue
                real = os.path.realpath(entry.path)
                if not is_inside(real_base, real):
                    continue
                relative = "/".join([*parts, entry.name])
                if os.path.isdir(real):
                    infos.append(FileInfo(relative, True, None))
                elif os.path.isfile(real):
                    infos.append(FileInfo(relative, False, os.stat(real).st_size))
        return infos

    def download(self, artifact_uri: str, path: str, dst_path: Path) -> Path:
        """Copy a file or directory of the run into ``dst_path``.

        Links whose target is outside the root are not copied; every file is
        written under a temporary name, then renamed.

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
        location = self._locate(artifact_uri)
        parts = _user_parts(path)
        source = self._resolve(location, parts)
        with _file_errors(path):
            exists = source.exists()
        if not exists:
            raise NotFoundError(
                "artifact", path, "List the run's artifacts with list_artifacts."
            )
        target = Path(dst_path).joinpath(*parts)
        with _file_errors(path):
            if not source.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(target, target.parent, _copy_from(source))
                return target
            target.mkdir(parents=True, exist_ok=True)
            for relative, real in _walk(source, os.path.realpath(location.base)):
                destination = target.joinpath(*relative)
                if real.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                else:
                    _write_atomically(destination, destination.parent, _copy_from(real))
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
        source = self._resolve(self._locate(artifact_uri), _user_parts(path))
        with _file_errors(path):
            if not source.is_file():
                raise NotFoundError(
                    "artifact file",
                    path,
                    "List the run's artifacts with list_artifacts.",
                )
            return source.read_bytes()

    def delete_run_artifacts(self, artifact_uri: str) -> None:
        """Remove all the files of a run (or logged model), and its folder if empty.

        Links are removed, never followed: a symlinked ``artifacts`` folder loses
        its link and what it points to stays; so do links inside. Nothing there
        is fine.

        Parameters
        ----------
        artifact_uri : str
            The run's artifact URI.

        Raises
        ------
        InvalidValueError
            If the folders above the run's lead through a link out of the root.
        StoreError
            If a file cannot be removed (permissions, read-only media).

        Examples
        --------
        >>> import os
        >>> from mltrail.store._artifacts import LocalArtifactStore
        >>> store = LocalArtifactStore("/tmp/mltrail-doc")
        >>> run = "/tmp/mltrail-doc/0/00000000000000000000000000000001/artifacts"
        >>> store.write_bytes(run, "notes/a.txt", b"hi")
        >>> store.delete_run_artifacts(run)
        >>> os.path.exists("/tmp/mltrail-doc/0/00000000000000000000000000000001")
        False
        """
        location = self._locate(artifact_uri)
        *above, name = location.prefix or (location.base,)
        if location.prefix:
            parent = self._resolve(_Location(location.base, (), ""), above)
        else:  # the run's folder is the trusted root itself
            parent = Path(os.path.dirname(location.base))
        folder = parent / name
        with _file_errors(None):
            if folder.is_symlink() or folder.is_file():
                folder.unlink()
            elif folder.is_dir():
                # rmtree works on file descriptors and unlinks links, never
                # following them.
                shutil.rmtree(folder)
        if location.prefix and name == "artifacts":
            # The run's (or logged model's) own folder: gone once it is empty.
            with contextlib.suppress(OSError):  # not empty, or already gone: keep it
                parent.rmdir()


_local_stores: dict[str | None, LocalArtifactStore] = {}


def open_artifact_store(
    artifact_uri: str, *, root: str | os.PathLike[str] | None = None
) -> ArtifactStore:
    """Return the artifact store that serves ``artifact_uri``, chosen by its scheme.

    Parameters
    ----------
    artifact_uri : str
        A run's ``info.artifact_uri``: a local path, a ``file://`` URI, an
        ``s3://`` URI, or the proxy of a tracking server (``mlflow-artifacts:``
        or ``http(s)://``).
    root : str or os.PathLike or None, default=None
        The tracking store's artifact root, from which local paths are checked.

    Returns
    -------
    ArtifactStore
        A ``LocalArtifactStore`` for local files, an ``HttpArtifactStore`` for
        the proxy, an ``S3ArtifactStore`` for S3.

    Raises
    ------
    InvalidValueError
        If the scheme is not supported.

    Examples
    --------
    >>> from mltrail.store._artifacts import open_artifact_store
    >>> type(open_artifact_store("/tmp/runs/1/abc/artifacts")).__name__
    'LocalArtifactStore'
    """
    scheme = urlparse(artifact_uri).scheme
    if scheme in ("", "file") or _DRIVE.match(artifact_uri):
        key = None if root is None else os.path.abspath(os.fspath(root))
        store = _local_stores.get(key)
        if store is None:
            store = _local_stores.setdefault(key, LocalArtifactStore(key))
        return store
    if scheme in ("mlflow-artifacts", "http", "https"):
        from mltrail._config import get_tracking_uri
        from mltrail.store._artifacts_http import HttpArtifactStore

        return HttpArtifactStore(get_tracking_uri())
    if scheme == "s3":
        from mltrail.store._artifacts_s3 import s3_artifact_store

        return s3_artifact_store()
    raise InvalidValueError(
        "artifact URI",
        artifact_uri,
        "a local path, a file://, s3://, mlflow-artifacts: or http(s):// URI",
        f"mltrail has no artifact store for {scheme}:// URIs.",
    )


def _current_root() -> str:
    """Return the artifact root of the store at the current tracking URI."""
    from mltrail._config import get_tracking_uri

    # The helper's store while it runs: this process need not open one itself.
    from mltrail._worker._store import open_store

    return str(open_store(get_tracking_uri()).artifact_root)


def local_artifact_path(
    artifact_uri: str, path: str | None, *, root: str | None = None
) -> Path:
    """Return the checked local path of a run's file, for code that works in place.

    Parameters
    ----------
    artifact_uri : str
        The run's artifact URI (a local path or ``file://`` URI).
    path : str or None
        The run-relative path.
    root : str or None, default=None
        The tracking store's artifact root; None for the store at the current
        tracking URI.

    Returns
    -------
    pathlib.Path
        The real path inside the trusted root; it may not exist yet.

    Raises
    ------
    InvalidValueError
        If ``path`` is unsafe or leads through a link out of the root.

    Examples
    --------
    >>> from mltrail.store._artifacts import local_artifact_path
    >>> uri = "/tmp/mltrail-doc/0/0123456789abcdef0123456789abcdef/artifacts"
    >>> local_artifact_path(uri, "model", root="/tmp/mltrail-doc").name
    'model'
    """
    store = LocalArtifactStore(_current_root() if root is None else root)
    return store.local_path(artifact_uri, path)


def publish_directory(target: Path, write: Callable[[Path], T]) -> T:
    """Fill a new folder with ``write(folder)``, then rename it to ``target`` at once.

    A process killed meanwhile leaves nothing under ``target`` (a model directory
    is either whole or absent). The folder is prepared in the staging folder of the
    run that ``target`` belongs to, else beside ``target`` under a hidden name.

    Parameters
    ----------
    target : pathlib.Path
        A checked path (see ``local_artifact_path``) that does not exist yet, or an
        empty directory.
    write : callable
        Called with the folder to fill; its result is returned.

    Returns
    -------
    object
        What ``write`` returned.

    Raises
    ------
    InvalidValueError
        If ``target`` exists and is not an empty directory.

    Examples
    --------
    >>> from pathlib import Path
    >>> from mltrail.store._artifacts import publish_directory
    >>> target = Path("/tmp/mltrail-doc/0/0123456789abcdef0123456789abcdef/artifacts/m")
    >>> publish_directory(target, lambda d: (d.mkdir(), (d / "a").write_text("a"))[1])
    1
    >>> sorted(p.name for p in target.iterdir())
    ['a']
    """
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidValueError(
            "path",
            str(target),
            "a directory that does not exist yet, or an empty one",
            "Choose a new path; mltrail never overwrites a saved model.",
        )
    staging = target.parent
    for folder in target.parents:
        if folder.name == "artifacts" and _RUN_ID.fullmatch(folder.parent.name):
            staging = folder.parent.parent / STAGING_NAME
            break
    with _file_errors(target.name):
        staging.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=".mltrail-", dir=staging))
    try:
        result = write(temporary / target.name)
        with _file_errors(target.name):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary / target.name, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return result
