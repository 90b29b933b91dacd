"""Several small run files in one request to mltrail's server: a tar of plain files.

MLflow's artifact proxy takes one file per request, and an autologged run writes
about fifteen small ones at a time (the model's seven, the plots' data, the
pipeline). mltrail's server also takes such a group as one uncompressed tar,
``PUT /api/2.0/mltrail/artifacts/<directory>``: one request instead of fifteen,
for the client, the network and the server. The client sends a group this way when
it is small (``MAX_BATCH_BYTES``) and the server names ``artifact_batches`` in its
server-info; otherwise, to MLflow's server for one, it sends one ``PUT`` per file.

A batch holds regular files only. Each name is relative to the directory of the
request and goes through the same path check as a single file's; a link, a
folder, a device or a name that leaves the directory refuses the whole batch
before anything is written.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence

from mltrail._errors import InvalidValueError
from mltrail.store._paths import PATH_HINT, check_relative_path

__all__ = [
    "BATCH_CONTENT_TYPE",
    "BATCH_PATH",
    "MAX_BATCH_BODY",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_FILES",
    "pack",
    "unpack",
]

BATCH_PATH = "/api/2.0/mltrail/artifacts"
BATCH_CONTENT_TYPE = "application/x-tar"
# What a client puts in one batch; bigger groups go file by file, streamed.
MAX_BATCH_BYTES = 8 * 2**20
MAX_BATCH_FILES = 1000
# What the server reads into memory for one batch: the files plus tar headers.
MAX_BATCH_BODY = 2 * MAX_BATCH_BYTES


def pack(files: Sequence[tuple[str, bytes]]) -> bytes:
    """Return ``(relative path, content)`` pairs as one uncompressed tar.

    Examples
    --------
    >>> from mltrail.store._artifact_batch import pack, unpack
    >>> unpack(pack([("model/MLmodel", b"flavors: {}"), ("a.json", b"{}")]))
    [('model/MLmodel', b'flavors: {}'), ('a.json', b'{}')]
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack(body: bytes) -> list[tuple[str, bytes]]:
    """Return the files of a batch, or raise InvalidValueError for the whole batch.

    Every member must be a regular file whose name passes ``check_relative_path``
    and names a file (not the directory itself); at most ``MAX_BATCH_FILES``.
    """
    files: list[tuple[str, bytes]] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:") as archive:
            for member in archive:
                if len(files) == MAX_BATCH_FILES:
                    raise InvalidValueError(
                        "artifact batch",
                        f"more than {MAX_BATCH_FILES} files",
                        f"at most {MAX_BATCH_FILES} files",
                        "Send the files in several batches.",
                    )
                name = member.name
                if not member.isreg() or member.issparse():
                    raise InvalidValueError(
                        "artifact batch member",
                        name,
                        "a regular file (no link, folder, device or sparse file)",
                        "Put only the files' contents in the batch.",
                    )
                if not check_relative_path(name):
                    raise InvalidValueError(
                        "artifact batch member", name, "a relative file path", PATH_HINT
                    )
                content = archive.extractfile(member)
                files.append((name, content.read() if content is not None else b""))
    except InvalidValueError:
        raise
    except (tarfile.TarError, EOFError, ValueError, OverflowError) as exc:
        # A malformed header can fail in tarfile's parsing as well as its checks.
        raise InvalidValueError(
            "artifact batch",
            f"{len(body)} bytes",
            "an uncompressed tar of regular files",
            f"The body could not be read as one ({exc}).",
        ) from exc
    return files
