"""No run data drives the reader's terminal: every command shows controls escaped.

A run's name, params, tags, metric keys, artifact names and its experiment's name
are set to escape sequences that set the window title, clear the screen, open a
hyperlink, switch colours through an 8-bit CSI, reorder text (bidi overrides) or
hide it (zero-width, backspace), and to rich markup. Every command that prints
them must show them as text.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail._entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    RunTag,
)
from mltrail.cli import cli
from mltrail.cli._render import escape_controls
from mltrail.tracking import TrackingClient

WIDE = {"COLUMNS": "400"}
HOSTILE = {
    "title": "\x1b]0;pwned\x07",
    "clear": "\x1b[2J\x1b[H",
    "link": "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "csi8": "\x9b31mred",
    "bidi": "abc\u202edcba\u2066x\u2069",
    "hidden": "a\u200bb\x08c\x7fd",
    "separator": "line\u2028para\u2029end",
    "markup": "[bold red]loud[/] [link=http://evil.example/]here[/link]",
}
SAFE_LAYOUT = {"\n", "\t"}


def _unsafe(text: str) -> list[str]:
    """Return the characters in ``text`` that act on a terminal."""
    return [
        char
        for char in text
        if char not in SAFE_LAYOUT
        and unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
    ]


@pytest.fixture
def hostile(client: TrackingClient, tmp_path: Path) -> list[str]:
    """Two runs and an experiment whose every user-chosen string is hostile."""
    experiment_id = client.create_experiment("exp" + HOSTILE["title"])
    run_ids = []
    for index, (label, value) in enumerate(list(HOSTILE.items())[:2]):
        run_id = client.create_run(
            experiment_id, run_name=f"{label}{value}{HOSTILE['bidi']}"
        ).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(f"m{v}", float(index), 0, 0) for v in HOSTILE.values()],
            params=[Param(f"p{k}{v}", f"{v}{index}") for k, v in HOSTILE.items()],
            tags=[RunTag(f"t{v}", v) for v in HOSTILE.values()],
        )
        folder = tmp_path / f"files{index}"
        folder.mkdir()
        for key, value in HOSTILE.items():
            name = value.replace("/", "_").replace("\\", "_")
            (folder / f"{key}{name}.txt").write_text(value)
        client.log_artifacts(run_id, folder, artifact_path="dir" + HOSTILE["clear"])
        dataset = Dataset("data" + HOSTILE["link"], "d" + HOSTILE["csi8"], "code", "{}")
        client.log_inputs(
            run_id,
            [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])],
        )
        client.set_terminated(run_id)
        run_ids.append(run_id)
    model = "model" + HOSTILE["title"]
    client.create_registered_model(
        model, tags={f"t{v}": v for v in HOSTILE.values()}, description=HOSTILE["link"]
    )
    client.create_model_version(model, "s3://bucket/" + HOSTILE["clear"])
    client.set_registered_model_alias(model, "champion", 1)
    return run_ids


def _commands(run_ids: list[str]) -> list[list[str]]:
    first, second = run_ids
    return [
        ["experiments", "list"],
        ["experiments", "list", "--json"],
        ["runs", "list"],
        [
            "runs",
            "list",
            "--columns",
            ",".join(f"metrics.m{v}" for v in HOSTILE.values()),
        ],
        ["runs", "list", "--json"],
        ["runs", "show", first],
        ["runs", "show", first, "--json"],
        ["runs", "compare", first, second],
        ["runs", "compare", first, second, "--json"],
        ["runs", "delete", first],
        ["runs", "list", "--view", "deleted"],
        ["gc", "--dry-run"],
        ["runs", "restore", first],
        ["runs", "show", "x" + HOSTILE["title"]],
        ["runs", "list", "--filter", "bad" + HOSTILE["clear"]],
        ["runs", "list", "--columns", "nope" + HOSTILE["link"]],
        ["experiments", "delete", "exp" + HOSTILE["title"]],
        ["gc", "--dry-run"],
        ["experiments", "restore", "exp" + HOSTILE["title"]],
        ["models", "list"],
        ["models", "list", "--json"],
        ["models", "show", "model" + HOSTILE["title"]],
        ["models", "show", "model" + HOSTILE["title"], "--json"],
        ["models", "alias", "model" + HOSTILE["title"], "champion", "1"],
        ["models", "alias", "model" + HOSTILE["title"], "x" + HOSTILE["clear"], "1"],
        ["models", "show", "nope" + HOSTILE["title"]],
    ]


def test_no_command_sends_controls_to_the_terminal(
    runner: CliRunner, hostile: list[str]
) -> None:
    for args in _commands(hostile):
        result = runner.invoke(cli, args, env=WIDE)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            assert _unsafe(text) == [], f"{args}: {stream} {text!r}"


def test_tables_show_the_escapes_and_the_markup_as_text(
    runner: CliRunner, hostile: list[str]
) -> None:
    shown = runner.invoke(cli, ["runs", "show", hostile[0]], env=WIDE).stdout
    assert escape_controls(HOSTILE["title"]) == "\\x1b]0;pwned\\x07"
    for value in HOSTILE.values():
        assert escape_controls(value) in shown
    listed = runner.invoke(cli, ["runs", "list"], env=WIDE).stdout
    assert escape_controls("title" + HOSTILE["title"]) in listed


def test_json_keeps_the_values_exact(runner: CliRunner, hostile: list[str]) -> None:
    shown = runner.invoke(cli, ["runs", "show", hostile[0], "--json"]).stdout
    document = json.loads(shown)
    assert document["data"]["tags"]["t" + HOSTILE["link"]] == HOSTILE["link"]
    assert document["info"]["run_name"].startswith("title" + HOSTILE["title"])


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain, ünïcode and 漢字", "plain, ünïcode and 漢字"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("\x1b[31m", "\\x1b[31m"),
        ("\u202e", "\\u202e"),
        ("\U000e0041", "\\U000e0041"),
        ("\ud800", "\\ud800"),
    ],
    ids=["printable", "layout", "escape", "bidi", "tag-character", "surrogate"],
)
def test_escape_controls(text: str, shown: str) -> None:
    assert escape_controls(text) == shown
