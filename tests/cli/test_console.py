"""Each command as a user runs it: a real ``python -m mltrail.cli`` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mltrail._entities import Metric, Param
from mltrail.tracking import TrackingClient


def _mltrail(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "mltrail.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _runs(client: TrackingClient) -> tuple[str, str]:
    ids = []
    for name, C in (("small-C", "0.1"), ("large-C", "10")):
        run_id = client.create_run("0", run_name=name).info.run_id
        client.log_batch(
            run_id, metrics=[Metric("acc", float(C), 0, 0)], params=[Param("C", C)]
        )
        client.set_terminated(run_id)
        ids.append(run_id)
    return ids[0], ids[1]


def test_runs_compare_in_a_process(client: TrackingClient, tmp_path: Path) -> None:
    _, second = _runs(client)
    result = _mltrail("runs", "compare", "small-C", second[:8], "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    params = json.loads(result.stdout)["params"]
    assert params == [{"key": "C", "values": ["0.1", "10"], "differs": True}]


@pytest.mark.slow
def test_runs_delete_restore_and_gc_in_processes(
    client: TrackingClient, tmp_path: Path
) -> None:
    first, second = _runs(client)
    deleted = _mltrail("runs", "delete", "small-C", cwd=tmp_path)
    assert deleted.stdout == f"Deleted run {first} ('small-C').\n"
    restored = _mltrail("runs", "restore", first[:8], cwd=tmp_path)
    assert restored.stdout == f"Restored run {first} ('small-C').\n"
    _mltrail("runs", "delete", "large-C", cwd=tmp_path)
    purged = _mltrail("gc", "--older-than", "0s", cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout == f"Purged run {second} ('large-C').\n"
    assert [r.info.run_id for r in client.search_runs(["0"], run_view_type="ALL")] == [
        first
    ]


@pytest.mark.slow
def test_experiments_delete_and_restore_in_processes(
    client: TrackingClient, tmp_path: Path
) -> None:
    experiment_id = client.create_experiment("churn")
    deleted = _mltrail("experiments", "delete", "churn", cwd=tmp_path)
    assert deleted.stdout == f"Deleted experiment {experiment_id} ('churn').\n"
    restored = _mltrail("experiments", "restore", experiment_id, cwd=tmp_path)
    assert restored.stdout == f"Restored experiment {experiment_id} ('churn').\n"
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_bad_input_prints_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = _mltrail("runs", "list", "--order-by", "test_accuracy", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: invalid --order-by at position 0")
    assert "Traceback" not in result.stderr
