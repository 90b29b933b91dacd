"""Task functions for the helper tests, importable by a helper process too."""

from __future__ import annotations

import os
import time
from pathlib import Path


class Unpicklable(Exception):
    """An exception that cannot be pickled: its class refuses."""

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("cannot pickle")

    def __str__(self) -> str:
        return "cannot travel"


def files(contents: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """Return ``contents`` as the task's files."""
    return list(contents.items())


def fail(message: str) -> list[tuple[str, bytes]]:
    """Raise ``OSError(message)``, or an exception that cannot travel."""
    if message == "unpicklable":
        raise Unpicklable
    raise OSError(message)


def pid_file(path: str) -> list[tuple[str, bytes]]:
    """Write this process's id to ``path``, atomically."""
    temporary = Path(f"{path}.{os.getpid()}.tmp")
    temporary.write_text(str(os.getpid()))
    temporary.replace(path)
    return []


def wait_for(path: str, timeout: float = 60.0) -> list[tuple[str, bytes]]:
    """Block until ``path`` exists (or the timeout passes); write no file."""
    deadline = time.monotonic() + timeout
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return []
