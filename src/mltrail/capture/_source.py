"""The source of the code that runs: a script's file, or a notebook or its history.

Only reads: ``sys.argv``, ``__main__`` and the files they name.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceInfo", "script_source"]

MAX_SOURCE_BYTES = 1_000_000
TRUNCATION_MARKER = "\n# [mltrail: source truncated after {shown} bytes]\n"
_NOTEBOOK_PATH_NAMES = ("__session__", "__vsc_ipynb_file__")
# How far the search of the kernel's folder for its notebook goes.
MAX_NOTEBOOKS_SEARCHED = 100
MAX_NOTEBOOK_BYTES = 20_000_000


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The code that a run executes.

    Parameters
    ----------
    path : str or None
        The absolute path of the script or notebook; None when only a kernel's
        input history is known.
    kind : str
        ``"script"``, ``"notebook"`` (the ``.ipynb`` file) or ``"history"`` (the
        notebook's executed cells, joined).
    text : str
        The source, cut at ``MAX_SOURCE_BYTES`` with a marker line.
    is_truncated : bool
        Whether ``text`` was cut.

    Examples
    --------
    >>> from mltrail.capture._source import SourceInfo
    >>> SourceInfo("/src/train.py", "script", "print(1)", False).name
    'train.py'
    """

    path: str | None
    kind: str
    text: str
    is_truncated: bool

    @property
    def name(self) -> str:
        """The file name, such as ``train.py``; ``"notebook"`` for a history."""
        return Path(self.path).name if self.path else "notebook"


def script_source(*, max_bytes: int = MAX_SOURCE_BYTES) -> SourceInfo | None:
    """Return the path and source of the running script or notebook.

    A script is found through ``__main__.__file__`` (else ``sys.argv[0]``). In a
    Jupyter kernel, the notebook file is found through ``__session__`` (set by
    Jupyter Server 2) or ``__vsc_ipynb_file__`` (VS Code) in the user namespace,
    or the ``JPY_SESSION_NAME`` environment variable, else as the one notebook in
    the kernel's working directory whose code cells are those the kernel ran, in
    order (``jupyter execute``, nbclient, papermill); when none is found, the
    kernel's executed cells are returned instead.

    Parameters
    ----------
    max_bytes : int, default=1_000_000
        Cut the source at this many bytes.

    Returns
    -------
    SourceInfo or None
        None in an interactive session, for ``python -c``, or when the file cannot
        be read.

    Examples
    --------
    >>> from mltrail.capture._source import script_source
    >>> info = script_source()
    >>> info is None or info.kind in {"script", "notebook", "history"}
    True
    """
    return source_of(
        sys.modules.get("__main__"),
        sys.argv,
        sys.modules,
        os.environ,
        max_bytes=max_bytes,
    )


def source_of(
    main: object | None,
    argv: list[str],
    modules: Mapping[str, object],
    environ: Mapping[str, str],
    *,
    max_bytes: int = MAX_SOURCE_BYTES,
) -> SourceInfo | None:
    """Find the source from the process state that :func:`script_source` reads."""
    if "ipykernel" in modules and main is not None and _is_kernel(main):
        return _notebook_source(main, environ, max_bytes)
    file = getattr(main, "__file__", None) if main is not None else None
    if not file:
        file = argv[0] if argv and argv[0] not in ("", "-c", "-") else None
    if not file:
        return None
    path = Path(file)
    if path.suffix not in (".py", ".pyw", ".ipynb", "") or not path.is_file():
        return None
    return _read_source(
        path, "notebook" if path.suffix == ".ipynb" else "script", max_bytes
    )


def _is_kernel(main: object) -> bool:
    """Tell whether ``__main__`` is an IPython kernel's user namespace."""
    namespace = getattr(main, "__dict__", {})
    return "get_ipython" in namespace or "In" in namespace


def _notebook_source(
    main: object, environ: Mapping[str, str], max_bytes: int
) -> SourceInfo | None:
    """Read the notebook file if it can be found, else join the kernel's history."""
    namespace = getattr(main, "__dict__", {})
    candidates = [namespace.get(name) for name in _NOTEBOOK_PATH_NAMES]
    candidates.append(environ.get("JPY_SESSION_NAME"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            # A path relative to the server's root is not relative to the kernel's
            # working directory, which is the notebook's own folder.
            for path in (Path(candidate), Path(Path(candidate).name)):
                if path.is_file():
                    return _read_source(path, "notebook", max_bytes)
    cells = namespace.get("In")
    if not isinstance(cells, list) or not any(isinstance(c, str) and c for c in cells):
        return None
    found = _notebook_of_cells(_raw_cells(namespace) or cells, Path.cwd())
    if found is not None:
        return _read_source(found, "notebook", max_bytes)
    text = "\n\n".join(
        f"# In[{number}]:\n{cell}"
        for number, cell in enumerate(cells)
        if isinstance(cell, str) and cell
    )
    return _capped(None, "history", text.encode("utf-8"), max_bytes)


def _raw_cells(namespace: Mapping[str, object]) -> list[str] | None:
    """Return the cells as typed (magics untransformed), from IPython's history."""
    get_ipython = namespace.get("get_ipython")
    try:
        shell = get_ipython() if callable(get_ipython) else None
        raw = shell.history_manager.input_hist_raw  # type: ignore[union-attr]
    except (AttributeError, TypeError):  # a shell without a raw history
        return None
    return list(raw) if isinstance(raw, list) else None


def _lines(text: str) -> tuple[str, ...]:
    """Return a cell's non-blank lines, without trailing white space."""
    stripped = (line.rstrip() for line in text.splitlines())
    return tuple(line for line in stripped if line)


def _notebook_of_cells(cells: Sequence[object], directory: Path) -> Path | None:
    """Find the one notebook in ``directory`` whose code cells the kernel ran.

    For kernels that nobody told their notebook's path (``jupyter execute``,
    nbclient, papermill, older Jupyter servers), whose working directory is the
    notebook's folder: every cell run so far must be a code cell of the notebook,
    in the notebook's order. None when no notebook, or more than one, matches.
    """
    ran = [_lines(cell) for cell in cells if isinstance(cell, str)]
    ran = [cell for cell in ran if cell]
    if not ran:
        return None
    matches = []
    try:
        paths = sorted(directory.glob("*.ipynb"))[:MAX_NOTEBOOKS_SEARCHED]
    except OSError:
        return None
    for path in paths:
        code = _code_cells(path)
        if code is not None and _is_subsequence(ran, code):
            matches.append(path)
    return matches[0] if len(matches) == 1 else None


def _code_cells(path: Path) -> list[tuple[str, ...]] | None:
    """Return the code cells of a notebook file; None if it is not one."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        notebook = json.loads(path.read_bytes())
        cells = notebook["cells"]
        code = []
        for cell in cells:
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                text = "".join(source) if isinstance(source, list) else str(source)
                code.append(_lines(text))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return code


def _is_subsequence(ran: list[tuple[str, ...]], code: list[tuple[str, ...]]) -> bool:
    remaining = iter(code)
    return all(any(cell == candidate for candidate in remaining) for cell in ran)


def _read_source(path: Path, kind: str, max_bytes: int) -> SourceInfo | None:
    """Read up to ``max_bytes`` of ``path``."""
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError:
        return None
    return _capped(str(path.resolve()), kind, data, max_bytes)


def _capped(path: str | None, kind: str, data: bytes, max_bytes: int) -> SourceInfo:
    """Cut ``data`` at ``max_bytes`` and decode it."""
    is_truncated = len(data) > max_bytes
    text = data[:max_bytes].decode("utf-8", "replace")
    if is_truncated:
        text += TRUNCATION_MARKER.format(shown=max_bytes)
    return SourceInfo(path=path, kind=kind, text=text, is_truncated=is_truncated)
