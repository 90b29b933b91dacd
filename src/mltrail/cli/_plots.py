"""``mltrail runs render``: draw again the PNGs of a run's plots from their JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mltrail.cli._main import Context


@click.command("render")
@click.argument("run")
@click.option(
    "--force", is_flag=True, help="Draw every plot again, even where its PNG exists."
)
@click.pass_obj
def render_plots(obj: Context, run: str, force: bool) -> None:
    """Draw the PNG of each plot of RUN whose PNG is missing, from its JSON.

    A plot's JSON (plots/*.json) is part of the run; autologging draws its PNG
    in a helper process, which may end before it is written. This draws it again.
    """
    from mltrail.evaluation._redraw import redraw_plots

    client = obj.client
    run_id = client.resolve_run(run).info.run_id
    result = redraw_plots(client, run_id, force=force)
    for path in result.drawn:
        click.echo(f"Drew {path}")
    for path in result.skipped:
        click.echo(f"Skipped {path}: not plot data that mltrail draws")
    click.echo(
        f"{len(result.drawn)} drawn, {len(result.present)} already there "
        f"(run {run_id})."
    )
