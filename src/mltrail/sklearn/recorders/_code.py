"""What a run records about where it comes from: tags, the script's source and git.

``on_run_start`` runs once per run autologging writes to. The cheap parts (tags,
source, commit, branch, remote) are computed once per process, rechecked with a
``stat`` or two, and written on the calling thread in one batch; ``git status`` and
``git diff`` run on the background worker, which writes the dirty flag, the diff and
the untracked files list.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import (
    GIT_BRANCH_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    GIT_REPO_URL_TAG,
    SOURCE_KIND_TAG,
    SOURCE_NAME_TAG,
    SOURCE_PATH_TAG,
    SOURCE_TYPE_TAG,
)

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import RunStarted

__all__ = [
    "DIFF_ARTIFACT",
    "SOURCE_DIRECTORY",
    "UNTRACKED_ARTIFACT",
    "code_tags",
    "on_run_start",
    "on_run_started",
    "validate_config_tags",
]

SOURCE_DIRECTORY = "code"
DIFF_ARTIFACT = "code/uncommitted.diff"
UNTRACKED_ARTIFACT = "code/untracked.txt"
HISTORY_FILE_NAME = "notebook_history.py"
NOTEBOOK_SOURCE_TYPE = "NOTEBOOK"  # MLflow's SourceType for a notebook
# ``git status`` results are reused this long while HEAD and the index are
# unchanged, so a loop of short fits does not start a subprocess per fit.
CHANGES_TTL_SECONDS = 2.0
# Runs already given these tags; bounded, since only the recent ones matter.
MAX_REMEMBERED_RUNS = 10_000

_lock = threading.Lock()
_started_runs: dict[str, None] = {}
# Caches: key -> (validity stamp, value).
_automatic: dict[str, dict[str, str]] = {}
_business: dict[tuple[str, str], tuple[object, dict[str, str]]] = {}
_source: dict[str, tuple[object, Any]] = {}
_git: dict[str, tuple[object, Any]] = {}
_changes: dict[str, tuple[object, float, Any]] = {}


def _option(config: object, name: str) -> bool:
    return bool(getattr(config, name, True))


def _stamp(*paths: Path) -> tuple[int, ...]:
    """``mtime_ns`` of each path (-1 when missing): a cheap has-it-changed check."""
    stamps = []
    for path in paths:
        try:
            stamps.append(path.stat().st_mtime_ns)
        except OSError:
            stamps.append(-1)
    return tuple(stamps)


def validate_config_tags(cwd: str | os.PathLike[str] = ".") -> dict[str, str]:
    """Read the business tags now, so that a malformed one fails at ``autolog()``.

    Raises ``InvalidValueError`` naming the bad item of ``MLTRAIL_TAGS`` or of
    ``[tool.mltrail.tags]`` in the nearest ``pyproject.toml``.
    """
    return dict(_business_tags(Path(cwd)))


def _business_tags(directory: Path) -> dict[str, str]:
    from mltrail.capture._tags import TAGS_VARIABLE, _nearest_pyproject, business_tags

    key = (str(directory), os.environ.get(TAGS_VARIABLE, ""))
    pyproject = _nearest_pyproject(directory)
    stamp = (pyproject, _stamp(pyproject) if pyproject else None)
    cached = _business.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    tags = business_tags(os.environ, directory)
    _business[key] = (stamp, tags)
    return tags


def _automatic_tags(directory: Path) -> dict[str, str]:
    from mltrail.capture._tags import automatic_tags

    key = str(directory)
    tags = _automatic.get(key)
    if tags is None:
        tags = _automatic[key] = automatic_tags(directory)
    return tags


def _script_source() -> Any:
    """Return the running script's or notebook's source, reread when a file changed.

    The cache is keyed by the entry point (``__main__.__file__``, else
    ``sys.argv[0]``) and checked against the ``mtime`` of both the entry point and
    the file read: in a Jupyter kernel the entry point is ``ipykernel_launcher.py``,
    which stays the same while the notebook is saved again and again.
    """
    from mltrail.capture._source import script_source

    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    key = str(file)
    stamp: object = _stamp(Path(file)) if file else None
    cached = _source.get(key)
    if cached is not None and stamp is not None:
        cached_stamp, cached_info = cached
        if cached_stamp == (stamp, _read_stamp(cached_info)):
            return cached_info
    info = script_source()
    if info is not None and info.path is not None and _is_installed(info.path):
        info = None  # ``python -m tool``: the tool's code, not the user's
    if info is None or info.kind != "history":  # a kernel's history keeps growing
        _source[key] = ((stamp, _read_stamp(info)), info)
    return info


def _read_stamp(info: Any) -> tuple[int, ...] | None:
    """``mtime`` of the file a source was read from, None for none."""
    return None if info is None or info.path is None else _stamp(Path(info.path))


def _is_installed(path: str) -> bool:
    """Tell whether ``path`` belongs to the Python installation or a package."""
    parts = Path(path).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return any(path.startswith(os.path.join(prefix, "")) for prefix in prefixes)


def _git_state(directory: Path) -> Any:
    """Commit, branch and remote, reread only when HEAD, refs or config changed."""
    from mltrail.capture._git import git_state

    key = str(directory)
    cached = _git.get(key)
    if cached is not None:
        state = cached[1]
        if state is None or cached[0] == _git_stamp(Path(state.root)):
            return state
    state = git_state(directory, changes=False)
    stamp = _git_stamp(Path(state.root)) if state is not None else None
    # A directory outside any repository stays outside: cache the None as well.
    _git[key] = (stamp, state)
    return state


def _git_stamp(root: Path) -> tuple[int, ...] | None:
    dot_git = root / ".git"
    if not dot_git.is_dir():
        return None  # a worktree or submodule: no cheap check, read it each time
    return _stamp(
        dot_git / "HEAD", dot_git / "index", dot_git / "config", dot_git / "refs/heads"
    )


def code_tags(state: Any, source: Any) -> dict[str, str]:
    """Return the git and source tags of a run (no subprocess)."""
    tags: dict[str, str] = {}
    if source is not None:
        if source.path is not None:
            tags[SOURCE_PATH_TAG] = source.path
        tags[SOURCE_KIND_TAG] = source.kind
        if source.kind == "notebook" and source.path is not None:
            # MLflow's own tags name the kernel's launcher script otherwise.
            tags[SOURCE_NAME_TAG] = source.path
            tags[SOURCE_TYPE_TAG] = NOTEBOOK_SOURCE_TYPE
    if state is not None:
        if state.commit is not None:
            tags[GIT_COMMIT_TAG] = state.commit
        if state.branch is not None:
            tags[GIT_BRANCH_TAG] = state.branch
        if state.remote_url is not None:
            tags[GIT_REPO_URL_TAG] = state.remote_url
    return tags


def _source_file_name(source: Any) -> str:
    name = source.name
    return HISTORY_FILE_NAME if source.kind == "history" else name


def _remember(run_id: str) -> bool:
    """Mark ``run_id`` as started; False if it already was."""
    with _lock:
        if run_id in _started_runs:
            return False
        _started_runs[run_id] = None
        while len(_started_runs) > MAX_REMEMBERED_RUNS:
            del _started_runs[next(iter(_started_runs))]
        return True


def on_run_started(event: RunStarted) -> list[str]:
    """Record what :func:`on_run_start` records, on the run the event names."""
    return on_run_start(event.run_id, event.config)


def on_run_start(run_id: str, config: object) -> list[str]:
    """Record tags, the script's source and git state on a run autologging uses.

    Call it once a run exists: right after autolog creates one, and the first time
    autolog logs into a user's run (a second call for the same run does nothing).
    Options read from ``config``: ``log_tags`` (author, project, host, Python and
    business tags) and ``log_code`` (source, git tags, diff, untracked files); both
    default to True when ``config`` lacks them. Returns the problems met (one line
    each); nothing raises.
    """
    if not _remember(run_id):
        return []
    try:
        _record(run_id, config)
    except Exception as exc:  # autolog must never break the user's fit
        return [f"code and tags: {type(exc).__name__}: {exc}"]
    return []


def _record(run_id: str, config: object) -> None:
    from mltrail.sklearn.shared import _background

    log_tags, log_code = _option(config, "log_tags"), _option(config, "log_code")
    if not (log_tags or log_code):
        return
    directory = Path.cwd()
    tags: dict[str, str] = {}
    if log_tags:
        tags.update(_automatic_tags(directory))
        tags.update(_business_tags(directory))
    files: list[tuple[str, bytes]] = []
    state = None
    if log_code:
        source = _script_source()
        where = Path(source.path).parent if source and source.path else directory
        state = _git_state(where)
        tags.update(code_tags(state, source))
        if source is not None:
            name = _source_file_name(source)
            files.append((f"{SOURCE_DIRECTORY}/{name}", source.text.encode("utf-8")))
    client = _background.client_of(run_id)
    if tags:
        from mltrail._entities import RunTag

        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    if files:
        # Read now (the file may change), written by the background thread: on a
        # server it is a round trip that the user's fit need not wait for.
        _background.submit(run_id, lambda: files, name="source")
    if state is not None:
        root, has_commit = state.root, state.commit is not None
        _background.submit(
            run_id, lambda: _log_changes(run_id, root, has_commit), name="git changes"
        )


def _cached_changes(root: str, has_commit: bool) -> Any:
    from mltrail.capture._git import git_changes

    stamp = (_git_stamp(Path(root)), has_commit)
    now = time.monotonic()
    cached = _changes.get(root)
    if (
        cached is not None
        and cached[0] == stamp
        and now - cached[1] < (CHANGES_TTL_SECONDS)
    ):
        return cached[2]
    changes = git_changes(root, has_commit=has_commit)
    _changes[root] = (stamp, now, changes)
    return changes


def _log_changes(
    run_id: str, root: str, has_commit: bool
) -> Iterable[tuple[str, bytes]]:
    """Background job: the dirty flag as a tag, the diff and untracked files."""
    from mltrail._entities import RunTag
    from mltrail.sklearn.shared import _background

    changes = _cached_changes(root, has_commit)
    if changes is None:
        return []
    _background.client_of(run_id).log_batch(
        run_id, tags=[RunTag(GIT_DIRTY_TAG, "true" if changes.is_dirty else "false")]
    )
    files = []
    if changes.diff:
        files.append((DIFF_ARTIFACT, changes.diff.encode("utf-8", "surrogateescape")))
    artifacts = _background.client_of(run_id)._store.artifact_root
    untracked = _outside_artifact_root(root, changes.untracked_files, artifacts)
    if untracked:
        text = "\n".join(untracked) + "\n"
        files.append((UNTRACKED_ARTIFACT, text.encode("utf-8", "surrogateescape")))
    return files


def _outside_artifact_root(
    root: str, names: Iterable[str], artifact_root: str
) -> list[str]:
    """Leave out the files mltrail itself wrote: the code copies of earlier runs."""
    artifacts = Path(artifact_root).resolve()
    return [
        name
        for name in names
        if not (Path(root, name).resolve().is_relative_to(artifacts))
    ]


def reset() -> None:
    """Forget every cache and started run (for tests)."""
    with _lock:
        _started_runs.clear()
    for cache in (_automatic, _business, _source, _git, _changes):
        cache.clear()
