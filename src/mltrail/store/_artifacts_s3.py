"""Run files in S3 (or an S3-compatible service): ``s3://bucket/prefix`` URIs.

The endpoint comes from ``MLTRAIL_S3_ENDPOINT_URL`` (or ``MLFLOW_S3_ENDPOINT_URL``),
credentials from boto3's usual places (``AWS_ACCESS_KEY_ID``, profiles, roles).
Large files go up as multipart uploads of ``part_size`` bytes, holding one part in
memory; downloads stream. Paths are checked like local ones (no ``..``, absolute or
encoded forms), so a key never leaves the run's prefix.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mltrail._entities import FileInfo
from mltrail._errors import InvalidValueError, NotFoundError, StoreError
from mltrail.store._base import FilesInTurn
from mltrail.store._paths import PATH_HINT, check_relative_path

__all__ = ["S3ArtifactStore", "s3_artifact_store"]

PART_SIZE = 8 * 1024 * 1024  # S3's minimum part is 5 MiB
CHUNK = 1024 * 1024


def _location(artifact_uri: str, path: str | None) -> tuple[str, str]:
    """Return ``(bucket, key)`` of a run-relative path under an ``s3://`` URI."""
    parts = urlsplit(artifact_uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidValueError(
            "artifact URI", artifact_uri, "an s3://bucket/prefix URI"
        )
    prefix = parts.path.strip("/")
    relative = check_relative_path(path) if path else []
    key = "/".join([p for p in prefix.split("/") if p] + relative)
    return parts.netloc, key


class S3ArtifactStore(FilesInTurn):
    """Run files in S3, addressed by ``s3://bucket/prefix`` artifact URIs.

    Parameters
    ----------
    client : botocore client or None, default=None
        An S3 client; by default one from boto3 with the endpoint from the
        environment.
    part_size : int, default=8388608
        The size of multipart upload parts (8 MiB), and of the upload buffer.

    Examples
    --------
    >>> from mltrail.store._artifacts_s3 import S3ArtifactStore
    >>> S3ArtifactStore(client=object()).part_size
    8388608
    """

    def __init__(self, client: Any = None, *, part_size: int = PART_SIZE) -> None:
        self._client = client
        self.part_size = part_size

    @property
    def client(self) -> Any:
        """The boto3 S3 client, created on first use."""
        if self._client is None:
            import boto3

            endpoint = os.environ.get("MLTRAIL_S3_ENDPOINT_URL") or os.environ.get(
                "MLFLOW_S3_ENDPOINT_URL"
            )
            self._client = boto3.client("s3", endpoint_url=endpoint or None)
        return self._client

    def _errors(self, error: Exception, key: str) -> Exception:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                return NotFoundError(
                    "artifact", key, "List the run's artifacts with list_artifacts."
                )
            return StoreError(f"S3 refused {key!r}: {code} {error}")
        if isinstance(error, BotoCoreError):
            return StoreError(f"S3 cannot be reached for {key!r}: {error}")
        return error

    def log_file(
        self, artifact_uri: str, local_path: Path, artifact_path: str | None = None
    ) -> None:
        """Upload one local file under ``artifact_path`` (a directory) of the run."""
        source = Path(local_path)
        if not source.is_file():
            raise NotFoundError(
                "file",
                str(source),
                "Pass the path of an existing file; use log_artifacts for a directory.",
            )
        name = f"{artifact_path}/{source.name}" if artifact_path else source.name
        with open(source, "rb") as file:
            self.write_stream(artifact_uri, name, iter(lambda: file.read(CHUNK), b""))

    def log_dir(
        self, artifact_uri: str, local_dir: Path, artifact_path: str | None = None
    ) -> None:
        """Upload a local directory's files under ``artifact_path`` of the run."""
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(
                "directory",
                str(source),
                "Pass an existing directory; use log_artifact for a single file.",
            )
        for root, _, files in os.walk(source):
            relative = Path(root).relative_to(source).as_posix()
            folder = "/".join(
                part for part in (artifact_path or "", relative) if part and part != "."
            )
            for name in sorted(files):
                self.log_file(artifact_uri, Path(root) / name, folder or None)

    def write_bytes(self, artifact_uri: str, path: str, data: bytes) -> None:
        """Write ``data`` as the object at ``path`` of the run."""
        self.write_stream(artifact_uri, path, [bytes(data)])

    def write_stream(
        self, artifact_uri: str, path: str, chunks: Iterable[bytes]
    ) -> int:
        """Upload the object at ``path`` from ``chunks``; multipart past one part.

        At most one part (``part_size`` bytes) is held in memory. A failed
        multipart upload is aborted, so no partial object appears.
        """
        if not isinstance(path, str) or not path or not check_relative_path(path):
            raise InvalidValueError(
                "artifact file", path, "a non-empty relative file path", PATH_HINT
            )
        bucket, key = _location(artifact_uri, path)
        client = self.client
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        upload_id = client.create_multipart_upload(
                            Bucket=bucket, Key=key
                        )["UploadId"]
                    part = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    number = len(parts) + 1
                    answer = client.upload_part(
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=part,
                    )
                    parts.append({"ETag": answer["ETag"], "PartNumber": number})
            if upload_id is None:
                client.put_object(Bucket=bucket, Key=key, Body=bytes(buffer))
                return size
            if buffer:
                number = len(parts) + 1
                answer = client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=bytes(buffer),
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
            return size
        except BaseException as error:
            if upload_id is not None:
                self._abort(bucket, key, upload_id)
            if isinstance(error, Exception):
                raise self._errors(error, key) from error
            raise

    def _abort(self, bucket: str, key: str, upload_id: str) -> None:
        """Abort a multipart upload; a failure here must not hide the first one."""
        from botocore.exceptions import BotoCoreError, ClientError

        with contextlib.suppress(BotoCoreError, ClientError):
            self.client.abort_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id
            )

    def _keys(self, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", ())

    def list(self, artifact_uri: str, path: str | None = None) -> list[FileInfo]:
        """List one level under ``path``; paths in the result are run-relative."""
        bucket, key = _location(artifact_uri, path)
        _, root = _location(artifact_uri, None)
        prefix = f"{key}/" if key else ""
        infos: list[FileInfo] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", ()):
                    infos.append(
                        FileInfo(
                            _relative(root, common["Prefix"].rstrip("/")), True, None
                        )
                    )
                for item in page.get("Contents", ()):
                    if item["Key"] == prefix:
                        continue
                    infos.append(
                        FileInfo(_relative(root, item["Key"]), False, int(item["Size"]))
                    )
        except Exception as error:
            raise self._errors(error, key) from error
        return sorted(infos, key=lambda info: info.path)

    def open_stream(
        self, artifact_uri: str, path: str, chunk_size: int = CHUNK
    ) -> tuple[int, Iterator[bytes]]:
        """Open one object of the run for reading in chunks."""
        bucket, key = _location(artifact_uri, path)
        try:
            answer = self.client.get_object(Bucket=bucket, Key=key)
        except Exception as error:
            raise self._errors(error, path) from error
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()

        return int(answer["ContentLength"]), chunks()

    def read_bytes(self, artifact_uri: str, path: str) -> bytes:
        """Return the content of one object of the run."""
        _, chunks = self.open_stream(artifact_uri, path)
        return b"".join(chunks)

    def download(self, artifact_uri: str, path: str, dst_path: Path) -> Path:
        """Download an object, or every object under a folder, into ``dst_path``."""
        bucket, key = _location(artifact_uri, path)
        _, root = _location(artifact_uri, None)
        parts = check_relative_path(path) if path else []
        target = Path(dst_path).joinpath(*parts)
        prefix = f"{key}/" if key else ""
        try:
            objects = list(self._keys(bucket, prefix))
        except Exception as error:
            raise self._errors(error, key) from error
        if not objects:
            if not parts:
                target.mkdir(parents=True, exist_ok=True)
                return target
            self._download_object(artifact_uri, path, target)
            return target
        for item in objects:
            relative = _relative(root, item["Key"])
            if item["Key"].endswith("/"):
                continue
            destination = Path(dst_path).joinpath(*check_relative_path(relative))
            self._download_object(artifact_uri, relative, destination)
        return target

    def _download_object(self, artifact_uri: str, path: str, target: Path) -> None:
        _, chunks = self.open_stream(artifact_uri, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".download-")
        try:
            with os.fdopen(handle, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def delete(self, artifact_uri: str, path: str) -> None:
        """Delete an object, or every object under a folder, of the run."""
        if not isinstance(path, str) or not path:
            raise InvalidValueError("artifact path", path, "a non-empty relative path")
        bucket, key = _location(artifact_uri, path)
        try:
            keys = [item["Key"] for item in self._keys(bucket, key + "/")]
            if not keys:
                self.client.head_object(Bucket=bucket, Key=key)
                keys = [key]
            for start in range(0, len(keys), 1000):
                self.client.delete_objects(
                    Bucket=bucket,
                    Delete={
                        "Objects": [{"Key": k} for k in keys[start : start + 1000]]
                    },
                )
        except Exception as error:
            raise self._errors(error, path) from error

    def delete_run_artifacts(self, artifact_uri: str) -> None:
        """Delete every object under the run's prefix; none there is fine."""
        bucket, key = _location(artifact_uri, None)
        try:
            keys = [item["Key"] for item in self._keys(bucket, key + "/")]
            for start in range(0, len(keys), 1000):
                batch = keys[start : start + 1000]
                self.client.delete_objects(
                    Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch]}
                )
        except Exception as error:
            raise self._errors(error, key) from error


def _relative(root: str, key: str) -> str:
    relative = key[len(root) :].lstrip("/") if root else key
    return posixpath.normpath(relative) if relative else relative


_lock = threading.Lock()
_store: S3ArtifactStore | None = None


def s3_artifact_store() -> S3ArtifactStore:
    """Return the process's shared S3 store (one boto3 client)."""
    global _store
    with _lock:
        if _store is None:
            _store = S3ArtifactStore()
        return _store
