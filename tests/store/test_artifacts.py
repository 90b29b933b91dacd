from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail._entities import FileInfo
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store._artifacts import (
    STAGING_NAME,
    LocalArtifactStore,
    artifact_root_path,
    open_artifact_store,
    publish_directory,
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
    with pytest.raises(InvalidValueError, match="not an existing directory"):
        artifacts.write_bytes(str(root), "taken", b"x")
    assert [p.name for p in root.iterdir()] == ["taken"]
    assert not (root.parent / STAGING_NAME).exists()


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
    ("uri", "kind"),
    [
        ("s3://bucket/0/run/artifacts", "S3ArtifactStore"),
        ("mlflow-artifacts:/0/run/artifacts", "HttpArtifactStore"),
        ("http://host/api/2.0/mlflow-artifacts/artifacts/0", "HttpArtifactStore"),
    ],
    ids=["s3", "mlflow-artifacts", "http"],
)
def test_open_artifact_store_picks_remote_stores(uri: str, kind: str) -> None:
    assert type(open_artifact_store(uri)).__name__ == kind


def test_open_artifact_store_rejects_other_schemes() -> None:
    with pytest.raises(InvalidValueError, match="no artifact store for ftp://"):
        open_artifact_store("ftp://host/0/run/artifacts")


# Attacks through symlinks (#9 §4): nothing is read, listed, copied or written
# through a link that leaves the artifact root.

RUN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    directory = tmp_path / "mltrail-artifacts"
    directory.mkdir()
    return directory


@pytest.fixture
def rooted(store_root: Path) -> LocalArtifactStore:
    return LocalArtifactStore(store_root)


@pytest.fixture
def run_uri(store_root: Path) -> str:
    return str(store_root / "1" / RUN_ID / "artifacts")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("s3cr3t" * 1000)
    return directory


def _files_below(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


def test_planted_file_link_is_not_listed(
    rooted: LocalArtifactStore, run_uri: str, outside: Path
) -> None:
    rooted.write_bytes(run_uri, "ok.txt", b"ok")
    (Path(run_uri) / "leak.txt").symlink_to(outside / "secret.txt")
    assert rooted.list(run_uri) == [FileInfo("ok.txt", False, 2)]


def test_planted_file_link_is_not_read(
    rooted: LocalArtifactStore, run_uri: str, outside: Path
) -> None:
    rooted.write_bytes(run_uri, "ok.txt", b"ok")
    (Path(run_uri) / "leak.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.read_bytes(run_uri, "leak.txt")
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.download(run_uri, "leak.txt", Path("dst"))


def test_download_of_run_skips_planted_links(
    rooted: LocalArtifactStore, run_uri: str, outside: Path, tmp_path: Path
) -> None:
    rooted.write_bytes(run_uri, "plots/roc.png", b"png")
    (Path(run_uri) / "leak.txt").symlink_to(outside / "secret.txt")
    (Path(run_uri) / "plots" / "folder").symlink_to(outside)
    local = rooted.download(run_uri, "", tmp_path / "dst")
    assert _files_below(local) == ["plots", "plots/roc.png"]


def test_download_follows_link_that_stays_inside(
    rooted: LocalArtifactStore, run_uri: str, tmp_path: Path
) -> None:
    rooted.write_bytes(run_uri, "real/a.txt", b"a")
    (Path(run_uri) / "alias").symlink_to(Path(run_uri) / "real")
    local = rooted.download(run_uri, "", tmp_path / "dst")
    assert (local / "alias" / "a.txt").read_bytes() == b"a"
    assert rooted.list(run_uri, "alias") == [FileInfo("alias/a.txt", False, 1)]


def test_download_survives_a_link_loop(
    rooted: LocalArtifactStore, run_uri: str, tmp_path: Path
) -> None:
    rooted.write_bytes(run_uri, "a/x.txt", b"x")
    (Path(run_uri) / "a" / "loop").symlink_to(Path(run_uri) / "a")
    local = rooted.download(run_uri, "a", tmp_path / "dst")
    assert _files_below(local) == ["x.txt"]


@pytest.mark.parametrize("level", ["artifacts", "run", "experiment"])
def test_symlinked_run_folder_is_refused(
    rooted: LocalArtifactStore,
    store_root: Path,
    run_uri: str,
    outside: Path,
    level: str,
) -> None:
    linked = {
        "artifacts": Path(run_uri),
        "run": Path(run_uri).parent,
        "experiment": Path(run_uri).parent.parent,
    }[level]
    linked.parent.mkdir(parents=True, exist_ok=True)
    linked.symlink_to(outside)
    before = _files_below(outside)
    source = outside.parent / "model.pkl"
    source.write_bytes(b"weights")
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.write_bytes(run_uri, "a.txt", b"x")
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.log_file(run_uri, source)
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.list(run_uri)
    assert _files_below(outside) == before
    assert not (store_root / STAGING_NAME).exists() or not any(
        (store_root / STAGING_NAME).iterdir()
    )


def test_log_dir_into_symlinked_folder_writes_nothing(
    rooted: LocalArtifactStore, run_uri: str, outside: Path, tmp_path: Path
) -> None:
    Path(run_uri).mkdir(parents=True)
    (Path(run_uri) / "plots").symlink_to(outside)
    source = tmp_path / "plots"
    source.mkdir()
    (source / "roc.png").write_bytes(b"png")
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.log_dir(run_uri, source, "plots")
    assert _files_below(outside) == ["secret.txt"]


def test_log_dir_with_symlinked_subfolder_writes_nothing(
    rooted: LocalArtifactStore, run_uri: str, outside: Path, tmp_path: Path
) -> None:
    (Path(run_uri) / "results").mkdir(parents=True)
    (Path(run_uri) / "results" / "sub").symlink_to(outside)
    source = tmp_path / "out"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "sub" / "b.txt").write_text("b")
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.log_dir(run_uri, source, "results")
    assert _files_below(outside) == ["secret.txt"]
    assert not (Path(run_uri) / "results" / "a.txt").exists()


def test_list_does_not_report_outside_size(
    rooted: LocalArtifactStore, run_uri: str, outside: Path
) -> None:
    rooted.write_bytes(run_uri, "small.txt", b"1")
    (Path(run_uri) / "big").symlink_to(outside / "secret.txt")
    (Path(run_uri) / "dangling").symlink_to(outside / "missing.txt")
    assert rooted.list(run_uri) == [FileInfo("small.txt", False, 1)]


def test_experiment_outside_root_is_checked_from_its_folder(
    rooted: LocalArtifactStore, tmp_path: Path, outside: Path
) -> None:
    experiment = tmp_path / "custom-location"
    uri = str(experiment / RUN_ID / "artifacts")
    rooted.write_bytes(uri, "a.txt", b"a")
    assert rooted.read_bytes(uri, "a.txt") == b"a"
    (experiment / RUN_ID / "artifacts" / "b").symlink_to(outside)
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        rooted.write_bytes(uri, "b/c.txt", b"c")
    assert sorted(p.name for p in experiment.iterdir()) == [STAGING_NAME, RUN_ID]


# Temporary names (#9 §6) and atomic writes (#9 §2).


@pytest.mark.parametrize(
    "name", [".tmp-notes.txt", ".tmp-", ".mltrail-staging-x", "x.part"]
)
def test_user_names_like_temporaries_are_listed(
    rooted: LocalArtifactStore, run_uri: str, name: str
) -> None:
    rooted.write_bytes(run_uri, name, b"mine")
    assert rooted.list(run_uri) == [FileInfo(name, False, 4)]
    assert rooted.read_bytes(run_uri, name) == b"mine"


def test_user_folder_named_like_staging_is_listed(
    rooted: LocalArtifactStore, run_uri: str
) -> None:
    rooted.write_bytes(run_uri, f"{STAGING_NAME}/a.txt", b"a")
    assert rooted.list(run_uri) == [FileInfo(STAGING_NAME, True, None)]


def test_staging_folder_is_beside_experiments(
    rooted: LocalArtifactStore, store_root: Path, run_uri: str
) -> None:
    rooted.write_bytes(run_uri, "a.txt", b"a")
    assert sorted(p.name for p in store_root.iterdir()) == [STAGING_NAME, "1"]
    assert list((store_root / STAGING_NAME).iterdir()) == []
    assert rooted.list(str(store_root)) == [FileInfo("1", True, None)]


KILL_MID_WRITE = """
import os, shutil, sys, time
from collections.abc import Iterator
from pathlib import Path
from mltrail.store import _artifacts

def half_then_hang(source, target, length=0):
    target.write(source.read(1000))
    target.flush()
    print("half", flush=True)
    time.sleep(60)

_artifacts.shutil.copyfileobj = half_then_hang
store = _artifacts.LocalArtifactStore(sys.argv[1])
store.{call}
"""


def _kill_when_half_done(script: str, *args: str) -> None:
    """Run ``script`` in a child, SIGKILL it once it prints 'half', and reap it."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "half\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()


@pytest.mark.parametrize(
    "call",
    [
        "log_file(sys.argv[2], Path(sys.argv[3]), 'model')",
        "log_dir(sys.argv[2], Path(sys.argv[3]).parent, 'model')",
    ],
    ids=["log_file", "log_dir"],
)
def test_sigkill_mid_write_leaves_no_truncated_artifact(
    store_root: Path, run_uri: str, tmp_path: Path, call: str
) -> None:
    import signal
    import subprocess
    import sys

    source = tmp_path / "source" / "model.pkl"
    source.parent.mkdir()
    source.write_bytes(b"w" * 5000)
    script = KILL_MID_WRITE.format(call=call)
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(store_root), run_uri, str(source)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "half\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    assert not (Path(run_uri) / "model" / "model.pkl").exists()
    assert LocalArtifactStore(store_root).list(run_uri, "model") == []


# Modes: files honour the umask like any file the user writes (#8 §4).


@pytest.fixture(params=[0o022, 0o002, 0o077], ids=["022", "002", "077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_written_files_honour_umask(
    rooted: LocalArtifactStore, run_uri: str, tmp_path: Path, umask: int
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "b.txt").write_text("b")
    rooted.write_bytes(run_uri, "a.txt", b"a")
    rooted.log_file(run_uri, source / "b.txt", "one")
    rooted.log_dir(run_uri, source, "many")
    local = rooted.download(run_uri, "", tmp_path / "dst")
    expected = 0o666 & ~umask
    for path in (
        Path(run_uri) / "a.txt",
        Path(run_uri) / "one" / "b.txt",
        Path(run_uri) / "many" / "b.txt",
        local / "a.txt",
    ):
        assert path.stat().st_mode & 0o777 == expected, path


# File errors become mltrail errors (#9 §5).


def test_file_where_folder_is_needed_is_invalid(
    rooted: LocalArtifactStore, run_uri: str
) -> None:
    rooted.write_bytes(run_uri, "a.txt", b"a")
    with pytest.raises(InvalidValueError, match=r"'a\.txt/b\.txt'.*is a file"):
        rooted.write_bytes(run_uri, "a.txt/b.txt", b"b")


def test_folder_where_file_is_needed_is_invalid(
    rooted: LocalArtifactStore, run_uri: str, tmp_path: Path
) -> None:
    rooted.write_bytes(run_uri, "model/MLmodel", b"m")
    source = tmp_path / "model"
    source.write_text("a file named like the folder")
    with pytest.raises(InvalidValueError, match="not an existing directory"):
        rooted.log_file(run_uri, source)


def test_name_too_long_is_invalid(rooted: LocalArtifactStore, run_uri: str) -> None:
    with pytest.raises(InvalidValueError, match="names fit the file system"):
        rooted.write_bytes(run_uri, "x" * 300 + ".txt", b"x")
    assert rooted.list(run_uri) == []


def test_write_bytes_rejects_text(rooted: LocalArtifactStore, run_uri: str) -> None:
    with pytest.raises(InvalidValueError, match="artifact content must be bytes"):
        rooted.write_bytes(run_uri, "a.txt", "text")  # type: ignore[arg-type]


def test_publish_directory_renames_whole_folder(store_root: Path, run_uri: str) -> None:
    target = Path(run_uri) / "model"

    def write(folder: Path) -> str:
        folder.mkdir()
        (folder / "MLmodel").write_text("flavors")
        assert not target.exists()
        return "done"

    assert publish_directory(target, write) == "done"
    assert [p.name for p in target.iterdir()] == ["MLmodel"]
    assert list((store_root / "1" / STAGING_NAME).iterdir()) == []


def test_publish_directory_leaves_nothing_on_error(run_uri: str) -> None:
    target = Path(run_uri) / "model"

    def write(folder: Path) -> None:
        folder.mkdir()
        (folder / "MLmodel").write_text("flavors")
        raise RuntimeError("serialization failed")

    with pytest.raises(RuntimeError, match="serialization failed"):
        publish_directory(target, write)
    assert not target.exists()


def test_publish_directory_refuses_existing_content(run_uri: str) -> None:
    target = Path(run_uri) / "model"
    target.mkdir(parents=True)
    (target / "MLmodel").write_text("old")
    with pytest.raises(InvalidValueError, match="never overwrites"):
        publish_directory(target, lambda folder: folder.mkdir())
    assert (target / "MLmodel").read_text() == "old"


def test_publish_directory_outside_a_run_uses_sibling(tmp_path: Path) -> None:
    target = tmp_path / "saved" / "model"
    publish_directory(target, lambda folder: folder.mkdir())
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["model"]


KILL_MID_PUBLISH = """
import sys, time
from pathlib import Path
from mltrail.store._artifacts import publish_directory

def write(folder):
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors")
    print("half", flush=True)
    time.sleep(60)

publish_directory(Path(sys.argv[1]), write)
"""


def test_sigkill_mid_publish_leaves_no_half_model(run_uri: str) -> None:
    target = Path(run_uri) / "model"
    _kill_when_half_done(KILL_MID_PUBLISH, str(target))
    assert not target.exists()
