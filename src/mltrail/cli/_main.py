"""The root ``mltrail`` group, the console script's ``main``, and the error boundary."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

from mltrail._errors import MltrailError
from mltrail._version import __version__

if TYPE_CHECKING:
    from mltrail.tracking import TrackingClient

__all__ = ["Context", "cli", "main"]

#: Each command's name and where it is defined: a command's module (and rich, the
#: tracking API, the server...) is imported only when that command runs or its help
#: is asked for, so `mltrail server` starts without loading the other commands.
COMMANDS = {
    "experiments": "mltrail.cli._experiments:experiments",
    "gc": "mltrail.cli._gc:gc",
    "import": "mltrail.cli._import:import_command",
    "models": "mltrail.cli._models:models",
    "runs": "mltrail.cli._runs:runs",
    "server": "mltrail.cli._server:server",
    "sync": "mltrail.cli._sync:sync",
    "ui": "mltrail.cli._ui:ui",
    "users": "mltrail.cli._users:users",
}


class Context:
    """What every command shares: the tracking URI and a client made on first use.

    Options whose text the core parses (``--filter``, ``--order-by``) record their
    values here, so that an error about that text can name the option.
    """

    def __init__(self, tracking_uri: str | None) -> None:
        self.tracking_uri = tracking_uri
        self._client: TrackingClient | None = None
        # Text sent to the core -> (option, the text as given, offset in the sent).
        self._sent: dict[str, tuple[str, str, int]] = {}

    def remember(self, option: str, values: Iterable[str]) -> None:
        """Record that ``option`` was given ``values``, for error messages."""
        for value in values:
            self._sent.setdefault(value, (option, value, 0))

    def remember_sent(self, option: str, given: str, sent: str, offset: int) -> None:
        """Record that ``option``'s text ``given`` was sent as ``sent``.

        ``given`` starts at ``offset`` in ``sent`` (wrapped in parentheses, say).
        """
        self._sent[sent] = (option, given, offset)

    def find_sent(self, sent: str) -> tuple[str, str, int] | None:
        """Return ``(option, text as given, offset)`` for a text sent, or None.

        A text sent may also start with a recorded one, followed by more
        conditions (``runs list`` adds its own).
        """
        found = self._sent.get(sent)
        if found is None:
            found = next(
                (v for k, v in self._sent.items() if v[2] and sent.startswith(k)),
                None,
            )
        return found

    @property
    def client(self) -> TrackingClient:
        """The tracking client, created on first use so ``--help`` stays instant."""
        if self._client is None:
            from mltrail.tracking import TrackingClient

            self._client = TrackingClient(tracking_uri=self.tracking_uri)
        return self._client


class _Group(click.Group):
    """The root group: commands imported on first use, and the error boundary.

    The boundary turns every ``MltrailError`` into ``Error: <message>``, exit 1.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in COMMANDS:
            module, _, name = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            self.commands[cmd_name] = command
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MltrailError as exc:
            from mltrail.cli._hints import message_for

            # ClickException prints "Error: <message>" to stderr and exits with 1.
            obj = ctx.obj if isinstance(ctx.obj, Context) else None
            raise click.ClickException(message_for(exc, obj)) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--tracking-uri",
    envvar="MLTRAIL_TRACKING_URI",
    show_envvar=True,
    metavar="URI",
    help=(
        "Where runs are stored: sqlite:///path.db, postgresql://..., mysql://..., "
        "or a tracking server's http(s)://host:port [default: sqlite:///mltrail.db]"
    ),
)
@click.option(
    "--artifact-root",
    envvar="MLTRAIL_ARTIFACT_ROOT",
    show_envvar=True,
    metavar="PATH",
    help=(
        "Where experiments created without a location keep their runs' files "
        "[default: the store's own: mltrail-artifacts beside a SQLite file; for "
        "PostgreSQL and MySQL, the root recorded when the database was created]"
    ),
)
@click.version_option(__version__, "--version", prog_name="mltrail")
@click.pass_context
def cli(
    ctx: click.Context, tracking_uri: str | None, artifact_root: str | None
) -> None:
    """Look at experiments and runs, clean them up, and serve them.

    Every listing prints a table for people, or JSON for scripts with --json.
    """
    if artifact_root:
        # The whole process (client, store, server) reads the setting from there.
        os.environ["MLTRAIL_ARTIFACT_ROOT"] = artifact_root
    ctx.obj = Context(tracking_uri or None)


def main() -> None:
    """Run the ``mltrail`` command line (the console script's entry point).

    Returns
    -------
    None
        It exits the process with the command's status: 0 on success, 1 on an
        mltrail error, 2 on a usage error.

    Examples
    --------
    >>> import subprocess, sys
    >>> out = subprocess.run([sys.executable, "-m", "mltrail.cli", "--version"],
    ...                      capture_output=True, text=True, check=True).stdout
    >>> out.startswith("mltrail, version ")
    True
    """
    cli(prog_name="mltrail")
