"""``mltrail runs render`` draws the PNGs a run's plot JSON lacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from mltrail.cli import cli
from mltrail.evaluation import _figures, _plots
from mltrail.tracking import TrackingClient


def _run_with_plot_json(client: TrackingClient) -> tuple[str, dict[str, bytes]]:
    """A run whose plots have their JSON and no PNG, as if the helper died."""
    run_id = client.create_run("0", run_name="lost-pictures").info.run_id
    y = np.array([0, 1, 2] * 10)
    plots = _plots.plot_data_for_classifier(
        y, np.roll(y, 1), y_score=np.full((30, 3), 1 / 3), dataset="test"
    )
    files = dict(_plots.plot_files(plots, dataset="test"))
    for path, data in files.items():
        client.log_text(run_id, data.decode(), path)
    client.log_text(run_id, '{"note": "mine"}', "plots/notes.json")
    return run_id, files


def _pngs(client: TrackingClient, run_id: str) -> set[str]:
    paths = {info.path for info in client.list_artifacts(run_id, "plots")}
    return {path for path in paths if path.endswith(".png")}


def test_render_draws_each_missing_png_from_its_json(
    runner: CliRunner, client: TrackingClient, tmp_path: Path
) -> None:
    run_id, files = _run_with_plot_json(client)

    result = runner.invoke(cli, ["runs", "render", "lost-pictures"])

    assert result.exit_code == 0, result.output
    expected = {_figures.png_path(path) for path in files}
    assert _pngs(client, run_id) == expected
    for path, data in files.items():
        png = _figures.png_path(path)
        assert f"Drew {png}" in result.output
        copy = Path(client.download_artifacts(run_id, png, str(tmp_path / "copy")))
        ((_, drawn),) = _figures.render_png(path, data)
        assert copy.read_bytes() == drawn
    assert "Skipped plots/notes.json: not plot data" in result.output
    assert f"{len(files)} drawn, 0 already there" in result.output


def test_render_leaves_present_pngs_unless_forced(
    runner: CliRunner, client: TrackingClient
) -> None:
    run_id, files = _run_with_plot_json(client)
    runner.invoke(cli, ["runs", "render", run_id])

    again = runner.invoke(cli, ["runs", "render", run_id[:8]])
    forced = runner.invoke(cli, ["runs", "render", run_id, "--force"])

    assert again.exit_code == forced.exit_code == 0
    assert f"0 drawn, {len(files)} already there" in again.output
    assert f"{len(files)} drawn, 0 already there" in forced.output


def test_render_of_an_unknown_run_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["runs", "render", "no-such-run"])

    assert result.exit_code == 1
    assert "no-such-run" in result.output
