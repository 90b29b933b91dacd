"""``RestClient``: retries with backoff and Retry-After, credentials, error mapping."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mltrail import (
    ConflictError,
    InvalidValueError,
    MltrailWarning,
    NotFoundError,
    StoreError,
)
from mltrail._entities import Param
from mltrail.cli._main import cli
from mltrail.store import _rest_client
from mltrail.store._rest import RestStore
from mltrail.store._rest_client import RestClient, ServerUnavailableError
from mltrail.store._rest_spool import Spool, spool_of, spooled_servers
from tests.server._live import free_port, threaded_server

calls: dict[str, int] = {}


async def flaky(request: Request) -> Response:
    name = request.path_params["name"]
    calls[name] = calls.get(name, 0) + 1
    if calls[name] <= int(request.query_params.get("failures", "0")):
        status = int(request.query_params.get("status", "503"))
        return JSONResponse(
            {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"},
            status_code=status,
            headers={"Retry-After": request.query_params.get("after", "0")},
        )
    return JSONResponse({"calls": calls[name]})


async def echo_auth(request: Request) -> Response:
    return JSONResponse({"authorization": request.headers.get("authorization")})


async def error(request: Request) -> Response:
    code = request.path_params["code"]
    status = {"RESOURCE_DOES_NOT_EXIST": 404, "RESOURCE_ALREADY_EXISTS": 400}.get(
        code, 400
    )
    if code == "plain":
        return PlainTextResponse("no json", status_code=418)
    if code == "unauth":
        return JSONResponse({"message": "who?"}, status_code=401)
    return JSONResponse(
        {"error_code": code, "message": f"said {code}"}, status_code=status
    )


async def not_json(request: Request) -> Response:
    return PlainTextResponse("<html>")


APP = Starlette(
    routes=[
        Route("/flaky/{name}", flaky, methods=["GET", "POST"]),
        Route("/auth", echo_auth),
        Route("/error/{code}", error),
        Route("/html", not_json),
    ]
)


@pytest.fixture
def client() -> Iterator[RestClient]:
    calls.clear()
    with threaded_server(APP) as url:
        yield RestClient(url, retries=3, backoff=0.01)


def test_unavailable_answers_are_retried(client: RestClient) -> None:
    assert client.call("GET", "/flaky/a", {"failures": 2}) == {"calls": 3}


def test_retry_after_is_honoured(client: RestClient) -> None:
    started = time.monotonic()
    client.call("POST", "/flaky/b", {}, idempotent=False)
    client.call("GET", "/flaky/c", {"failures": 1, "after": 1})
    assert time.monotonic() - started >= 1.0


def test_server_errors_retry_only_idempotent_calls(client: RestClient) -> None:
    assert client.call("GET", "/flaky/d", {"failures": 1, "status": 500}) == {
        "calls": 2
    }
    with pytest.raises(ServerUnavailableError, match="failed with 500"):
        client.call("POST", "/flaky/e?failures=1&status=500", {}, idempotent=False)


def test_give_up_after_the_retries(client: RestClient) -> None:
    with pytest.raises(ServerUnavailableError, match="after 3 retries"):
        client.call("GET", "/flaky/f", {"failures": 10})
    assert calls["f"] == 4


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"MLTRAIL_TRACKING_TOKEN": "t0k"}, "Bearer t0k"),
        ({"MLFLOW_TRACKING_TOKEN": "m"}, "Bearer m"),
        (
            {
                "MLTRAIL_TRACKING_USERNAME": "ada",
                "MLTRAIL_TRACKING_PASSWORD": "pw",
                "MLTRAIL_TRACKING_TOKEN": "ignored",
            },
            "Basic YWRhOnB3",
        ),
    ],
    ids=["none", "token", "mlflow-token", "basic-wins"],
)
def test_credentials_come_from_the_environment(
    client: RestClient,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    expected: str | None,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert client.call("GET", "/auth") == {"authorization": expected}


@pytest.mark.parametrize(
    ("code", "error", "match"),
    [
        ("RESOURCE_DOES_NOT_EXIST", NotFoundError, "said RESOURCE_DOES_NOT_EXIST"),
        ("ENDPOINT_NOT_FOUND", NotFoundError, "not a route of this server"),
        ("RESOURCE_ALREADY_EXISTS", ConflictError, "said"),
        ("INVALID_PARAMETER_VALUE", InvalidValueError, "said"),
        ("plain", ServerUnavailableError, "no json"),
        ("unauth", StoreError, "MLTRAIL_TRACKING_USERNAME"),
    ],
)
def test_error_answers_map_to_mltrail_errors(
    client: RestClient, code: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        client.call("GET", f"/error/{code}")


def test_a_body_that_is_not_json_is_a_store_error(client: RestClient) -> None:
    with pytest.raises(StoreError, match="not JSON"):
        client.call("GET", "/html")


def test_server_info_of_a_plain_server_is_empty(client: RestClient) -> None:
    assert client.server_info() == {}


def test_sync_sends_what_a_process_left(
    sqlite_app: Starlette, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path / "spool"))
    runner = CliRunner()
    assert "spool is empty" in runner.invoke(cli, ["sync"]).output
    port = free_port()
    with threaded_server(sqlite_app, port=port) as url:
        run_id = (
            RestStore(url)
            .create_run("0", user_id="a", start_time=0, run_name="r")
            .info.run_id
        )
    Spool(url).append(
        "POST",
        "/api/2.0/mlflow/runs/log-batch",
        {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1}]},
    )
    assert spooled_servers() == [url]
    with threaded_server(sqlite_app, port=port):
        result = runner.invoke(cli, ["--tracking-uri", url, "sync"])
        assert result.output == f"Sent 1 spooled request(s) to {url}.\n"
        assert RestStore(url).get_run(run_id).data.metrics == {"m": 1.0}
    assert spooled_servers() == []


def test_spool_skips_refused_requests_and_keeps_them(
    sqlite_app: Starlette, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path / "spool"))
    with threaded_server(sqlite_app) as url:
        spool = Spool(url)
        spool.append(
            "POST",
            "/api/2.0/mlflow/runs/log-batch",
            {"run_id": "f" * 32, "params": [{"key": "p", "value": "1"}]},
        )
        store = RestStore(url)
        assert store.sync() == 1
        store.log_metric_batches([])
    assert "does not exist" in (spool.directory / "rejected.log").read_text()
    assert spool.is_empty()


class HangingUp:
    """A socket on 127.0.0.1 that accepts each connection and closes it at once."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def attempts_of(self, call: object) -> int:
        """How many connections ``call()`` made before it raised."""
        before = self.accepted
        with pytest.raises(ServerUnavailableError, match="unreachable"):
            call()  # type: ignore[operator]
        time.sleep(0.05)  # the last accept is counted
        return self.accepted - before


@pytest.fixture
def hanging_up() -> Iterator[HangingUp]:
    server = HangingUp()
    yield server
    server.socket.close()


def test_a_server_found_down_is_tried_once_for_a_while(
    hanging_up: HangingUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = RestClient(hanging_up.url, retries=3, backoff=0)
    assert hanging_up.attempts_of(lambda: client.call("GET", "/x")) == 4
    assert hanging_up.attempts_of(lambda: client.call("GET", "/x")) == 1  # down
    monkeypatch.setattr(client, "_down_until", time.monotonic())  # window over
    assert not client.is_down
    assert hanging_up.attempts_of(lambda: client.call("GET", "/x")) == 4


def test_a_server_that_answers_again_is_up(tmp_path: Path) -> None:
    port = free_port()
    client = RestClient(f"http://127.0.0.1:{port}", retries=1, backoff=0)
    with pytest.raises(ServerUnavailableError):
        client.call("GET", "/flaky/up")
    assert client.is_down
    calls.clear()
    with threaded_server(APP, port=port):
        assert client.call("GET", "/flaky/up") == {"calls": 1}
    assert not client.is_down


def test_a_process_that_exits_retries_less_and_never_a_down_server(
    hanging_up: HangingUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_rest_client, "_exiting", False)
    _rest_client.mark_exiting()
    assert _rest_client._exiting
    client = RestClient(hanging_up.url, retries=5, backoff=0)
    attempts = hanging_up.attempts_of(lambda: client.call("GET", "/x"))
    assert attempts == 1 + _rest_client.EXIT_RETRIES
    assert client._down_until == math.inf  # down for the rest of the process
    assert hanging_up.attempts_of(lambda: client.call("GET", "/x")) == 1


def test_every_store_of_a_process_spools_to_one_file_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "0")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens
    first, second = RestStore(url), RestStore(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MltrailWarning)  # the server is down
        for index, store in enumerate([first, second, first, second]):
            store.log_batch("r" * 32, params=[Param(f"p{index}", "1")])
    files = [
        path for path in spool_of(url).directory.iterdir() if path.suffix == ".jsonl"
    ]
    assert len(files) == 1
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert [line["fields"]["params"][0]["key"] for line in lines] == [
        "p0",
        "p1",
        "p2",
        "p3",
    ]
