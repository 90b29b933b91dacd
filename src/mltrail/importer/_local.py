"""Read artifact files that an MLflow store keeps on the local disk, read-only."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from mltrail._errors import InvalidValueError, StoreError
from mltrail.importer._source import SourceFile

__all__ = ["CHUNK_SIZE", "LocalFiles", "local_path"]

CHUNK_SIZE = 1024 * 1024


def local_path(location: str) -> Path | None:
    """Return the folder of a ``file://`` URI or a path; None for other schemes."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or len(parsed.scheme) == 1:  # a path, or C:\...
        return Path(location)
    return None


class LocalFiles:
    """The files under artifact locations on this machine.

    ``relocate`` maps a location that is not on the disk (a store moved since it
    was written) to where its files are now, or returns None.
    """

    def __init__(self, relocate: Callable[[str], Path | None] | None = None) -> None:
        self._relocate = relocate

    def _folder(self, location: str) -> Path | None:
        folder = local_path(location)
        if folder is None:
            raise InvalidValueError(
                "artifact location",
                location,
                "a local path or file:// URI",
                "Files behind a server (mlflow-artifacts:) are read through it: "
                "import from the server's http(s):// URL instead; other stores "
                "(s3://, ...) are not read by mltrail import yet.",
            )
        if not folder.exists() and self._relocate is not None:
            folder = self._relocate(location) or folder
        return folder if folder.is_dir() else None

    def files(self, location: str) -> list[SourceFile]:
        """Return every file under ``location`` (none if it has no folder)."""
        folder = self._folder(location)
        if folder is None:
            return []
        found = []
        for top, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                path = Path(top, name)
                if path.is_symlink():
                    continue  # never follow a link out of the store
                found.append(
                    SourceFile(path.relative_to(folder).as_posix(), path.stat().st_size)
                )
        return found

    def read(self, location: str, path: str) -> Iterator[bytes]:
        """Yield the content of one file in chunks."""
        folder = self._folder(location)
        if folder is None:
            raise StoreError(f"artifact location {location!r} has no folder any more.")
        try:
            with open(folder / path, "rb") as file:
                while chunk := file.read(CHUNK_SIZE):
                    yield chunk
        except OSError as exc:
            raise StoreError(
                f"cannot read artifact {path!r} of {location}: {exc.strerror}. "
                "Check that the file is readable."
            ) from exc
