"""A client's store while a helper runs: the helper makes each call, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from mltrail._errors import NotFoundError
from mltrail._worker import _helper, _store
from mltrail.store import clear_store_cache
from mltrail.store._open import open_store as open_here
from mltrail.tracking import TrackingClient
from tests.worker.conftest import wait_until_gone


@pytest.fixture
def uri(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'mltrail.db'}"
    clear_store_cache()


def test_client_writes_through_the_helper_and_reads_what_it_wrote(
    helper: _helper.Helper, uri: str
) -> None:
    client = TrackingClient(uri)
    assert isinstance(client._store, _store.HelperStore)
    run = client.create_run("0", run_name="through-helper")
    client.log_param(run.info.run_id, "alpha", "0.5")
    client.log_metric(run.info.run_id, "loss", 0.25)
    client.set_terminated(run.info.run_id)
    # What the helper wrote is in the database, for any other reader.
    stored = open_here(uri).get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"alpha": "0.5"}
    assert stored.data.metrics == {"loss": 0.25}
    assert client.get_run(run.info.run_id).info.run_name == "through-helper"


def test_store_error_is_raised_as_its_own_class(
    helper: _helper.Helper, uri: str
) -> None:
    client = TrackingClient(uri)
    with pytest.raises(NotFoundError, match="does not exist") as caught:
        client.get_run("f" * 32)
    assert caught.value.key == "f" * 32


def test_store_settings_are_read_from_the_helper(
    helper: _helper.Helper, uri: str
) -> None:
    store = _store.open_store(uri)
    assert isinstance(store, _store.HelperStore)
    assert store.artifact_root == open_here(uri).artifact_root
    with pytest.raises(AttributeError, match="no attribute 'no_such_method'"):
        store.no_such_method  # noqa: B018 - the access is what is tested


def test_calls_are_made_here_once_the_helper_is_killed(
    helper: _helper.Helper, uri: str
) -> None:
    client = TrackingClient(uri)
    run = client.create_run("0")
    os.kill(helper.pid, signal.SIGKILL)
    assert wait_until_gone(helper.pid)
    client.log_param(run.info.run_id, "after", "kill")
    client.set_terminated(run.info.run_id)
    stored = open_here(uri).get_run(run.info.run_id)
    assert stored.data.params == {"after": "kill"}
    assert stored.info.status == "FINISHED"


def test_without_a_helper_the_store_is_opened_here(
    helper: _helper.Helper, uri: str
) -> None:
    helper.close()
    assert wait_until_gone(helper.pid)
    assert _store.open_store(uri) is open_here(uri)


SCRIPT = """
import sys
import mltrail
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

mltrail.sklearn.autolog()
X, y = load_wine(return_X_y=True, as_frame=True)
RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
run = mltrail.last_active_run()
print(run.info.run_id, run.info.status, "sqlalchemy" in sys.modules)
"""


@pytest.mark.slow
def test_autologged_script_never_imports_sqlalchemy(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    root = Path(__file__).parents[2]
    finished = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    run_id, status, has_sqlalchemy = finished.stdout.split()
    assert (status, has_sqlalchemy) == ("FINISHED", "False")
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'mltrail.db'}")
    try:
        run = mltrail.get_run(run_id)
    finally:
        mltrail.set_tracking_uri("sqlite:///mltrail.db")
    assert run.info.status == "FINISHED"
    assert "training_accuracy_score" in run.data.metrics


def test_store_is_opened_here_from_the_second_run(
    helper: _helper.Helper, uri: str
) -> None:
    client = TrackingClient(uri)
    first = client.create_run("0")
    store = client._store
    assert isinstance(store, _store.HelperStore)
    assert not _is_here(store)
    second = client.create_run("0")
    assert _is_here(store)
    # Both runs are in the one database, whichever process wrote them.
    client.log_param(first.info.run_id, "made", "here")
    assert client.get_run(first.info.run_id).data.params == {"made": "here"}
    assert open_here(uri).get_run(second.info.run_id).info.run_id == (
        second.info.run_id
    )


def _is_here(store: _store.HelperStore) -> bool:
    return store.is_here
