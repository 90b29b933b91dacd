"""Git state of the code that runs: commit, branch, remote, and uncommitted changes.

The commit, branch and remote come from reading ``.git`` files directly (no
subprocess, well under a millisecond). Only the uncommitted changes (dirty flag, diff,
untracked files) need ``git`` itself; :func:`git_changes` runs it, and is meant to run
off the calling thread.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# "user@host:path" (scp syntax): a host, then ':' not followed by '//'.
_SCP_REMOTE = re.compile(
    r"^(?:(?P<user>[^@/:]+(?::[^@/]*)?)@)?(?P<host>[^@/:]+):(?P<path>(?!//).*)$"
)

__all__ = ["GitChanges", "GitState", "git_changes", "git_state", "git_user_name"]

MAX_DIFF_BYTES = 1_000_000
MAX_UNTRACKED_FILES = 100
GIT_TIMEOUT_SECONDS = 10.0
SOURCE_SUFFIXES = frozenset(
    {
        ".py",
        ".pyx",
        ".pyi",
        ".ipynb",
        ".sql",
        ".r",
        ".sh",
        ".yaml",
        ".yml",
        ".toml",
        ".json",
        ".cfg",
        ".ini",
    }
)
TRUNCATION_MARKER = "\n[mltrail: diff truncated after {shown} bytes]\n"

_SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SECTION_RE = re.compile(r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')


@dataclass(frozen=True, slots=True)
class GitChanges:
    """The uncommitted changes of a working tree.

    Parameters
    ----------
    is_dirty : bool
        Whether any tracked file differs from the commit (staged or not). Untracked
        files alone do not make a tree dirty, as in ``git describe --dirty``.
    diff : str
        ``git diff HEAD`` (staged and unstaged changes to tracked files), cut at
        ``MAX_DIFF_BYTES`` with a marker line; empty when there is none.
    untracked_files : tuple of str
        Untracked (and not ignored) source files, relative to the repository root,
        at most ``MAX_UNTRACKED_FILES``.

    Examples
    --------
    >>> from mltrail.capture._git import GitChanges
    >>> GitChanges(False, "", ()).is_dirty
    False
    """

    is_dirty: bool
    diff: str
    untracked_files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GitState:
    """Where the running code comes from in git.

    Parameters
    ----------
    root : str
        The working tree's top directory.
    commit : str or None
        The full sha of ``HEAD``; None in a repository with no commit yet.
    branch : str or None
        The checked-out branch; None when ``HEAD`` is detached.
    remote_url : str or None
        The URL of ``origin`` (or of the first remote), without credentials.
    changes : GitChanges or None
        The uncommitted changes; None when they were not asked for or ``git`` could
        not report them.

    Examples
    --------
    >>> from mltrail.capture._git import GitState
    >>> GitState("/src/app", "a" * 40, "main", None, None).is_dirty is None
    True
    """

    root: str
    commit: str | None
    branch: str | None
    remote_url: str | None
    changes: GitChanges | None = None

    @property
    def is_dirty(self) -> bool | None:
        """Whether the working tree has uncommitted changes; None when unknown."""
        return None if self.changes is None else self.changes.is_dirty

    @property
    def diff(self) -> str | None:
        """The uncommitted diff (size-capped); None when unknown."""
        return None if self.changes is None else self.changes.diff

    @property
    def untracked_files(self) -> tuple[str, ...]:
        """Untracked source files relative to ``root``; empty when unknown."""
        return () if self.changes is None else self.changes.untracked_files


@dataclass(frozen=True, slots=True)
class _Repository:
    root: Path
    git_dir: Path
    common_dir: Path


def git_state(
    path: str | os.PathLike[str] = ".", *, changes: bool = True
) -> GitState | None:
    """Read the git state of the working tree that holds ``path``.

    Parameters
    ----------
    path : str or path-like, default="."
        A file or directory inside the working tree.
    changes : bool, default=True
        Also collect the uncommitted changes, which runs ``git status`` (and
        ``git diff`` when the tree is dirty) in a subprocess. Pass False on a hot
        path and call :func:`git_changes` from a background thread instead.

    Returns
    -------
    GitState or None
        None when ``path`` is not inside a git working tree.

    Examples
    --------
    >>> from mltrail.capture._git import git_state
    >>> git_state(".") is None  # the doctest runs outside any repository
    True
    """
    repository = _find_repository(Path(path))
    if repository is None:
        return None
    branch, commit = _read_head(repository)
    config = _read_config(repository.common_dir / "config")
    state = GitState(
        root=str(repository.root),
        commit=commit,
        branch=branch,
        remote_url=_remote_url(config),
    )
    if changes:
        state = replace(
            state, changes=git_changes(repository.root, has_commit=commit is not None)
        )
    return state


def git_changes(
    root: str | os.PathLike[str],
    *,
    has_commit: bool = True,
    max_diff_bytes: int = MAX_DIFF_BYTES,
) -> GitChanges | None:
    """Collect the uncommitted changes of a working tree with ``git``.

    Runs ``git status`` once and, only when tracked files changed, ``git diff HEAD``.
    Neither takes git's index lock, so this is safe next to the user's own git
    commands and from a background thread.

    Parameters
    ----------
    root : str or path-like
        The working tree's top directory (``GitState.root``).
    has_commit : bool, default=True
        False in a repository with no commit yet, where there is no diff to take.
    max_diff_bytes : int, default=1_000_000
        Cut the diff at this size and append a marker line.

    Returns
    -------
    GitChanges or None
        None when ``git`` is not installed, fails, or ``root`` is not a working tree.

    Examples
    --------
    >>> from mltrail.capture._git import git_changes
    >>> git_changes(".") is None  # the doctest runs outside any repository
    True
    """
    git = shutil.which("git")
    if git is None:
        return None
    status = _run_git(
        git, root, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]
    )
    if status is None:
        return None
    tracked_changed = False
    untracked: list[str] = []
    entries = status.split(b"\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:].decode("utf-8", "surrogateescape")
        if code == b"??":
            if (
                Path(name).suffix.lower() in SOURCE_SUFFIXES
                and len(untracked) < MAX_UNTRACKED_FILES
            ):
                untracked.append(name)
            continue
        tracked_changed = True
        if code[:1] in (b"R", b"C"):
            index += 1  # a rename or copy is followed by its source path
    diff = ""
    if tracked_changed and has_commit:
        diff = _run_diff(git, root, max_diff_bytes)
    return GitChanges(
        is_dirty=tracked_changed, diff=diff, untracked_files=tuple(untracked)
    )


def git_user_name(
    path: str | os.PathLike[str] = ".", *, environ: Mapping[str, str] | None = None
) -> str | None:
    """Return git's ``user.name`` for ``path``: the repository's, else the global one.

    Parameters
    ----------
    path : str or path-like, default="."
        A file or directory; its repository's config is read first, if it has one.
    environ : mapping, optional
        The environment (default ``os.environ``), for ``GIT_CONFIG_GLOBAL``,
        ``XDG_CONFIG_HOME`` and ``HOME``.

    Returns
    -------
    str or None
        None when no config sets a non-empty ``user.name``.

    Examples
    --------
    >>> from mltrail.capture._git import git_user_name
    >>> git_user_name(".", environ={"GIT_CONFIG_GLOBAL": "/nonexistent"}) is None
    True
    """
    env = os.environ if environ is None else environ
    candidates: list[Path] = []
    repository = _find_repository(Path(path))
    if repository is not None:
        candidates.append(repository.git_dir / "config.worktree")
        candidates.append(repository.common_dir / "config")
    candidates.extend(_global_config_paths(env))
    for candidate in candidates:
        name = _read_config(candidate).get(("user", None, "name"))
        if name:
            return name
    return None


def strip_credentials(url: str) -> str:
    """Remove every place a remote URL can carry a secret.

    The user name and password (a token is often the user name), the whole query
    (``?private_token=...``, ``?access_token=...``) and the fragment go; an scp-like
    remote (``user@host:path``) keeps only the conventional ``git@``.
    """
    parts = urlsplit(url)
    if "://" in url and parts.scheme != "file":
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    scp = _SCP_REMOTE.match(url)
    if scp is not None:
        user, host, path = scp.group("user", "host", "path")
        path = path.split("?", 1)[0].split("#", 1)[0]
        return f"{'git@' if user == 'git' else ''}{host}:{path}"
    return url


def _find_repository(start: Path) -> _Repository | None:
    """Walk up from ``start`` to the first directory holding a ``.git``."""
    try:
        current = start.resolve()
    except OSError:
        return None
    if not current.is_dir():
        current = current.parent
    for directory in (current, *current.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():
            git_dir_or_none = _read_gitdir_file(dot_git)
            if git_dir_or_none is None:
                continue
            git_dir = git_dir_or_none
        else:
            continue
        if not (git_dir / "HEAD").is_file():
            continue
        return _Repository(directory, git_dir, _common_dir(git_dir))
    return None


def _read_gitdir_file(dot_git: Path) -> Path | None:
    """Follow a ``.git`` file (worktree, submodule) to its git directory."""
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text.removeprefix("gitdir:").strip())
    if not target.is_absolute():
        target = dot_git.parent / target
    return target.resolve()


def _common_dir(git_dir: Path) -> Path:
    """Find the directory that all worktrees share: refs, packed-refs, config."""
    try:
        text = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    common = Path(text)
    return (common if common.is_absolute() else git_dir / common).resolve()


def _read_head(repository: _Repository) -> tuple[str | None, str | None]:
    """Return (branch, commit) from ``HEAD``; branch is None when detached."""
    try:
        head = (repository.git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None, None
    if not head.startswith("ref:"):
        return None, head if _SHA_RE.match(head) else None
    ref = head.removeprefix("ref:").strip()
    branch = ref.removeprefix("refs/heads/")
    return branch, _resolve_ref(repository, ref)


def _resolve_ref(repository: _Repository, ref: str, depth: int = 0) -> str | None:
    """Resolve a ref to a sha through loose refs, then ``packed-refs``."""
    if depth > 5:
        return None
    for directory in (repository.git_dir, repository.common_dir):
        try:
            value = (directory / ref).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if value.startswith("ref:"):
            return _resolve_ref(
                repository, value.removeprefix("ref:").strip(), depth + 1
            )
        return value if _SHA_RE.match(value) else None
    try:
        packed = (repository.common_dir / "packed-refs").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _SHA_RE.match(sha):
            return sha
    return None


def _read_config(path: Path) -> dict[tuple[str, str | None, str], str]:
    """Parse a git config file into {(section, subsection, key): last value}."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    values: dict[tuple[str, str | None, str], str] = {}
    section: str | None = None
    subsection: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            match = _SECTION_RE.match(line)
            if match is None:
                section = None
                continue
            name = match.group(1).lower()
            subsection = match.group(2)
            if subsection is None and "." in name:  # the old [section.subsection] form
                name, subsection = name.split(".", 1)
            elif subsection is not None:
                subsection = re.sub(r"\\(.)", r"\1", subsection)
            section = name
            line = line[match.end() :].strip()
            if not line:
                continue
        if section is None:
            continue
        key, sep, value = line.partition("=")
        values[(section, subsection, key.strip().lower())] = (
            _config_value(value) if sep else "true"
        )
    return values


def _config_value(raw: str) -> str:
    """Unquote a config value and drop a trailing comment."""
    out: list[str] = []
    quoted = False
    index = 0
    raw = raw.strip()
    while index < len(raw):
        char = raw[index]
        if char == '"':
            quoted = not quoted
        elif char == "\\" and index + 1 < len(raw):
            index += 1
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(raw[index], raw[index]))
        elif char in "#;" and not quoted:
            break
        else:
            out.append(char)
        index += 1
    return "".join(out).strip() if not quoted else "".join(out)


def _remote_url(config: Mapping[tuple[str, str | None, str], str]) -> str | None:
    """Return the URL of ``origin`` (else the first remote) without credentials."""
    url = config.get(("remote", "origin", "url"))
    if url is None:
        url = next(
            (
                value
                for (sec, _, key), value in config.items()
                if sec == "remote" and key == "url"
            ),
            None,
        )
    return None if url is None else strip_credentials(url)


def _global_config_paths(environ: Mapping[str, str]) -> list[Path]:
    """Git's global config files, highest precedence first."""
    explicit = environ.get("GIT_CONFIG_GLOBAL")
    if explicit:
        return [Path(explicit)]
    paths: list[Path] = []
    home = environ.get("HOME")
    if home:
        paths.append(Path(home) / ".gitconfig")
    xdg = environ.get("XDG_CONFIG_HOME") or (
        str(Path(home) / ".config") if home else ""
    )
    if xdg:
        paths.append(Path(xdg) / "git" / "config")
    return paths


def _git_environment() -> dict[str, str]:
    """Build the environment for git: no optional locks, no pager, C locale."""
    env = dict(os.environ)
    env.update({"GIT_OPTIONAL_LOCKS": "0", "GIT_PAGER": "cat", "LC_ALL": "C"})
    return env


def _run_git(git: str, root: str | os.PathLike[str], args: list[str]) -> bytes | None:
    """Run one read-only git command; None when it fails."""
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [git, "--no-optional-locks", "-C", os.fspath(root), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env=_git_environment(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout if completed.returncode == 0 else None


def _run_diff(git: str, root: str | os.PathLike[str], max_bytes: int) -> str:
    """``git diff HEAD``, read up to ``max_bytes``; git is stopped past that."""
    command = [git, "--no-optional-locks", "-C", os.fspath(root), "diff"]
    command += ["--no-color", "--no-ext-diff", "HEAD"]
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_git_environment(),
        )
    except OSError:
        return ""
    with process:
        data = process.stdout.read(max_bytes + 1) if process.stdout else b""
        truncated = len(data) > max_bytes
        if truncated:
            process.kill()
        try:
            process.wait(timeout=GIT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            return ""
    if not truncated and process.returncode != 0:
        return ""
    text = data[:max_bytes].decode("utf-8", "replace")
    if truncated:
        text += TRUNCATION_MARKER.format(shown=max_bytes)
    return text
