"""The local spool: writes kept on disk while a tracking server cannot be reached.

When a write (a batch of metrics, params and tags, a run's end, its inputs) fails
because the server is unreachable, ``RestStore`` appends the request to a spool file
and carries on; nothing logged is lost. The next successful call to the same server
sends the spooled requests first, in order; ``mltrail sync`` sends what is left
after the process ended.

Files live in ``MLTRAIL_SPOOL_DIR`` (default ``~/.cache/mltrail/spool``), one folder
per server, one file per process (``<pid>-<random>.jsonl``, from ``spool_of``: every
store of the process appends to it, in the order the writes were made), one JSON
request per line, flushed and synced as written. A sender claims a file by
renaming it, so two processes never send the same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mltrail._errors import MltrailError, StoreError

__all__ = [
    "Spool",
    "SpooledRequest",
    "spool_directory",
    "spool_of",
    "spooled_servers",
]

SpooledRequest = dict[str, Any]  # {"method", "path", "fields"}
_CLAIMED = ".sending"


def _root() -> Path:
    return Path(
        os.environ.get("MLTRAIL_SPOOL_DIR")
        or os.path.join(os.path.expanduser("~"), ".cache", "mltrail", "spool")
    )


def spool_directory(base_url: str) -> Path:
    """Return the spool folder of one server URL."""
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:16]
    return _root() / digest


def spooled_servers() -> list[str]:
    """Return the servers that have spooled requests waiting, sorted."""
    root = _root()
    if not root.is_dir():
        return []
    servers = []
    for folder in root.iterdir():
        marker = folder / "server.txt"
        if marker.is_file() and not Spool(marker.read_text().strip()).is_empty():
            servers.append(marker.read_text().strip())
    return sorted(servers)


_spools_lock = threading.Lock()
_spools: dict[Path, Spool] = {}


def spool_of(base_url: str) -> Spool:
    """Return this process's spool of one server: its writes stay in one file."""
    directory = spool_directory(base_url)
    with _spools_lock:
        spool = _spools.get(directory)
        if spool is None:
            spool = _spools[directory] = Spool(base_url)
    return spool


class Spool:
    """The spooled requests of one server.

    Parameters
    ----------
    base_url : str
        The server; its spool folder is ``spool_directory(base_url)``.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.directory = spool_directory(base_url)
        self._lock = threading.Lock()
        self._file: Path | None = None
        self._pid = os.getpid()

    def _own_file(self) -> Path:
        if self._file is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / "server.txt").write_text(self.base_url + "\n")
            self._file = self.directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        return self._file

    def append(self, method: str, path: str, fields: Mapping[str, Any]) -> None:
        """Keep one request on disk, durably, after the ones already kept."""
        line = json.dumps({"method": method, "path": path, "fields": dict(fields)})
        with self._lock:
            try:
                with open(self._own_file(), "a", encoding="utf-8") as file:
                    file.write(line + "\n")
                    file.flush()
                    os.fsync(file.fileno())
            except OSError as exc:
                raise StoreError(
                    f"the tracking server is unreachable and the spool folder "
                    f"{self.directory} cannot be written ({exc}); set "
                    "MLTRAIL_SPOOL_DIR to a writable folder."
                ) from exc

    def pending(self) -> list[Path]:
        """Return the spool files waiting to be sent, oldest first."""
        if not self.directory.is_dir():
            return []
        files = [
            path
            for path in self.directory.iterdir()
            if path.suffix == ".jsonl" and not path.name.endswith(_CLAIMED + ".jsonl")
        ]
        return sorted(files, key=lambda path: path.stat().st_mtime_ns)

    def is_empty(self) -> bool:
        """Whether nothing waits to be sent."""
        return not self.pending()

    def send(self, deliver: Callable[[SpooledRequest], None]) -> int:
        """Send every spooled request with ``deliver``, in order; return the count.

        A file is claimed by renaming it first. If ``deliver`` raises
        ``StoreError`` (the server is gone again), the unsent requests go back to
        a spool file and the error is raised. A request the server refuses for good
        (any other mltrail error) is skipped and kept in ``rejected.log``.
        """
        sent = 0
        with self._lock:
            if self._file is not None and self._file.exists():
                self._file = None  # later appends go to a new file, after these
            for path in self.pending():
                claimed = path.with_name(path.stem + _CLAIMED + ".jsonl")
                try:
                    os.replace(path, claimed)
                except FileNotFoundError:
                    continue  # another process claimed it
                requests = list(_read(claimed))
                for index, request in enumerate(requests):
                    try:
                        deliver(request)
                    except StoreError:
                        self._put_back(path, requests[index:])
                        claimed.unlink()
                        raise
                    except MltrailError as exc:
                        self._reject(request, exc)
                    sent += 1
                claimed.unlink()
        return sent

    def _put_back(self, path: Path, requests: list[SpooledRequest]) -> None:
        with open(path, "w", encoding="utf-8") as file:
            for request in requests:
                file.write(json.dumps(request) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def _reject(self, request: SpooledRequest, error: MltrailError) -> None:
        with open(self.directory / "rejected.log", "a", encoding="utf-8") as file:
            file.write(json.dumps({**request, "error": str(error)}) + "\n")


def _read(path: Path) -> Iterator[SpooledRequest]:
    with open(path, encoding="utf-8") as file:
        for line in file:
            if line.strip():
                with contextlib.suppress(ValueError):  # a line cut by a crash
                    yield json.loads(line)
