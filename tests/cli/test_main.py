"""The root group: help, --version, --tracking-uri, and the error boundary."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from mltrail._version import __version__
from mltrail.cli import cli, main
from mltrail.tracking import TrackingClient


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = [prefix]
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(cli)


@pytest.mark.parametrize(
    "path", COMMANDS, ids=[" ".join(p) or "mltrail" for p in COMMANDS]
)
def test_every_command_has_help(runner: CliRunner, path: tuple[str, ...]) -> None:
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    assert command.help
    assert all(p.help for p in command.params if isinstance(p, click.Option))


def test_version_prints_package_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mltrail, version {__version__}"


def test_tracking_uri_option_selects_another_store(runner: CliRunner) -> None:
    TrackingClient("sqlite:///other.db").create_experiment("elsewhere")
    result = runner.invoke(
        cli, ["--tracking-uri", "sqlite:///other.db", "experiments", "list", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "elsewhere" in [item["name"] for item in json.loads(result.stdout)]


def test_tracking_uri_is_read_from_the_environment(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    TrackingClient("sqlite:///env.db").create_experiment("from-env")
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", "sqlite:///env.db")
    result = runner.invoke(cli, ["experiments", "list", "--json"])
    assert "from-env" in [item["name"] for item in json.loads(result.stdout)]


def test_mltrail_error_prints_message_and_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["runs", "show", "0" * 32])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: run '00000000")
    assert result.stdout == ""


def test_usage_error_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["runs", "list", "--max", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--max'" in result.stderr


def test_python_dash_m_runs_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["mltrail", "--version"])
    with pytest.raises(SystemExit) as excinfo:
        runpy.run_module("mltrail.cli", run_name="__main__")
    assert excinfo.value.code == 0
    assert capsys.readouterr().out.startswith("mltrail, version")


def test_main_exits_1_on_mltrail_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["mltrail", "runs", "list", "--experiment", "nope"]
    )
    with pytest.raises(SystemExit) as excinfo:
        main()
    assert excinfo.value.code == 1
    assert capsys.readouterr().err.startswith(
        "Error: experiment 'nope' does not exist."
    )


def test_help_loads_no_database_or_web_library() -> None:
    # `mltrail --help` and typos answer at once: the store, the server and the
    # scientific stack load only when a command needs them.
    script = (
        "import sys, mltrail.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout.replace("'", '"')))
    heavy = {"sqlalchemy", "starlette", "uvicorn", "sklearn", "numpy", "pandas"}
    assert loaded & heavy == set()


def test_a_command_loads_only_its_own_module() -> None:
    # `mltrail server` starts without importing the other commands (rich tables,
    # the tracking client): their modules load when they run.
    script = (
        "import sys\n"
        "from mltrail.cli import cli\n"
        "try:\n"
        "    cli(['server', '--help'], prog_name='mltrail')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('mltrail', 'rich'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout.splitlines()[-1].replace("'", '"')))
    assert "mltrail.cli._server" in loaded
    others = {"mltrail.cli._runs", "mltrail.cli._experiments", "mltrail.tracking"}
    assert loaded & (others | {"rich"}) == set()
