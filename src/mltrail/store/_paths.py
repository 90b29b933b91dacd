"""The one function that maps artifact paths to files, and what file errors mean.

Every path that reaches the filesystem for an artifact, whether it comes from a user,
a request or a stored URI, goes through ``resolve_artifact_path``: it refuses names
that could leave the trusted root (``..``, absolute, encoded and backslash forms, NUL)
and any symlink whose target lies outside it.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from mltrail._errors import InvalidValueError, MltrailError, StoreError

__all__ = [
    "PATH_HINT",
    "artifact_root_path",
    "check_relative_path",
    "is_inside",
    "resolve_artifact_path",
    "translate_os_error",
]

PATH_HINT = "Use a relative path with '/' separators, such as 'plots/roc.png'."
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


def check_relative_path(path: str) -> list[str]:
    """Return the parts of a relative artifact path, or raise InvalidValueError."""
    for form in _decoded_forms(path):
        if "\x00" in form:
            raise InvalidValueError(
                "artifact path", path, "free of NUL bytes", PATH_HINT
            )
        if "\\" in form:
            raise InvalidValueError(
                "artifact path", path, "free of backslashes", PATH_HINT
            )
        if form.startswith("/") or _DRIVE.match(form):
            raise InvalidValueError("artifact path", path, "a relative path", PATH_HINT)
        if ".." in form.split("/"):
            raise InvalidValueError(
                "artifact path", path, "a path that stays inside the run", PATH_HINT
            )
    return [part for part in path.split("/") if part not in ("", ".")]


def is_inside(root: str, candidate: str) -> bool:
    """Whether ``candidate`` is ``root`` or below it (both absolute and real)."""
    return candidate == root or candidate.startswith(root.rstrip(os.sep) + os.sep)


def resolve_artifact_path(root: str | os.PathLike[str], path: str | None) -> Path:
    """Return the file that the relative ``path`` names under ``root``.

    This is the only way a path from a user, a request or a stored URI reaches the
    filesystem. ``root`` is the trusted directory (the store's artifact root, an
    experiment's own location, or a server's artifact destination); everything
    below it, including the folders of experiments and runs, is checked.

    Parameters
    ----------
    root : str or os.PathLike
        The trusted directory; it may itself be a symlink (the administrator's
        choice), and is resolved once.
    path : str or None
        A relative path with ``/`` separators; None or ``""`` names the root itself.

    Returns
    -------
    pathlib.Path
        The absolute path, with symlinks resolved, inside the real ``root``. It may
        not exist yet.

    Raises
    ------
    InvalidValueError
        If ``path`` is not a str, is absolute, contains ``..`` (also percent-encoded),
        a backslash or a NUL byte, or leads through a symlink (anywhere below
        ``root``) whose target is outside ``root``.

    Examples
    --------
    >>> from mltrail.store._paths import resolve_artifact_path
    >>> resolve_artifact_path("/data/runs", "1/abc/artifacts/roc.png").as_posix()
    '/data/runs/1/abc/artifacts/roc.png'
    >>> resolve_artifact_path("/data/runs", "../secret")
    Traceback (most recent call last):
    ...
    mltrail._errors.InvalidValueError: artifact path must be a path that stays inside the run; got '../secret'. Use a relative path with '/' separators, such as 'plots/roc.png'.
    """  # noqa: E501
    if path is not None and not isinstance(path, str):
        raise InvalidValueError("artifact path", path, "a str or None", PATH_HINT)
    parts = check_relative_path(path) if path else []
    real_root = os.path.realpath(root)
    candidate = os.path.realpath(os.path.join(real_root, *parts))
    if not is_inside(real_root, candidate):
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


def translate_os_error(error: OSError, path: str | None) -> MltrailError:
    """Return the mltrail error for a failed file operation on artifact ``path``.

    The user's own mistakes (a file where a folder is needed, a name too long)
    become ``InvalidValueError``; the disk's state (full, read-only, no permission)
    becomes ``StoreError`` with a hint about that state.
    """
    shown = path if path else "(the run's root)"
    where = error.filename if isinstance(error.filename, str) else shown
    if isinstance(error, IsADirectoryError):
        return InvalidValueError(
            "artifact file",
            shown,
            "a file path, not an existing directory",
            "Write to a file name inside it, such as 'plots/roc.png'.",
        )
    if isinstance(error, NotADirectoryError | FileExistsError):
        return InvalidValueError(
            "artifact path",
            shown,
            "a path whose folders are not existing files",
            f"{where!r} is a file; choose another folder name.",
        )
    if error.errno == errno.ENAMETOOLONG:
        return InvalidValueError(
            "artifact path",
            shown,
            "a path whose names fit the file system (usually 255 bytes each)",
            "Use shorter file and folder names.",
        )
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(
            f"the disk holding {where!r} is full (or over quota); "
            f"artifact {shown!r} was not written. Free some space and try again."
        )
    if error.errno == errno.EROFS:
        return StoreError(
            f"the artifact folder {where!r} is on read-only media; artifact "
            f"{shown!r} was not written. Set MLTRAIL_ARTIFACT_ROOT to a writable "
            "folder."
        )
    if isinstance(error, PermissionError):
        return StoreError(
            f"no permission to write or read {where!r} (artifact {shown!r}). "
            "Check the folder's owner and mode, or set MLTRAIL_ARTIFACT_ROOT."
        )
    return StoreError(
        f"the file operation on artifact {shown!r} failed: {error.strerror or error} "
        f"({where!r})."
    )
