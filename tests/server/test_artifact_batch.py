"""A group of small files in one request: ``PUT /api/2.0/mltrail/artifacts/<dir>``."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient

from mltrail._errors import InvalidValueError
from mltrail.server import ServerSettings, _core, create_app
from mltrail.store._artifact_batch import MAX_BATCH_BYTES, MAX_BATCH_FILES, pack, unpack
from mltrail.store._artifacts_http import BATCH_FEATURE, HttpArtifactStore
from mltrail.store._rest_client import RestClient
from mltrail.store._sql import SqlStore
from tests.server._live import threaded_server
from tests.server.test_auth import ADA, ADMIN, _client

BATCH = "/api/2.0/mltrail/artifacts"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
TAR = {"content-type": "application/x-tar"}
FILES = [
    ("model/MLmodel", b"flavors: {}\n"),
    ("model/model.skops", bytes(range(256)) * 10),
    ("plots/roc curve é.json", b'{"x": [0, 1]}'),
    ("empty.txt", b""),
]


def _tar(*members: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            archive.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return buffer.getvalue()


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, **fields: object
) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    for key, value in fields.items():
        setattr(member, key, value)
    return member


def test_pack_and_unpack_keep_names_contents_and_order() -> None:
    assert unpack(pack(FILES)) == FILES


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_member("link", tarfile.SYMTYPE, linkname="/etc/passwd"), "regular file"),
        (_member("hard", tarfile.LNKTYPE, linkname="model/MLmodel"), "regular file"),
        (_member("folder", tarfile.DIRTYPE), "regular file"),
        (_member("device", tarfile.CHRTYPE, devmajor=1, devminor=3), "regular file"),
        (_member("fifo", tarfile.FIFOTYPE), "regular file"),
        (_member("../outside.txt", size=1), "stays inside"),
        (_member("a/../../outside.txt", size=1), "stays inside"),
        (_member("/etc/passwd", size=1), "relative path"),
        (_member("..\\outside.txt", size=1), "backslashes"),
        (_member("a/%2e%2e/%2e%2e/x", size=1), "stays inside"),
        (_member(".", size=1), "relative file path"),
    ],
    ids=lambda value: getattr(value, "name", None) or str(value)[:12],
)
def test_unpack_refuses_anything_but_a_plain_file_inside(
    member: tarfile.TarInfo, message: str
) -> None:
    body = _tar(_member("fine.txt", size=1), member, data=b"x")
    with pytest.raises(InvalidValueError, match=message):
        unpack(body)


@pytest.mark.parametrize(
    "body",
    [b"not a tar at all" * 40, pack(FILES)[:700], b"\x00" * 10 + b"\xff" * 502],
    ids=["garbage", "truncated", "bad-header"],
)
def test_unpack_refuses_a_body_that_is_not_a_tar(body: bytes) -> None:
    with pytest.raises(InvalidValueError, match="artifact batch"):
        unpack(body)


def test_unpack_refuses_too_many_files() -> None:
    body = pack([(f"f{index}", b"") for index in range(MAX_BATCH_FILES + 1)])
    with pytest.raises(InvalidValueError, match=f"at most {MAX_BATCH_FILES} files"):
        unpack(body)


def test_the_route_writes_every_file(
    client: TestClient, settings: ServerSettings
) -> None:
    response = client.put(f"{BATCH}/0/r1/artifacts", content=pack(FILES), headers=TAR)
    assert (response.status_code, response.json()) == (200, {"files": len(FILES)})
    root = Path(settings.artifacts_destination) / "0/r1/artifacts"
    for path, data in FILES:
        assert (root / path).read_bytes() == data
        assert client.get(f"{PROXY}/0/r1/artifacts/{path}").content == data


def test_a_bad_member_writes_nothing(
    client: TestClient, settings: ServerSettings
) -> None:
    body = _tar(_member("first.txt", size=1), _member("../x", size=1), data=b"x")
    response = client.put(f"{BATCH}/0/r2", content=body, headers=TAR)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "../x" in response.json()["message"]
    assert not (Path(settings.artifacts_destination) / "0/r2").exists()


@pytest.mark.parametrize("content_type", [None, "application/octet-stream"])
def test_the_route_wants_a_tar_content_type(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.put(f"{BATCH}/0/r3", content=pack(FILES), headers=headers)
    assert response.status_code == 415
    assert "application/x-tar" in response.json()["message"]


def test_the_route_needs_an_experiment_id_first(client: TestClient) -> None:
    response = client.put(f"{BATCH}/runs/r4", content=pack(FILES), headers=TAR)
    assert response.status_code == 400
    assert "starts with an experiment id" in response.json()["message"]


def test_the_route_limits_the_body(client: TestClient) -> None:
    big = pack([("a.bin", b"\x00" * (2 * MAX_BATCH_BYTES + 1))])
    response = client.put(f"{BATCH}/0/r5", content=big, headers=TAR)
    assert response.status_code == 413


def test_the_route_needs_edit_permission(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    client = _client(sqlite_store, tmp_path)  # default permission: READ
    experiment_id = client.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "admins"}, headers=ADMIN
    ).json()["experiment_id"]
    path = f"{BATCH}/{experiment_id}/r/artifacts"
    refused = client.put(path, content=pack(FILES), headers={**TAR, **ADA})
    assert refused.status_code == 403
    assert not (tmp_path / "files" / experiment_id).exists()
    allowed = client.put(path, content=pack(FILES), headers={**TAR, **ADMIN})
    assert allowed.status_code == 200


def test_no_serve_artifacts_has_no_batch_route(sqlite_store: SqlStore) -> None:
    app = create_app(sqlite_store, settings=ServerSettings(serve_artifacts=False))
    client = TestClient(app, base_url="http://localhost")
    response = client.put(f"{BATCH}/0/r", content=pack(FILES), headers=TAR)
    assert response.status_code == 404


# The client: one request to mltrail's server, one per file to a server without the
# route, and a large group always file by file.


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Record (method, path, status) of every request but server-info."""
    sent: list[tuple[str, str, int]] = []
    original = RestClient.request

    def request(self: RestClient, method: str, path: str, **kwargs: object) -> object:
        response = original(self, method, path, **kwargs)  # type: ignore[arg-type]
        if not path.endswith("/server-info"):
            sent.append((method, path.split("?")[0], response.status))
        return response

    monkeypatch.setattr(RestClient, "request", request)
    return sent


@pytest.fixture
def served(sqlite_app: Starlette) -> Iterator[str]:
    with threaded_server(sqlite_app) as url:
        yield url


def test_write_files_is_one_request(
    served: str, requests: list[tuple[str, str, int]], settings: ServerSettings
) -> None:
    store = HttpArtifactStore(served)
    store.write_files("mlflow-artifacts:/0/run/artifacts", FILES)
    assert requests == [("PUT", f"{BATCH}/0/run/artifacts", 200)]
    root = Path(settings.artifacts_destination) / "0/run/artifacts"
    assert {path: (root / path).read_bytes() for path, _ in FILES} == dict(FILES)


def test_log_dir_of_a_small_folder_is_one_request(
    served: str,
    requests: list[tuple[str, str, int]],
    settings: ServerSettings,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_bytes(b"flavors: {}")
    (folder / "sub" / "weights.bin").write_bytes(b"\x01\x02")
    HttpArtifactStore(served).log_dir("mlflow-artifacts:/0/run/artifacts", folder, "m")
    assert requests == [("PUT", f"{BATCH}/0/run/artifacts", 200)]
    root = Path(settings.artifacts_destination) / "0/run/artifacts/m"
    assert (root / "MLmodel").read_bytes() == b"flavors: {}"
    assert (root / "sub" / "weights.bin").read_bytes() == b"\x01\x02"


def test_a_large_group_goes_file_by_file(
    served: str, requests: list[tuple[str, str, int]]
) -> None:
    half = b"\x07" * (MAX_BATCH_BYTES // 2 + 1)
    HttpArtifactStore(served).write_files(
        "mlflow-artifacts:/0/run/artifacts", [("a.bin", half), ("b.bin", half)]
    )
    assert [path for _, path, _ in requests] == [
        f"{PROXY}/0/run/artifacts/a.bin",
        f"{PROXY}/0/run/artifacts/b.bin",
    ]


@pytest.mark.parametrize("reason", ["no-feature", "no-proxy-flag"])
def test_a_server_that_takes_no_batches_gets_one_put_per_file(
    sqlite_store: SqlStore,
    settings: ServerSettings,
    requests: list[tuple[str, str, int]],
    monkeypatch: pytest.MonkeyPatch,
    reason: str,
) -> None:
    """As MLflow's server: its server-info names no mltrail feature."""
    if reason == "no-feature":
        monkeypatch.setattr(
            _core,
            "MLTRAIL_FEATURES",
            tuple(name for name in _core.MLTRAIL_FEATURES if name != BATCH_FEATURE),
        )
    else:
        original = _core.server_info

        async def server_info(request: Request) -> Response:
            answer = await original(request)
            return JSONResponse(
                {**json.loads(bytes(answer.body)), "serve_artifacts": False}
            )

        monkeypatch.setattr(_core, "server_info", server_info)
    app = create_app(sqlite_store, settings=settings)
    with threaded_server(app) as url:
        HttpArtifactStore(url).write_files("mlflow-artifacts:/0/run/artifacts", FILES)
    assert requests == [
        ("PUT", f"{PROXY}/0/run/artifacts/{quote(path)}", 200) for path, _ in FILES
    ]
    root = Path(settings.artifacts_destination) / "0/run/artifacts"
    assert {path: (root / path).read_bytes() for path, _ in FILES} == dict(FILES)


def test_a_batch_checks_every_path_before_sending(
    served: str, requests: list[tuple[str, str, int]], tmp_path: Path
) -> None:
    store = HttpArtifactStore(served)
    with pytest.raises(InvalidValueError, match="artifact"):
        store.write_files(
            "mlflow-artifacts:/0/run/artifacts", [("ok.txt", b""), ("../x", b"")]
        )
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "b.txt").write_bytes(b"b")
    with pytest.raises(InvalidValueError, match="artifact"):
        store.log_dir("mlflow-artifacts:/0/run/artifacts", tmp_path, "../outside")
    assert requests == []
