"""Draw again the PNGs of a run's plots from their JSON: ``mltrail runs render``.

A plot's JSON is part of the run; its PNG is a rendering, which autologging's
helper process draws after the fact and may never have written (it was killed
after the script exited). :func:`redraw_plots` finds every plot JSON under the
run's ``plots/`` whose PNG is missing (or every one, with ``force``) and draws it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mltrail.evaluation import _figures

if TYPE_CHECKING:
    from mltrail._entities import FileInfo
    from mltrail.tracking import TrackingClient

__all__ = ["Redrawn", "redraw_plots"]

PLOTS_FOLDER = "plots"


@dataclass(frozen=True, slots=True)
class Redrawn:
    """What :func:`redraw_plots` did: PNGs drawn, PNGs already there, JSON skipped."""

    drawn: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def redraw_plots(
    client: TrackingClient, run_id: str, *, force: bool = False
) -> Redrawn:
    """Draw the PNG of each plot JSON of ``run_id`` whose PNG is missing.

    ``force`` draws every one again. JSON files under ``plots/`` that are not plot
    data mltrail draws (a user's own) are skipped. Returns run-relative paths.
    """
    files = {info.path for info in _walk(client, run_id, PLOTS_FOLDER)}
    result = Redrawn()
    for path in sorted(files):
        if not path.endswith(".json"):
            continue
        png = _figures.png_path(path)
        if png in files and not force:
            result.present.append(png)
            continue
        with tempfile.TemporaryDirectory(prefix="mltrail-render-") as scratch:
            local = Path(client.download_artifacts(run_id, path, scratch))
            try:
                data = json.loads(local.read_bytes())
            except ValueError:
                data = None
            if not _figures.is_drawable(data):
                result.skipped.append(path)
                continue
            target = local.with_name(PurePosixPath(png).name)
            target.write_bytes(_figures.draw(data))
            client.log_artifact(run_id, target, str(PurePosixPath(png).parent))
        result.drawn.append(png)
    return result


def _walk(client: TrackingClient, run_id: str, path: str) -> list[FileInfo]:
    found: list[FileInfo] = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            found.extend(_walk(client, run_id, info.path))
        else:
            found.append(info)
    return found
