"""Write the CLI reference of README.md from the commands' own ``--help``.

Read by cog (``scripts/docs`` rewrites the README; ``tests/test_readme.py`` checks
that it is current): every command and group gets a heading and its help text as
click prints it at 88 columns, so the reference can never say more than the code.
"""

from __future__ import annotations

import click
from click.testing import CliRunner

from mltrail.cli import cli

WIDTH = 88


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Return every command's path, depth first, in the order ``--help`` lists them."""
    found = [prefix]
    context = click.Context(group, info_name="mltrail")
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            found.extend(_paths(command, (*prefix, name)))
        elif command is not None and not command.hidden:
            found.append((*prefix, name))
    return found


def reference() -> str:
    """Return the Markdown of every command's ``--help``."""
    runner = CliRunner()
    parts = []
    for path in _paths(cli):
        result = runner.invoke(
            cli, [*path, "--help"], prog_name="mltrail", terminal_width=WIDTH
        )
        if result.exit_code != 0:
            raise RuntimeError(f"mltrail {' '.join(path)} --help failed: {result}")
        title = " ".join(("mltrail", *path))
        parts.append(f"### `{title}`\n\n```text\n{result.stdout.rstrip()}\n```\n")
    return "\n" + "\n".join(parts) + "\n"
