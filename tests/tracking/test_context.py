from __future__ import annotations

import getpass
import os
import sys

import pytest

from mltrail.tracking import _context


@pytest.fixture(autouse=True)
def forget_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_context, "_user", None)


def test_user_is_the_login_name() -> None:
    assert _context.get_user() == getpass.getuser()


def test_user_without_login_name_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", fail)
    assert _context.get_user() == "unknown"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-c"], "<console>"),
        ([""], "<console>"),
        ([], "<console>"),
        (["train.py"], "train.py"),
    ],
    ids=["dash-c", "empty", "no-argv", "script"],
)
def test_source_name(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: str
) -> None:
    monkeypatch.setattr(sys, "argv", argv)
    if expected == "train.py":  # resolved against the working directory
        expected = os.path.realpath(expected)
    assert _context.system_tags()["mlflow.source.name"] == expected


def test_run_names_vary() -> None:
    assert len({_context.generate_run_name() for _ in range(50)}) > 40
