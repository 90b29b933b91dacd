from __future__ import annotations

import errno
from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError, StoreError
from mltrail.store._paths import translate_os_error
from tests._mounts import run_on_tmpfs

FULL_DISK = """
import sys
from mltrail.store._artifacts import LocalArtifactStore
from mltrail._errors import StoreError
store = LocalArtifactStore(sys.argv[1])
run = sys.argv[1] + "/1/0123456789abcdef0123456789abcdef/artifacts"
store.write_bytes(run, "small.txt", b"s")
try:
    store.write_bytes(run, "big.bin", b"x" * 400_000)
except StoreError as error:
    print(error)
print([f.path for f in store.list(run)])
import os
print(os.listdir(sys.argv[1] + "/.mltrail-staging"))
"""


def test_full_disk_is_a_store_error_and_leaves_nothing(tmp_path: Path) -> None:
    done = run_on_tmpfs(tmp_path / "disk", FULL_DISK, size_kb=128)
    assert done.returncode == 0, done.stderr
    message, listed, staging = done.stdout.splitlines()
    assert "is full" in message
    assert "'big.bin' was not written" in message
    assert listed == "['small.txt']"
    assert staging == "[]"


READ_ONLY_PREPARE = """
import sys
from mltrail.store._artifacts import LocalArtifactStore
store = LocalArtifactStore(sys.argv[1])
store.write_bytes(sys.argv[1] + "/1/0123456789abcdef0123456789abcdef/artifacts",
                  "a.txt", b"kept")
"""
READ_ONLY = """
import sys
from mltrail.store._artifacts import LocalArtifactStore
from mltrail._errors import StoreError
store = LocalArtifactStore(sys.argv[1])
run = sys.argv[1] + "/1/0123456789abcdef0123456789abcdef/artifacts"
print(store.read_bytes(run, "a.txt"))
try:
    store.write_bytes(run, "b.txt", b"new")
except StoreError as error:
    print(error)
"""


def test_read_only_media_reads_and_refuses_writes_clearly(tmp_path: Path) -> None:
    done = run_on_tmpfs(
        tmp_path / "media", READ_ONLY, prepare=READ_ONLY_PREPARE, read_only=True
    )
    assert done.returncode == 0, done.stderr
    content, message = done.stdout.splitlines()
    assert content == "b'kept'"
    assert "read-only media" in message
    assert "MLTRAIL_ARTIFACT_ROOT" in message


@pytest.mark.parametrize(
    ("error", "kind", "match"),
    [
        (IsADirectoryError(errno.EISDIR, "x"), InvalidValueError, "not an existing"),
        (NotADirectoryError(errno.ENOTDIR, "x", "a"), InvalidValueError, "is a file"),
        (FileExistsError(errno.EEXIST, "x", "a"), InvalidValueError, "is a file"),
        (OSError(errno.ENAMETOOLONG, "x"), InvalidValueError, "names fit"),
        (OSError(errno.ENOSPC, "x", "/d"), StoreError, "is full"),
        (OSError(errno.EDQUOT, "x", "/d"), StoreError, "over quota"),
        (OSError(errno.EROFS, "x", "/d"), StoreError, "read-only media"),
        (PermissionError(errno.EACCES, "x", "/d"), StoreError, "no permission"),
        (OSError(errno.EIO, "I/O error", "/d"), StoreError, "I/O error"),
    ],
    ids=["isdir", "notdir", "exists", "name", "full", "quota", "rofs", "perm", "io"],
)
def test_translate_os_error(error: OSError, kind: type[Exception], match: str) -> None:
    translated = translate_os_error(error, "plots/roc.png")
    assert type(translated) is kind
    assert match in str(translated)
    assert "plots/roc.png" in str(translated)
