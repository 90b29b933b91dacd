"""A script that exits right after an autologged fit still leaves a complete run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mltrail.tracking import TrackingClient

SCRIPT = """
import mltrail
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

mltrail.sklearn.autolog()
X, y = load_wine(return_X_y=True, as_frame=True)
RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
# The interpreter exits now, while the background worker may still be writing.
"""


@pytest.mark.slow
def test_run_is_finished_with_its_model_after_an_immediate_exit(
    tmp_path: Path,
) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, check=True, timeout=120)
    client = TrackingClient(f"sqlite:///{tmp_path / 'mltrail.db'}")
    (run,) = client.search_runs(["0"])
    assert run.info.status == "FINISHED"
    model_files = {f.path for f in client.list_artifacts(run.info.run_id, "model")}
    assert {"model/MLmodel", "model/model.skops"} <= model_files
    plots = {f.path for f in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/training_confusion_matrix.json" in plots
    # The PNG is drawn from that JSON by the helper process, which may finish
    # after the script has exited.
    deadline = time.monotonic() + 120
    while "plots/training_confusion_matrix.png" not in plots:
        assert time.monotonic() < deadline, "the helper never drew the PNG"
        time.sleep(0.05)
        plots = {f.path for f in client.list_artifacts(run.info.run_id, "plots")}
