from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltrail._entities import FileInfo
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store._artifacts import (
    LocalArtifactStore,
    artifact_root_path,
    open_artifact_store,
    resolve_artifact_path,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    directory = tmp_path / "run" / "artifacts"
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def artifacts() -> LocalArtifactStore:
    return LocalArtifactStore()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../secret", "stays inside the run"),
        ("a/../../secret", "stays inside the run"),
        ("..", "stays inside the run"),
        ("%2e%2e/secret", "stays inside the run"),
        ("%2E%2E%2Fsecret", "stays inside the run"),
        ("%252e%252e/secret", "stays inside the run"),
        ("/etc/passwd", "a relative path"),
        ("%2Fetc/passwd", "a relative path"),
        ("C:/Windows", "a relative path"),
        ("a\\..\\secret", "free of backslashes"),
        ("a%5csecret", "free of backslashes"),
        ("a\x00b", "free of NUL bytes"),
        ("a%00b", "free of NUL bytes"),
    ],
    ids=[
        "dotdot",
        "dotdot-inside",
        "bare-dotdot",
        "encoded-dotdot",
        "encoded-upper",
        "double-encoded",
        "absolute",
        "encoded-absolute",
        "drive-letter",
        "backslash",
        "encoded-backslash",
        "nul",
        "encoded-nul",
    ],
)
def test_resolve_rejects_unsafe_path(root: Path, path: str, expected: str) -> None:
    with pytest.raises(InvalidValueError, match=expected):
        resolve_artifact_path(root, path)


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        (None, ()),
        ("", ()),
        ("model", ("model",)),
        ("plots/roc.png", ("plots", "roc.png")),
        ("./a//b/", ("a", "b")),
        ("100% done.txt", ("100% done.txt",)),
        ("a..b", ("a..b",)),
    ],
    ids=["none", "empty", "one-part", "nested", "dots-and-slashes", "percent", "dots"],
)
def test_resolve_accepts_safe_path(
    root: Path, path: str | None, parts: tuple[str, ...]
) -> None:
    assert resolve_artifact_path(root, path) == Path(os.path.realpath(root), *parts)


def test_resolve_rejects_non_str_path(root: Path) -> None:
    with pytest.raises(InvalidValueError, match="a str or None"):
        resolve_artifact_path(root, 3)  # type: ignore[arg-type]  # the point of the test


def test_resolve_rejects_symlink_leaving_root(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        resolve_artifact_path(root, "escape/file.txt")


def test_resolve_follows_symlink_inside_root(root: Path) -> None:
    (root / "real").mkdir()
    (root / "alias").symlink_to(root / "real")
    assert resolve_artifact_path(root, "alias/x") == Path(
        os.path.realpath(root), "real", "x"
    )


def test_resolve_rejects_sibling_with_common_prefix(root: Path) -> None:
    sibling = root.parent / "artifacts-other"
    sibling.mkdir()
    (root / "link").symlink_to(sibling)
    with pytest.raises(InvalidValueError, match="symlink"):
        resolve_artifact_path(root, "link")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///data/run%20a/artifacts", "/data/run a/artifacts"),
        ("file://localhost/data/run", "/data/run"),
        ("/data/run", "/data/run"),
    ],
    ids=["file-uri", "localhost", "plain-path"],
)
def test_artifact_root_path_reads_local_uris(uri: str, expected: str) -> None:
    assert artifact_root_path(uri) == Path(expected)


def test_artifact_root_path_rejects_remote_host() -> None:
    with pytest.raises(InvalidValueError, match="file:// URI of this machine"):
        artifact_root_path("file://server/data/run")


def test_log_file_copies_into_directory(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"weights")
    artifacts.log_file(str(root), source, "model")
    assert (root / "model" / "model.pkl").read_bytes() == b"weights"


def test_log_file_at_root(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hi")
    artifacts.log_file(root.as_uri(), source)
    assert (root / "notes.txt").read_text() == "hi"


def test_log_file_of_missing_file_names_it(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match=r"missing\.txt"):
        artifacts.log_file(str(root), tmp_path / "missing.txt")


def test_log_file_rejects_unsafe_artifact_path(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "a.txt"
    source.write_text("a")
    with pytest.raises(InvalidValueError, match="stays inside the run"):
        artifacts.log_file(str(root), source, "../..")
    assert not (tmp_path / "a.txt").exists()


def test_log_dir_copies_tree(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    source = tmp_path / "out"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "sub" / "b.txt").write_text("b")
    artifacts.log_dir(str(root), source, "results")
    assert (root / "results" / "a.txt").read_text() == "a"
    assert (root / "results" / "sub" / "b.txt").read_text() == "b"


def test_log_dir_of_missing_directory_names_it(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="nowhere"):
        artifacts.log_dir(str(root), tmp_path / "nowhere")


def test_write_bytes_creates_parents(artifacts: LocalArtifactStore, root: Path) -> None:
    artifacts.write_bytes(str(root), "a/b/c.json", b"{}")
    assert (root / "a" / "b" / "c.json").read_bytes() == b"{}"


def test_write_bytes_replaces_file(artifacts: LocalArtifactStore, root: Path) -> None:
    artifacts.write_bytes(str(root), "c.txt", b"old")
    artifacts.write_bytes(str(root), "c.txt", b"new")
    assert (root / "c.txt").read_bytes() == b"new"
    assert [p.name for p in root.iterdir()] == ["c.txt"]


@pytest.mark.parametrize("path", ["", "./", ".//."], ids=["empty", "dot", "dots"])
def test_write_bytes_needs_file_path(
    artifacts: LocalArtifactStore, root: Path, path: str
) -> None:
    with pytest.raises(InvalidValueError, match="artifact file"):
        artifacts.write_bytes(str(root), path, b"x")


def test_write_bytes_into_directory_leaves_no_temporary(
    artifacts: LocalArtifactStore, root: Path
) -> None:
    (root / "taken").mkdir()
    with pytest.raises(IsADirectoryError):
        artifacts.write_bytes(str(root), "taken", b"x")
    assert [p.name for p in root.iterdir()] == ["taken"]


def test_list_returns_one_level(artifacts: LocalArtifactStore, root: Path) -> None:
    artifacts.write_bytes(str(root), "model/MLmodel", b"flavors")
    artifacts.write_bytes(str(root), "model/data/x.bin", b"1")
    artifacts.write_bytes(str(root), "a.txt", b"abc")
    assert artifacts.list(str(root)) == [
        FileInfo("a.txt", False, 3),
        FileInfo("model", True, None),
    ]
    assert artifacts.list(str(root), "model") == [
        FileInfo("model/MLmodel", False, 7),
        FileInfo("model/data", True, None),
    ]


@pytest.mark.parametrize("path", ["missing", "a.txt"], ids=["missing", "file"])
def test_list_of_non_directory_is_empty(
    artifacts: LocalArtifactStore, root: Path, path: str
) -> None:
    artifacts.write_bytes(str(root), "a.txt", b"abc")
    assert artifacts.list(str(root), path) == []


def test_list_of_missing_root_is_empty(
    artifacts: LocalArtifactStore, tmp_path: Path
) -> None:
    assert artifacts.list(str(tmp_path / "never-created")) == []


def test_download_file_keeps_relative_path(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    artifacts.write_bytes(str(root), "plots/roc.png", b"png")
    local = artifacts.download(str(root), "plots/roc.png", tmp_path / "dst")
    assert local == tmp_path / "dst" / "plots" / "roc.png"
    assert local.read_bytes() == b"png"


def test_download_directory(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    artifacts.write_bytes(str(root), "model/MLmodel", b"m")
    local = artifacts.download(str(root), "model", tmp_path / "dst")
    assert (local / "MLmodel").read_bytes() == b"m"


def test_download_everything(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    artifacts.write_bytes(str(root), "a/b.txt", b"b")
    local = artifacts.download(str(root), "", tmp_path / "dst")
    assert local == tmp_path / "dst"
    assert (local / "a" / "b.txt").read_bytes() == b"b"


def test_download_missing_raises(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match=r"'nope\.txt'"):
        artifacts.download(str(root), "nope.txt", tmp_path)


def test_download_rejects_unsafe_path(
    artifacts: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidValueError, match="stays inside the run"):
        artifacts.download(str(root), "../run", tmp_path / "dst")


def test_read_bytes(artifacts: LocalArtifactStore, root: Path) -> None:
    artifacts.write_bytes(str(root), "x.txt", b"x")
    assert artifacts.read_bytes(str(root), "x.txt") == b"x"


@pytest.mark.parametrize("path", ["missing.txt", "dir"], ids=["missing", "directory"])
def test_read_bytes_of_non_file_raises(
    artifacts: LocalArtifactStore, root: Path, path: str
) -> None:
    (root / "dir").mkdir()
    with pytest.raises(NotFoundError, match="artifact file"):
        artifacts.read_bytes(str(root), path)


@pytest.mark.parametrize(
    "uri",
    ["/data/run", "file:///data/run", "relative/run"],
    ids=["path", "file", "rel"],
)
def test_open_artifact_store_is_local(uri: str) -> None:
    assert isinstance(open_artifact_store(uri), LocalArtifactStore)


@pytest.mark.parametrize(
    "uri",
    ["s3://bucket/0/run/artifacts", "mlflow-artifacts:/0/run/artifacts"],
    ids=["s3", "mlflow-artifacts"],
)
def test_open_artifact_store_rejects_other_schemes(uri: str) -> None:
    with pytest.raises(InvalidValueError, match="not available in this version"):
        open_artifact_store(uri)
