"""Path traversal: a corpus against every artifact route, with an audit hook.

The hook records every file the process opens, creates, lists or removes while the
corpus runs; none may be outside the test's folder (the server's roots live there),
and the secret planted beside the roots is never read.
"""

from __future__ import annotations

import http.client
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from mltrail.server import ServerSettings, create_app
from mltrail.store._artifact_batch import pack
from mltrail.store._sql import SqlStore
from tests.server._live import threaded_server

SECRET = b"TOP-SECRET-CONTENT"
CORPUS = [
    "..",
    "../secret.txt",
    "0/../../secret.txt",
    "0/r/../../../secret.txt",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    "0/%2e%2e/%2e%2e/secret.txt",
    "%252e%252e/secret.txt",
    "0/%252e%252e%252f%252e%252e%252fsecret.txt",
    "..%5csecret.txt",
    "0\\..\\..\\secret.txt",
    "..\\secret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "C:/Windows/win.ini",
    "C:%5cWindows%5cwin.ini",
    "0/a%00b.txt",
    "0/link/secret.txt",
    "0/" + "a" * 5000,
]
# Valid but extreme: may be written, must stay inside the root.
DEEP = "0/" + "/".join(["d"] * 400) + "/x"
_recording: list[tuple[str, str]] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _recording is None:
        return
    if event in (
        "open",
        "os.mkdir",
        "os.remove",
        "os.rmdir",
        "os.rename",
        "os.replace",
        "os.listdir",
        "os.scandir",
        "shutil.rmtree",
        "os.symlink",
        "os.chmod",
    ):
        target = args[0] if args else None
        if isinstance(target, str | bytes | os.PathLike):
            _recording.append((event, os.fsdecode(target)))


sys.addaudithook(_audit)


@pytest.fixture
def recording() -> Iterator[list[tuple[str, str]]]:
    global _recording
    _recording = []
    try:
        yield _recording
    finally:
        _recording = None


@pytest.fixture
def server(sqlite_store: SqlStore, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    root = tmp_path / "roots"
    destination = root / "destination"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (destination / "0").mkdir(parents=True)
    (destination / "0" / "link").symlink_to(outside, target_is_directory=True)
    settings = ServerSettings(artifacts_destination=str(destination))
    app = create_app(sqlite_store, settings=settings)
    run = sqlite_store.create_run("0", user_id="a", start_time=0, run_name="r")
    model = sqlite_store.create_logged_model("0", name="m")
    with threaded_server(app) as url:
        yield url, run.info.run_id, model.model_id


def _raw(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = None,
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port, timeout=30
    )
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", "localhost")
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        if content_type is not None:
            connection.putheader("Content-Type", content_type)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _requests(run_id: str, model_id: str, path: str) -> list[tuple[str, str]]:
    query = quote(path, safe="")
    routes = []
    for prefix in ("/api", "/ajax-api"):
        proxy = f"{prefix}/2.0/mlflow-artifacts/artifacts"
        routes += [
            ("GET", f"{proxy}/{path}"),
            ("PUT", f"{proxy}/{path}"),
            ("DELETE", f"{proxy}/{path}"),
            ("GET", f"{proxy}?path={query}"),
            ("GET", f"{prefix}/2.0/mlflow/artifacts/list?run_id={run_id}&path={query}"),
            (
                "GET",
                f"{prefix}/2.0/mlflow/logged-models/{model_id}/artifacts/directories"
                f"?artifact_directory_path={query}",
            ),
        ]
    return routes


def test_traversal_corpus_never_leaves_the_roots(
    server: tuple[str, str, str], tmp_path: Path, recording: list[tuple[str, str]]
) -> None:
    url, run_id, model_id = server
    # Warm up every route with a safe path, so lazy imports happen before recording.
    for method, route in _requests(run_id, model_id, "0/ok.txt"):
        _raw(url, method, route, b"ok" if method == "PUT" else None)
    recording.clear()
    answers = []
    for path in [*CORPUS, DEEP]:
        for method, route in _requests(run_id, model_id, path):
            status, body = _raw(url, method, route, b"x" if method == "PUT" else None)
            answers.append((path, method, route[:60], status))
            assert SECRET not in body, (path, method, route)
            # Every answer comes from the app (a JSON body), not from the HTTP parser.
            assert body.startswith(b"{"), (path, method, route, status, body[:200])
            if path != DEEP and (method == "PUT" or "?" not in route):
                assert status in (400, 404), (path, method, route, status, body[:200])
    roots = str(tmp_path / "roots")
    outside = [
        (event, target)
        for event, target in recording
        if not os.path.abspath(target).startswith(roots + os.sep)
        and os.path.abspath(target) != roots
    ]
    assert outside == []
    assert (tmp_path / "outside" / "secret.txt").read_bytes() == SECRET
    assert not list((tmp_path / "outside").glob("x*"))
    assert len(answers) == (len(CORPUS) + 1) * 12


def test_traversal_corpus_in_artifact_batches(
    server: tuple[str, str, str], tmp_path: Path, recording: list[tuple[str, str]]
) -> None:
    """Each path of the corpus as a batch's directory, and as a file in a batch.

    A file's name is relative to the batch's directory, ``0``: the corpus's
    ``0/...`` paths lose their ``0/``.
    """
    url, _, _ = server
    tar = "application/x-tar"
    for prefix in ("/api", "/ajax-api"):
        _raw(url, "PUT", f"{prefix}/2.0/mltrail/artifacts/0", pack([("ok", b"")]), tar)
    recording.clear()
    for path in [*CORPUS, DEEP]:
        for prefix in ("/api", "/ajax-api"):
            batch = f"{prefix}/2.0/mltrail/artifacts"
            for route, body in (
                (f"{batch}/{path}", pack([("x.txt", b"x")])),
                (
                    f"{batch}/0",
                    pack([("fine.txt", b"x"), (path.removeprefix("0/"), b"x")]),
                ),
            ):
                status, answer = _raw(url, "PUT", route, body, tar)
                assert SECRET not in answer, (path, route)
                assert answer.startswith(b"{"), (path, route, status, answer[:200])
                if path != DEEP:
                    assert status in (400, 404), (path, route, status, answer[:200])
    roots = str(tmp_path / "roots")
    assert [
        (event, target)
        for event, target in recording
        if not os.path.abspath(target).startswith(roots + os.sep)
    ] == []
    assert not list((tmp_path / "outside").glob("x*"))


def test_listings_never_show_what_a_link_points_at(
    server: tuple[str, str, str],
) -> None:
    url, _, _ = server
    status, body = _raw(url, "GET", "/api/2.0/mlflow-artifacts/artifacts?path=0")
    assert status == 200
    assert b"link" not in body
    assert b"secret" not in body
