"""``BackgroundSender``: writes sent in order on one thread, errors raised later."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mltrail import InvalidValueError, MltrailWarning
from mltrail.store import _rest_sender
from mltrail.store._rest_sender import BackgroundSender


class _Recorder:
    def __init__(self, refuse: str | None = None) -> None:
        self.sent: list[str] = []
        self.threads: set[str] = set()
        self.refuse = refuse
        self.gate = threading.Event()
        self.gate.set()

    def __call__(
        self, method: str, path: str, fields: dict[str, Any], idempotent: bool
    ) -> None:
        self.gate.wait()
        self.threads.add(threading.current_thread().name)
        if path == self.refuse:
            raise InvalidValueError("run", fields["run_id"], "an active run")
        self.sent.append(path)


def test_writes_are_sent_in_order_off_the_calling_thread() -> None:
    recorder = _Recorder()
    sender = BackgroundSender(recorder)
    for index in range(50):
        sender.submit(("POST", f"/w/{index}", {}, True))
    sender.drain()
    assert recorder.sent == [f"/w/{index}" for index in range(50)]
    assert recorder.threads == {"mltrail-rest-sender"}


def test_drain_waits_for_the_write_being_sent() -> None:
    recorder = _Recorder()
    recorder.gate.clear()
    sender = BackgroundSender(recorder)
    sender.submit(("POST", "/slow", {}, True))
    threading.Timer(0.05, recorder.gate.set).start()
    sender.drain()
    assert recorder.sent == ["/slow"]


def test_a_refused_write_is_raised_once_by_the_next_drain() -> None:
    recorder = _Recorder(refuse="/bad")
    sender = BackgroundSender(recorder)
    sender.submit(("POST", "/bad", {"run_id": "r1"}, False))
    sender.submit(("POST", "/good", {"run_id": "r1"}, False))
    with pytest.raises(InvalidValueError, match="r1") as caught:
        sender.drain()
    assert "POST /bad" in " ".join(caught.value.__notes__)
    assert recorder.sent == ["/good"]  # later writes still go
    sender.drain()  # raised once


def test_drain_all_warns_about_refused_writes() -> None:
    sender = BackgroundSender(_Recorder(refuse="/bad"))
    sender.submit(("POST", "/bad", {"run_id": "r2"}, False))
    with pytest.warns(MltrailWarning, match="could not send a write"):
        _rest_sender.drain_all()
