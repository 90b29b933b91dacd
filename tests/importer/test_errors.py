"""What ``mltrail import`` says when a source cannot be read; the source stays as is."""

from __future__ import annotations

from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError, MltrailError, StoreError
from mltrail.importer import import_store, open_source
from mltrail.importer._local import LocalFiles
from mltrail.importer._source import redact
from mltrail.store._sql import SqlStore
from tests.importer._compare import hash_tree

RUN_ID = "0123456789abcdef0123456789abcdef"


def _file_store(root: Path, artifact_uri: str) -> Path:
    """A minimal MLflow file store: Default and one experiment with one run."""
    for experiment_id, name in (("0", "Default"), ("5", "small")):
        folder = root / experiment_id
        folder.mkdir(parents=True)
        (folder / "meta.yaml").write_text(
            f"experiment_id: '{experiment_id}'\nname: {name}\n"
            f"artifact_location: {folder.as_uri()}\nlifecycle_stage: active\n"
            "creation_time: 1\nlast_update_time: 1\n"
        )
    run = root / "5" / RUN_ID
    (run / "metrics").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "tags").mkdir()
    (run / "params" / "C").write_text("1.0")
    (run / "metrics" / "loss").write_text("10 0.5 0\n11 nan 1\n12 inf 2\n")
    (run / "meta.yaml").write_text(
        f"run_id: {RUN_ID}\nrun_name: first\nexperiment_id: '5'\nuser_id: ada\n"
        f"status: 3\nstart_time: 5\nend_time: 9\nlifecycle_stage: active\n"
        f"artifact_uri: {artifact_uri}\n"
    )
    return root


def test_file_store_written_by_hand_is_imported(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    root = _file_store(tmp_path / "mlruns", (tmp_path / "nowhere").as_uri())
    before = hash_tree(root)

    summary = import_store(open_source(root.as_uri()), sqlite_store)

    run = sqlite_store.get_run(RUN_ID)
    history = sqlite_store.get_metric_history(RUN_ID, "loss")
    assert summary.runs == 1
    assert (run.info.status, run.info.start_time, run.info.end_time) == (
        "FINISHED",
        5,
        9,
    )
    assert sqlite_store.get_experiment("5").name == "small"
    assert run.data.params == {"C": "1.0"}
    assert [(m.timestamp, m.step) for m in history] == [(10, 0), (11, 1), (12, 2)]
    assert str(history[1].value) == "nan"
    assert history[2].value == float("inf")
    assert hash_tree(root) == before


def test_artifacts_elsewhere_name_the_run_and_give_a_hint(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    root = _file_store(tmp_path / "mlruns", "s3://bucket/5/run/artifacts")

    with pytest.raises(MltrailError, match=f"importing run {RUN_ID} failed") as error:
        import_store(open_source(str(root)), sqlite_store)

    assert "s3://bucket/5/run/artifacts" in str(error.value)
    assert "not read by mltrail import yet" in str(error.value)


def test_damaged_meta_file_is_named(tmp_path: Path, sqlite_store: SqlStore) -> None:
    root = _file_store(tmp_path / "mlruns", (tmp_path / "nowhere").as_uri())
    (root / "5" / RUN_ID / "meta.yaml").write_text("run_id: [unclosed\n")

    with pytest.raises(StoreError, match=r"meta\.yaml"):
        import_store(open_source(str(root)), sqlite_store)


@pytest.mark.parametrize(
    "uri",
    ["s3://bucket/mlruns", "ftp://host/x", "databricks"],
    ids=["s3", "ftp", "bare-word"],
)
def test_unknown_sources_are_refused(uri: str) -> None:
    with pytest.raises(InvalidValueError, match="source URI"):
        open_source(uri)


def test_a_file_that_is_no_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database")

    with pytest.raises(StoreError, match="cannot read the MLflow database"):
        open_source(f"sqlite:///{path}")
    assert path.read_text() == "not a database"


def test_unreachable_server_is_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "0")
    source = open_source("http://127.0.0.1:9")

    with pytest.raises(StoreError, match="unreachable"):
        source.experiments()


def test_local_files_refuse_other_schemes() -> None:
    with pytest.raises(InvalidValueError, match="mlflow-artifacts"):
        LocalFiles().files("mlflow-artifacts:/1/abc/artifacts")


def test_local_files_do_not_follow_links(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "kept.txt").write_text("x")
    (tmp_path / "secret.txt").write_text("s")
    (tmp_path / "run" / "link.txt").symlink_to(tmp_path / "secret.txt")

    files = LocalFiles().files(str(tmp_path / "run"))

    assert [f.path for f in files] == ["kept.txt"]


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://ada:secret@db:5432/mlflow", "postgresql://ada@db:5432/mlflow"),
        ("mysql://root@db/mlflow", "mysql://root@db/mlflow"),
        ("http://u:p@host", "http://u@host"),
    ],
    ids=["password", "no-password", "server"],
)
def test_uris_are_shown_without_passwords(uri: str, shown: str) -> None:
    assert redact(uri) == shown
