from __future__ import annotations

import getpass
import os
import platform
import socket
import subprocess
from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError
from mltrail.capture._tags import automatic_tags, business_tags


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty global git config, so the machine's user.name does not leak in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with no pyproject.toml and no git repository above it."""
    directory = tmp_path / "work" / "churn-model"
    directory.mkdir(parents=True)
    return directory


def test_automatic_tag_keys_host_and_python(workdir: Path) -> None:
    tags = automatic_tags(workdir)
    assert sorted(tags) == [
        "mlflow.mltrail.author",
        "mlflow.mltrail.host",
        "mlflow.mltrail.project",
        "mlflow.mltrail.python_version",
    ]
    assert tags["mlflow.mltrail.host"] == socket.gethostname()
    assert tags["mlflow.mltrail.python_version"] == platform.python_version()


def test_author_falls_back_to_the_os_user(workdir: Path) -> None:
    assert automatic_tags(workdir)["mlflow.mltrail.author"] == getpass.getuser()


def test_author_is_unknown_without_any_user(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_user() -> str:
        raise OSError("no user")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert automatic_tags(workdir)["mlflow.mltrail.author"] == "unknown"


def test_author_from_global_git_config(workdir: Path, isolated_git: Path) -> None:
    (isolated_git / ".gitconfig").write_text("[user]\n\tname = Grace Hopper\n")
    assert automatic_tags(workdir)["mlflow.mltrail.author"] == "Grace Hopper"


def test_author_from_repository_config(workdir: Path) -> None:
    git(workdir, "init", "-q")
    git(workdir, "config", "user.name", "Ada Lovelace")
    assert automatic_tags(workdir)["mlflow.mltrail.author"] == "Ada Lovelace"


def test_project_is_the_cwd_name(workdir: Path) -> None:
    assert automatic_tags(workdir)["mlflow.mltrail.project"] == "churn-model"


def test_project_from_pyproject(workdir: Path) -> None:
    (workdir.parent / "pyproject.toml").write_text('[project]\nname = "fraud"\n')
    assert automatic_tags(workdir)["mlflow.mltrail.project"] == "fraud"


@pytest.mark.parametrize(
    "text",
    ["[tool.x]\na = 1\n", "[project]\nname = 3\n", "not = [toml\n"],
    ids=["no-project", "name-not-str", "bad-toml"],
)
def test_unusable_pyproject_falls_back_to_cwd(workdir: Path, text: str) -> None:
    (workdir / "pyproject.toml").write_text(text)
    assert automatic_tags(workdir)["mlflow.mltrail.project"] == "churn-model"


def test_project_is_the_repository_directory(workdir: Path) -> None:
    git(workdir.parent, "init", "-q")
    (workdir / "pyproject.toml").write_text('[project]\nname = "fraud"\n')
    assert automatic_tags(workdir)["mlflow.mltrail.project"] == "work"


@pytest.mark.parametrize(
    "url",
    [
        "https://token@github.com/acme/risk-scoring.git",
        "git@github.com:acme/risk-scoring.git",
        "ssh://git@host/acme/risk-scoring/",
    ],
    ids=["https", "scp", "ssh-trailing-slash"],
)
def test_project_is_the_remote_repository_name(workdir: Path, url: str) -> None:
    git(workdir, "init", "-q")
    git(workdir, "remote", "add", "origin", url)
    assert automatic_tags(workdir)["mlflow.mltrail.project"] == "risk-scoring"


def test_remote_without_a_name_falls_back_to_the_directory(workdir: Path) -> None:
    git(workdir, "init", "-q")
    git(workdir, "remote", "add", "origin", "https://host/")
    assert automatic_tags(workdir)["mlflow.mltrail.project"] == "churn-model"


def test_project_of_a_worktree_is_the_main_repository(tmp_path: Path) -> None:
    main = tmp_path / "risk"
    main.mkdir()
    git(main, "init", "-q", "-b", "main")
    git(
        main,
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@e",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    git(main, "worktree", "add", "-q", "-b", "exp", str(tmp_path / "risk-exp"))
    assert automatic_tags(tmp_path / "risk-exp")["mlflow.mltrail.project"] == "risk"


def test_project_of_a_bare_style_git_dir_is_the_root(tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    git(tmp_path, "init", "-q", "--bare", str(store))
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {store}\n")
    assert automatic_tags(checkout)["mlflow.mltrail.project"] == "checkout"


def test_environment_tags(workdir: Path) -> None:
    tags = business_tags(
        {"MLTRAIL_TAGS": " ticket = ML-1234 ,team=risk,,note=a=b,"}, workdir
    )
    assert tags == {"ticket": "ML-1234", "team": "risk", "note": "a=b"}


def test_no_business_tags(workdir: Path) -> None:
    assert business_tags({}, workdir) == {}


def test_pyproject_tags_from_the_nearest_file(workdir: Path) -> None:
    (workdir.parent / "pyproject.toml").write_text(
        '[tool.mltrail.tags]\nteam = "risk"\n"cost center" = "42"\n'
    )
    sub = workdir / "notebooks"
    sub.mkdir()
    assert business_tags({}, sub) == {"team": "risk", "cost center": "42"}


def test_environment_wins_over_pyproject(workdir: Path) -> None:
    (workdir / "pyproject.toml").write_text(
        '[tool.mltrail.tags]\nteam = "risk"\nowner = "ada"\n'
    )
    tags = business_tags({"MLTRAIL_TAGS": "team=fraud"}, workdir)
    assert tags == {"team": "fraud", "owner": "ada"}


def test_pyproject_without_mltrail_table(workdir: Path) -> None:
    (workdir / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert business_tags({}, workdir) == {}


def test_reads_os_environ_shape(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_TAGS", "team=risk")
    assert business_tags(os.environ, workdir) == {"team": "risk"}


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("ticket", r"item 'ticket' of MLTRAIL_TAGS must be comma-separated key=value"),
        ("team=risk,=x", r"tag key in MLTRAIL_TAGS must be a non-empty name.*got ''"),
        ("bad!key=x", r"tag key in MLTRAIL_TAGS .*got 'bad!key'"),
        ("k" * 251 + "=x", r"tag key in MLTRAIL_TAGS"),
    ],
    ids=["missing-equals", "empty-key", "bad-character", "too-long"],
)
def test_malformed_environment_tags(workdir: Path, value: str, match: str) -> None:
    with pytest.raises(InvalidValueError, match=match):
        business_tags({"MLTRAIL_TAGS": value}, workdir)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "[tool.mltrail.tags]\nsprint = 12\n",
            r"tag 'sprint' of .* must be a string; got 12\. Quote",
        ),
        ("[tool.mltrail.tags]\nok = true\n", r"tag 'ok' .* must be a string; got True"),
        (
            "[tool.mltrail]\ntags = 'team'\n",
            r"\[tool.mltrail.tags\] .* must be a table",
        ),
        ('[tool.mltrail.tags]\n"a!b" = "x"\n', r"tag key in \[tool.mltrail.tags\]"),
        (
            "[tool.mltrail.tags\nteam = 'x'\n",
            r"the TOML file .*pyproject.toml' must be valid TOML",
        ),
    ],
    ids=["integer", "boolean", "not-a-table", "bad-key", "bad-toml"],
)
def test_malformed_pyproject_tags(workdir: Path, text: str, match: str) -> None:
    (workdir / "pyproject.toml").write_text(text)
    with pytest.raises(InvalidValueError, match=match):
        business_tags({}, workdir)
