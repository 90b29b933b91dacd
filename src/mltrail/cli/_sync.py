"""``mltrail sync``: send the writes spooled while a tracking server was unreachable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mltrail.cli._main import Context

__all__ = ["sync"]


@click.command()
@click.pass_obj
def sync(obj: Context) -> None:
    """Send the writes kept in the local spool to their tracking servers.

    When a server cannot be reached, mltrail keeps metrics, params, tags and run
    ends on disk (MLTRAIL_SPOOL_DIR, default ~/.cache/mltrail/spool) and sends them
    with the next call that reaches it. This sends what a finished process left.
    With --tracking-uri http://..., only that server's writes are sent.
    """
    from mltrail.store._rest import RestStore
    from mltrail.store._rest_spool import spooled_servers

    servers = spooled_servers()
    if obj.tracking_uri and obj.tracking_uri.startswith(("http://", "https://")):
        servers = [s for s in servers if s == obj.tracking_uri.rstrip("/")]
    if not servers:
        click.echo("Nothing to send: the spool is empty.")
        return
    for server in servers:
        sent = RestStore(server).sync()
        click.echo(f"Sent {sent} spooled request(s) to {server}.")
