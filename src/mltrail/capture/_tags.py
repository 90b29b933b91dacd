"""Tags every run gets: who ran it, for which project, where, and the user's own tags.

Automatic tags come from git, ``pyproject.toml`` and the machine; business tags from
``MLTRAIL_TAGS`` and ``[tool.mltrail.tags]``. Nothing here writes anything.
"""

from __future__ import annotations

import getpass
import os
import platform
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mltrail._errors import InvalidValueError
from mltrail._system_tags import AUTHOR_TAG, HOST_TAG, PROJECT_TAG, PYTHON_VERSION_TAG
from mltrail.capture._git import (
    _find_repository,
    _read_config,
    _remote_url,
    git_user_name,
)

__all__ = ["automatic_tags", "business_tags"]

TAGS_VARIABLE = "MLTRAIL_TAGS"

# The characters MLflow accepts in a tag key.
_KEY_RE = re.compile(r"^[\w\-. /]+$")


def automatic_tags(cwd: str | os.PathLike[str] = ".") -> dict[str, str]:
    """Return the tags mltrail puts on every run: author, project, host, Python.

    The author is git's ``user.name``, else the operating system's user. The
    project is the git repository's name (from the ``origin`` remote, else the
    repository's directory), else the ``[project].name`` of the nearest
    ``pyproject.toml``, else the name of ``cwd``.

    Parameters
    ----------
    cwd : str or path-like, default="."
        The directory the run starts from.

    Returns
    -------
    dict of str to str
        Keys ``mlflow.mltrail.author``, ``mlflow.mltrail.project``,
        ``mlflow.mltrail.host`` and ``mlflow.mltrail.python_version``.

    Examples
    --------
    >>> import platform
    >>> from mltrail.capture._tags import automatic_tags
    >>> tags = automatic_tags(".")
    >>> sorted(key.removeprefix("mlflow.mltrail.") for key in tags)
    ['author', 'host', 'project', 'python_version']
    >>> tags["mlflow.mltrail.python_version"] == platform.python_version()
    True
    """
    directory = Path(cwd).resolve()
    return {
        AUTHOR_TAG: git_user_name(directory) or _os_user(),
        PROJECT_TAG: _project_name(directory),
        HOST_TAG: socket.gethostname(),
        PYTHON_VERSION_TAG: platform.python_version(),
    }


def business_tags(
    environ: Mapping[str, str], cwd: str | os.PathLike[str] = "."
) -> dict[str, str]:
    """Return the user's own tags from ``MLTRAIL_TAGS`` and ``pyproject.toml``.

    ``MLTRAIL_TAGS`` holds comma-separated ``key=value`` pairs, such as
    ``"ticket=ML-1234,team=risk"``. The nearest ``pyproject.toml`` (in ``cwd`` or a
    parent) may hold a ``[tool.mltrail.tags]`` table of strings. The environment
    wins when both set a key.

    Parameters
    ----------
    environ : mapping of str to str
        The environment, usually ``os.environ``.
    cwd : str or path-like, default="."
        Where to start looking for ``pyproject.toml``.

    Returns
    -------
    dict of str to str
        The tags; empty when neither source sets any.

    Raises
    ------
    InvalidValueError
        If ``MLTRAIL_TAGS`` has an item without ``=`` or with an empty or invalid
        key, or if ``pyproject.toml`` does not parse or its table holds a value that
        is not a string.

    Examples
    --------
    >>> from mltrail.capture._tags import business_tags
    >>> business_tags({"MLTRAIL_TAGS": "ticket=ML-1234, team=risk"}, ".")
    {'ticket': 'ML-1234', 'team': 'risk'}
    """
    tags = _pyproject_tags(Path(cwd))
    tags.update(_environment_tags(environ.get(TAGS_VARIABLE, "")))
    return tags


def _os_user() -> str:
    """Return the operating system's user name, or ``"unknown"``."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or passwd
        return "unknown"


def _project_name(directory: Path) -> str:
    """Name the project: git remote, git directory, pyproject name, then cwd."""
    repository = _find_repository(directory)
    if repository is not None:
        remote = _remote_url(_read_config(repository.common_dir / "config"))
        name = _repository_name(remote) if remote else None
        if name:
            return name
        # The main working tree's directory, also for a linked worktree.
        if repository.common_dir.name == ".git":
            return repository.common_dir.parent.name
        return repository.root.name
    pyproject = _nearest_pyproject(directory)
    if pyproject is not None:
        try:
            name = _load_toml(pyproject).get("project", {}).get("name")
        except InvalidValueError:
            name = None
        if isinstance(name, str) and name:
            return name
    return directory.name or str(directory)


def _repository_name(url: str) -> str | None:
    """Return ``repo`` from ``https://host/o/repo.git`` or ``git@host:o/repo``."""
    path = urlsplit(url).path if "://" in url else url.rpartition(":")[2]
    name = path.rstrip("/").rpartition("/")[2].removesuffix(".git")
    return name or None


def _nearest_pyproject(directory: Path) -> Path | None:
    """Find ``pyproject.toml`` in ``directory`` or its closest parent."""
    start = directory.resolve()
    for candidate in (start, *start.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def _load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, naming it in the error when it does not parse."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValueError(
            f"the TOML file {str(path)!r}",
            str(exc),
            "valid TOML",
            "Fix the syntax error it points at.",
        ) from exc


def _pyproject_tags(directory: Path) -> dict[str, str]:
    """Read ``[tool.mltrail.tags]`` from the nearest ``pyproject.toml``."""
    path = _nearest_pyproject(directory)
    if path is None:
        return {}
    table = _load_toml(path).get("tool", {}).get("mltrail", {}).get("tags", {})
    where = f"[tool.mltrail.tags] in {str(path)!r}"
    if not isinstance(table, dict):
        raise InvalidValueError(
            where, table, "a table", 'Write it as [tool.mltrail.tags] team = "risk".'
        )
    tags: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise InvalidValueError(
                f"tag {key!r} of {where}",
                value,
                "a string",
                f'Quote the value: {key} = "{value}".',
            )
        tags[_checked_key(key, where)] = value
    return tags


def _environment_tags(text: str) -> dict[str, str]:
    """Parse ``MLTRAIL_TAGS``: comma-separated ``key=value`` pairs."""
    tags: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidValueError(
                f"the item {item.strip()!r} of {TAGS_VARIABLE}",
                text,
                "comma-separated key=value pairs",
                'Write it as MLTRAIL_TAGS="ticket=ML-1234,team=risk".',
            )
        tags[_checked_key(key.strip(), TAGS_VARIABLE)] = value.strip()
    return tags


def _checked_key(key: str, where: str) -> str:
    """Return ``key`` if MLflow accepts it as a tag key, else raise."""
    if not key or not _KEY_RE.match(key) or len(key) > 250:
        raise InvalidValueError(
            f"a tag key in {where}",
            key,
            "a non-empty name of letters, digits, '_', '-', '.', ' ' or '/'",
            "Rename the tag, for example 'team' or 'ticket'.",
        )
    return key
