"""Several workers on one PostgreSQL or MySQL store, many clients: nothing lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench._server_harness import run_load
from mltrail.store._sql import SqlStore
from tests._stores import SERVER_VARIABLES, ServerDatabase
from tests.server._live import live_server

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize(
    ("backend", "workers", "clients", "duration"),
    [("postgresql", 4, 32, 20.0), ("mysql", 3, 12, 6.0)],
    ids=["postgresql", "mysql"],
)
def test_workers_on_one_database_store_every_point(
    tmp_path: Path, backend: str, workers: int, clients: int, duration: float
) -> None:
    # Issue #10 §5 on PostgreSQL: `--workers 4`, 32 concurrent clients logging runs
    # and metrics (bounded here; `bench --only server_load` runs a minute and
    # reports throughput and p50/p99). Every request answers, every point is kept.
    variable = SERVER_VARIABLES[backend]
    if not os.environ.get(variable):
        pytest.skip(f"needs {variable}")
    database = ServerDatabase(backend, os.environ[variable])
    try:
        SqlStore(database.uri, artifact_root="mlflow-artifacts:").close()
        with live_server(
            tmp_path / "server",
            args=["--workers", str(workers)],
            backend_store_uri=database.uri,
        ) as server:
            totals = run_load(
                server.url, clients=clients, duration=duration, points_per_batch=50
            )
        assert totals["failures"] == 0
        assert totals["runs"]
        store = SqlStore(database.uri, artifact_root="mlflow-artifacts:")
        try:
            with store._engine.connect() as conn:
                stored: dict[str, int] = dict(
                    conn.execute(
                        sa.text("SELECT run_id, COUNT(*) FROM metrics GROUP BY run_id")
                    ).all()
                )
                statuses: dict[str, str] = dict(
                    conn.execute(sa.text("SELECT run_id, status FROM runs")).all()
                )
        finally:
            store.close()
        for run_id, points in totals["runs"]:
            assert stored.get(run_id) == points, run_id
            assert statuses[run_id] == "FINISHED"
        assert sum(stored.values()) >= totals["points"]
    finally:
        database.drop()
