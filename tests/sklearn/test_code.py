"""Tests of ``on_run_start``: automatic and business tags, the script's source, git."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError
from mltrail._system_tags import MLTRAIL_PREFIX
from mltrail.capture._source import SourceInfo
from mltrail.sklearn.recorders import _code
from mltrail.sklearn.shared import _background
from mltrail.sklearn.shared._state import AutologSettings
from mltrail.tracking import TrackingClient

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Empty the per-process caches; keep the machine's git config out."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    _code.reset()
    yield
    _background.wait()
    _code.reset()


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="Ada",
        GIT_AUTHOR_EMAIL="ada@example.com",
        GIT_COMMITTER_NAME="Ada",
        GIT_COMMITTER_EMAIL="ada@example.com",
    )
    completed = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return completed.stdout.strip()


def new_run(client: TrackingClient) -> str:
    return str(client.create_run("0").info.run_id)


def test_run_gets_author_project_host_and_python_tags(
    client: TrackingClient, tmp_path: Path
) -> None:
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    tags = client.get_run(run_id).data.tags
    assert tags["mlflow.mltrail.project"] == tmp_path.name
    assert tags["mlflow.mltrail.python_version"] == platform.python_version()
    assert tags["mlflow.mltrail.author"]
    assert tags["mlflow.mltrail.host"]


def test_business_tags_come_from_the_environment(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_TAGS", "ticket=ML-1234,team=risk")
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    tags = client.get_run(run_id).data.tags
    assert (tags["ticket"], tags["team"]) == ("ML-1234", "risk")


def test_business_tags_come_from_pyproject(
    client: TrackingClient, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mltrail.tags]\nteam = "risk"\n')
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    assert client.get_run(run_id).data.tags["team"] == "risk"


def test_pyproject_tags_are_reread_when_the_file_changes(
    client: TrackingClient, tmp_path: Path
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.mltrail.tags]\nteam = "risk"\n')
    _code.on_run_start(new_run(client), AutologSettings())
    pyproject.write_text('[tool.mltrail.tags]\nteam = "fraud"\n')
    os.utime(pyproject, ns=(0, 10**9))  # a new mtime even on a coarse clock
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    assert client.get_run(run_id).data.tags["team"] == "fraud"


@pytest.mark.parametrize(
    ("variable", "pyproject", "match"),
    [
        ("ticket", None, "MLTRAIL_TAGS"),
        ("=x", None, "tag key"),
        ("", "[tool.mltrail.tags]\nteam = 3\n", "Quote the value"),
        ("", "[tool.mltrail\n", "valid TOML"),
    ],
    ids=["no-equals", "empty-key", "not-a-string", "bad-toml"],
)
def test_validate_config_tags_rejects_malformed_tags(
    variable: str,
    pyproject: str | None,
    match: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLTRAIL_TAGS", variable)
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    with pytest.raises(InvalidValueError, match=match):
        _code.validate_config_tags()


def test_validate_config_tags_returns_the_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_TAGS", "team=risk")
    assert _code.validate_config_tags() == {"team": "risk"}


def test_second_call_for_a_run_logs_nothing_more(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    monkeypatch.setenv("MLTRAIL_TAGS", "late=yes")
    _code.on_run_start(run_id, AutologSettings())
    assert "late" not in client.get_run(run_id).data.tags


def test_options_off_log_no_tags_and_no_code(client: TrackingClient) -> None:
    run_id = new_run(client)
    config = types.SimpleNamespace(log_tags=False, log_code=False)
    _code.on_run_start(run_id, config)
    tags = client.get_run(run_id).data.tags
    assert not [key for key in tags if key.startswith(MLTRAIL_PREFIX)]
    assert client.list_artifacts(run_id) == []


def test_log_code_off_keeps_the_tags(client: TrackingClient) -> None:
    run_id = new_run(client)
    _code.on_run_start(run_id, types.SimpleNamespace(log_code=False))
    assert "mlflow.mltrail.author" in client.get_run(run_id).data.tags
    assert client.list_artifacts(run_id) == []


def test_history_source_is_saved_as_a_python_file() -> None:
    history = SourceInfo(None, "history", "x = 1", False)
    assert _code._source_file_name(history) == "notebook_history.py"
    script = SourceInfo("/src/train.py", "script", "x = 1", False)
    assert _code._source_file_name(script) == "train.py"


def test_code_tags_name_the_source_and_commit() -> None:
    from mltrail.capture._git import GitState

    state = GitState("/src", "a" * 40, "main", "https://host/o/r.git")
    source = SourceInfo("/src/train.py", "script", "", False)
    assert _code.code_tags(state, source) == {
        "mlflow.mltrail.source.path": "/src/train.py",
        "mlflow.mltrail.source.kind": "script",
        "mlflow.source.git.commit": "a" * 40,
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.repoURL": "https://host/o/r.git",
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with one commit, a dirty file, an untracked one and a remote."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Ada Lovelace")
    git(
        root,
        "remote",
        "add",
        "origin",
        "https://ada:s3cret-token@git.example.com/acme/churn.git",
    )
    (root / "helper.py").write_text("VALUE = 1\n")
    (root / "train.py").write_text("print('placeholder')\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    (root / "helper.py").write_text("VALUE = 2\n")
    (root / "notes.py").write_text("# not committed\n")
    return root


SCRIPT = """
import sys
sys.path.insert(0, {source!r})
import mltrail
from mltrail.sklearn.shared import _background
from mltrail.sklearn.recorders import _code
from mltrail.sklearn.shared._state import AutologSettings

client = mltrail.TrackingClient()
run_id = client.create_run("0").info.run_id
_code.on_run_start(run_id, AutologSettings())
_background.wait(run_id)
print(run_id)
"""


def run_script(directory: Path, database: Path) -> str:
    script = directory / "train.py"
    script.write_text(SCRIPT.format(source=str(REPOSITORY / "src")))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLTRAIL_", "MLFLOW_"))
    }
    env["MLTRAIL_TRACKING_URI"] = f"sqlite:///{database}"
    env["MLTRAIL_ARTIFACT_ROOT"] = str(database.parent / "artifacts")
    completed = subprocess.run(
        [sys.executable, str(script)],
        cwd=directory,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_script_in_a_git_repository_records_git_state(
    project: Path, tmp_path: Path
) -> None:
    database = tmp_path / "runs.db"
    commit = git(project, "rev-parse", "HEAD")
    run_id = run_script(project, database)
    client = TrackingClient(f"sqlite:///{database}")
    tags = client.get_run(run_id).data.tags
    assert tags["mlflow.source.git.commit"] == commit
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://git.example.com/acme/churn.git"
    assert tags["mlflow.mltrail.git.dirty"] == "true"
    assert tags["mlflow.mltrail.author"] == "Ada Lovelace"
    assert tags["mlflow.mltrail.project"] == "churn"
    assert tags["mlflow.mltrail.source.path"] == str((project / "train.py").resolve())
    artifacts = {f.path for f in client.list_artifacts(run_id, "code")}
    assert artifacts == {"code/train.py", "code/uncommitted.diff", "code/untracked.txt"}
    store, uri = client._artifacts(run_id)
    assert b"_code.on_run_start" in store.read_bytes(uri, "code/train.py")
    diff = store.read_bytes(uri, "code/uncommitted.diff").decode()
    assert "+VALUE = 2" in diff
    assert "-print('placeholder')" in diff  # train.py was overwritten after commit
    assert store.read_bytes(uri, "code/untracked.txt") == b"notes.py\n"
    assert "s3cret" not in repr(client.get_run(run_id).data.tags)


@pytest.mark.slow
def test_script_outside_a_repository_has_no_git_state(tmp_path: Path) -> None:
    directory = tmp_path / "plain"
    directory.mkdir()
    database = tmp_path / "runs.db"
    run_id = run_script(directory, database)
    client = TrackingClient(f"sqlite:///{database}")
    tags = client.get_run(run_id).data.tags
    assert not [key for key in tags if "git" in key]
    assert tags["mlflow.mltrail.project"] == "plain"
    artifacts = {f.path for f in client.list_artifacts(run_id, "code")}
    assert artifacts == {"code/train.py"}


def test_clean_repository_is_not_dirty_and_has_no_diff(
    project: Path, client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "second")
    monkeypatch.chdir(project)
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    _background.wait(run_id)
    assert client.get_run(run_id).data.tags["mlflow.mltrail.git.dirty"] == "false"
    assert client.list_artifacts(run_id, "code") == []


def test_new_commit_is_seen_by_the_next_run(project: Path) -> None:
    first = _code._git_state(project)
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "second")
    second = _code._git_state(project)
    assert second.commit == git(project, "rev-parse", "HEAD") != first.commit


def test_git_state_is_cached_while_nothing_changes(project: Path) -> None:
    assert _code._git_state(project) is _code._git_state(project)


def test_git_changes_are_reused_within_their_lifetime(project: Path) -> None:
    first = _code._cached_changes(str(project), True)
    assert _code._cached_changes(str(project), True) is first


def test_script_source_is_cached_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "job.py"
    script.write_text("x = 1\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    first = _code._script_source()
    assert _code._script_source() is first
    script.write_text("x = 22\n")
    os.utime(script, ns=(0, 10**9))
    assert _code._script_source().text == "x = 22\n"


def test_notebook_source_is_reread_when_the_notebook_is_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a kernel the entry point is ipykernel_launcher.py, which never changes.
    launcher = tmp_path / "ipykernel_launcher.py"
    launcher.write_text("")
    notebook = tmp_path / "explore.ipynb"
    notebook.write_text('{"cells": []}')
    main = types.ModuleType("__main__")
    main.__dict__.update(get_ipython=lambda: None, __session__=str(notebook))
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "argv", [str(launcher), "-f", "kernel.json"])
    first = _code._script_source()
    assert _code._script_source() is first
    notebook.write_text('{"cells": [1]}')
    os.utime(notebook, ns=(0, 10**9))
    assert _code._script_source().text == '{"cells": [1]}'


def test_failed_git_job_warns_at_wait(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    monkeypatch.chdir(project)

    def broken(root: str, has_commit: bool) -> None:
        raise OSError("git vanished")

    monkeypatch.setattr(_code, "_cached_changes", broken)
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    with pytest.warns(UserWarning, match="git vanished"):
        _background.wait(run_id)


def test_git_unavailable_leaves_dirty_flag_absent(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("PATH", "")
    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    _background.wait(run_id)
    tags = client.get_run(run_id).data.tags
    assert "mlflow.mltrail.git.dirty" not in tags
    assert "mlflow.source.git.commit" in tags


def test_remembered_runs_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_code, "MAX_REMEMBERED_RUNS", 2)
    for run_id in ("a", "b", "c"):
        assert _code._remember(run_id)
    assert list(_code._started_runs) == ["b", "c"]


def test_script_in_a_repository_is_copied_and_tagged_in_process(
    project: Path,
    client: TrackingClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main = types.ModuleType("__main__")
    main.__file__ = str(project / "train.py")
    monkeypatch.setitem(sys.modules, "__main__", main)
    run_id = new_run(client)  # the working directory is outside the repository
    _code.on_run_start(run_id, AutologSettings())
    _background.wait(run_id)
    tags = client.get_run(run_id).data.tags
    assert tags["mlflow.source.git.commit"] == git(project, "rev-parse", "HEAD")
    assert tags["mlflow.mltrail.git.dirty"] == "true"
    store, uri = client._artifacts(run_id)
    assert store.read_bytes(uri, "code/train.py") == b"print('placeholder')\n"
    assert store.read_bytes(uri, "code/untracked.txt") == b"notes.py\n"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (pytest.__file__, True),
        (os.path.join(sys.base_prefix, "lib", "tool.py"), True),
        ("/home/ada/project/train.py", False),
    ],
    ids=["site-packages", "prefix", "user-script"],
)
def test_installed_code_is_not_the_users_script(path: str, expected: bool) -> None:
    assert _code._is_installed(path) is expected


def test_malformed_tags_at_run_start_are_a_problem_not_an_error(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_TAGS", "no-equals-sign")
    run_id = new_run(client)
    (problem,) = _code.on_run_start(run_id, AutologSettings())
    assert problem.startswith("code and tags: InvalidValueError")


def test_clients_of_runs_nobody_waited_for_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_background, "MAX_REMEMBERED_RUNS", 2)
    monkeypatch.setattr(_background, "_clients", {})
    for run_id in ("a", "b", "c"):
        _background.client_of(run_id)
    assert list(_background._clients) == ["b", "c"]


def test_own_artifacts_inside_the_repository_are_not_untracked_files(
    project: Path,
    client: TrackingClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    artifacts = project / "mltrail-artifacts"
    (artifacts / "0" / "run" / "code").mkdir(parents=True)
    (artifacts / "0" / "run" / "code" / "train.py").write_text("print(1)\n")
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(artifacts))
    main = types.ModuleType("__main__")
    main.__file__ = str(project / "train.py")
    monkeypatch.setitem(sys.modules, "__main__", main)

    run_id = new_run(client)
    _code.on_run_start(run_id, AutologSettings())
    _background.wait(run_id)

    store, uri = client._artifacts(run_id)
    assert store.read_bytes(uri, "code/untracked.txt") == b"notes.py\n"


def test_source_file_is_written_off_the_calling_thread(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a server the write is a round trip, which the user's fit need not wait for.
    from mltrail.store._artifacts import LocalArtifactStore

    writers: list[tuple[str, threading.Thread]] = []
    write_bytes = LocalArtifactStore.write_bytes

    def recording(self: LocalArtifactStore, uri: str, path: str, data: bytes) -> None:
        writers.append((path, threading.current_thread()))
        write_bytes(self, uri, path, data)

    monkeypatch.setattr(LocalArtifactStore, "write_bytes", recording)
    source = SourceInfo("/nowhere/train.py", "script", "x = 1\n", False)
    monkeypatch.setattr(_code, "_script_source", lambda: source)
    run_id = new_run(client)

    _code.on_run_start(run_id, AutologSettings())

    assert _background.wait(run_id)
    written = [(path, thread) for path, thread in writers if path.startswith("code/")]
    assert [path for path, _ in written] == ["code/train.py"]
    assert written[0][1] is not threading.current_thread()
    store, uri = client._artifacts(run_id)
    assert store.read_bytes(uri, "code/train.py") == b"x = 1\n"
