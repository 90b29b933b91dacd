"""S3 artifacts against moto's server over real HTTP: store, proxy, direct writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mltrail import InvalidValueError, NotFoundError
from mltrail.server import ServerSettings, create_app
from mltrail.store._artifact_batch import pack
from mltrail.store._artifacts import open_artifact_store
from mltrail.store._artifacts_s3 import S3ArtifactStore
from mltrail.store._sql import SqlStore
from tests.server._live import free_port

BUCKET = "mltrail-test"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3ArtifactStore:
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MLTRAIL_S3_ENDPOINT_URL": s3_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if BUCKET not in existing:
        client.create_bucket(Bucket=BUCKET)
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    return S3ArtifactStore(client, part_size=5 * MIB)


RUN = f"s3://{BUCKET}/runs/1/abc/artifacts"


def test_write_list_read_delete(s3: S3ArtifactStore, tmp_path: Path) -> None:
    s3.write_bytes(RUN, "notes/a.txt", b"hello")
    source = tmp_path / "model.pkl"
    source.write_bytes(b"123")
    s3.log_file(RUN, source, "model")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "roc.png").write_bytes(b"png")
    s3.log_dir(RUN, folder, "plots")
    assert [(f.path, f.is_dir) for f in s3.list(RUN)] == [
        ("model", True),
        ("notes", True),
        ("plots", True),
    ]
    assert [(f.path, f.file_size) for f in s3.list(RUN, "model")] == [
        ("model/model.pkl", 3)
    ]
    assert s3.read_bytes(RUN, "plots/sub/roc.png") == b"png"
    copy = s3.download(RUN, "plots", tmp_path / "copy")
    assert (copy / "sub" / "roc.png").read_bytes() == b"png"
    single = s3.download(RUN, "notes/a.txt", tmp_path / "one")
    assert single.read_bytes() == b"hello"
    s3.delete(RUN, "plots")
    assert [f.path for f in s3.list(RUN)] == ["model", "notes"]
    s3.delete(RUN, "notes/a.txt")
    with pytest.raises(NotFoundError):
        s3.read_bytes(RUN, "notes/a.txt")
    with pytest.raises(NotFoundError):
        s3.delete(RUN, "notes/a.txt")


def test_large_file_goes_up_in_parts(s3: S3ArtifactStore) -> None:
    import boto3

    chunks = (bytes([i % 256]) * MIB for i in range(12))
    size = s3.write_stream(RUN, "big.bin", chunks)
    assert size == 12 * MIB
    client = boto3.client("s3", endpoint_url=s3.client.meta.endpoint_url)
    head = client.head_object(Bucket=BUCKET, Key="runs/1/abc/artifacts/big.bin")
    assert head["ContentLength"] == 12 * MIB
    assert head["ETag"].strip('"').endswith("-3")  # three parts: 5 + 5 + 2 MiB
    total, stream = s3.open_stream(RUN, "big.bin")
    assert total == 12 * MIB
    assert sum(len(chunk) for chunk in stream) == 12 * MIB


def test_failed_upload_leaves_no_object(s3: S3ArtifactStore) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x" * (6 * MIB)
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        s3.write_stream(RUN, "half.bin", chunks())
    assert [f.path for f in s3.list(RUN)] == []


@pytest.mark.parametrize("path", ["../x", "a/../../x", "%2e%2e/x", "/etc/passwd"])
def test_keys_never_leave_the_prefix(s3: S3ArtifactStore, path: str) -> None:
    with pytest.raises(InvalidValueError):
        s3.write_bytes(RUN, path, b"x")


def test_open_artifact_store_picks_s3(s3: S3ArtifactStore) -> None:
    assert isinstance(open_artifact_store(RUN), S3ArtifactStore)


@pytest.fixture
def s3_server(s3: S3ArtifactStore, sqlite_store: SqlStore) -> TestClient:
    """A server whose artifact proxy writes to s3://BUCKET/proxy."""
    settings = ServerSettings(artifacts_destination=f"s3://{BUCKET}/proxy")
    return TestClient(
        create_app(sqlite_store, s3, settings), base_url="http://localhost"
    )


def test_proxy_streams_to_an_s3_destination(
    s3: S3ArtifactStore, s3_server: TestClient
) -> None:
    client = s3_server
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    assert client.put(f"{proxy}/0/r/artifacts/a.txt", content=b"via proxy").json() == {}
    assert s3.read_bytes(f"s3://{BUCKET}/proxy", "0/r/artifacts/a.txt") == b"via proxy"
    assert client.get(f"{proxy}/0/r/artifacts/a.txt").content == b"via proxy"
    listing = client.get(proxy, params={"path": "0/r/artifacts"}).json()
    assert listing == {"files": [{"path": "a.txt", "is_dir": False, "file_size": 9}]}


def test_a_batch_through_the_proxy_lands_in_s3(
    s3: S3ArtifactStore, s3_server: TestClient
) -> None:
    files = [("model/MLmodel", b"flavors: {}"), ("plots/roc.json", b"{}")]
    answer = s3_server.put(
        "/api/2.0/mltrail/artifacts/0/r/artifacts",
        content=pack(files),
        headers={"content-type": "application/x-tar"},
    )
    assert answer.json() == {"files": 2}
    for path, data in files:
        assert s3.read_bytes(f"s3://{BUCKET}/proxy", f"0/r/artifacts/{path}") == data


def test_clients_write_straight_to_s3(
    s3: S3ArtifactStore, sqlite_store: SqlStore, tmp_path: Path
) -> None:
    import mltrail

    root = f"s3://{BUCKET}/direct"
    experiment_id = sqlite_store.create_experiment("s3", artifact_location=root)
    run = sqlite_store.create_run(
        experiment_id, user_id="a", start_time=0, run_name="r"
    )
    assert run.info.artifact_uri == f"{root}/{run.info.run_id}/artifacts"
    mltrail.set_tracking_uri(sqlite_store.uri)
    client = mltrail.TrackingClient()
    client.log_text(run.info.run_id, "direct", "note.txt")
    assert s3.read_bytes(run.info.artifact_uri, "note.txt") == b"direct"
    settings = ServerSettings(artifacts_destination=str(tmp_path))
    server = TestClient(
        create_app(sqlite_store, settings=settings), base_url="http://localhost"
    )
    listing = server.get(
        "/api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id}
    ).json()
    assert listing["files"] == [{"path": "note.txt", "is_dir": False, "file_size": 6}]


def test_s3_errors_become_mltrail_errors(s3: S3ArtifactStore, tmp_path: Path) -> None:
    from mltrail import StoreError

    with pytest.raises(InvalidValueError, match="s3://bucket/prefix"):
        s3.write_bytes("/local/path", "a.txt", b"x")
    with pytest.raises(StoreError, match="S3 refused"):
        s3.write_bytes("s3://no-such-bucket/runs", "a.txt", b"x")
    with pytest.raises(StoreError, match="S3 refused"):
        s3.list("s3://no-such-bucket/runs")
    with pytest.raises(InvalidValueError, match="non-empty"):
        s3.delete(RUN, "")
    with pytest.raises(NotFoundError):
        s3.log_file(RUN, tmp_path / "missing.txt")
    with pytest.raises(NotFoundError):
        s3.log_dir(RUN, tmp_path / "missing")
    assert s3.download(RUN, "", tmp_path / "empty") == tmp_path / "empty"
    unreachable = S3ArtifactStore(
        __import__("boto3").client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            region_name="us-east-1",
        )
    )
    unreachable.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StoreError, match="cannot be reached"):
        unreachable.read_bytes(RUN, "a.txt")


def test_delete_run_artifacts_removes_the_prefix(s3: S3ArtifactStore) -> None:
    s3.write_bytes(RUN, "a/b.txt", b"x")
    s3.write_bytes(f"s3://{BUCKET}/runs/1/other/artifacts", "keep.txt", b"y")
    s3.delete_run_artifacts(RUN)
    s3.delete_run_artifacts(RUN)  # nothing left is fine
    assert s3.list(RUN) == []
    assert [f.path for f in s3.list(f"s3://{BUCKET}/runs/1/other/artifacts")] == [
        "keep.txt"
    ]
