from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mltrail.capture import _git
from mltrail.capture._git import (
    git_changes,
    git_state,
    git_user_name,
    strip_credentials,
)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the machine's git config out: an empty global config, no system one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    return home


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    completed = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return completed.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with two commits on ``main`` and a ``feature`` branch."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "train.py").write_text("print('v1')\n")
    git(root, "add", "train.py")
    git(root, "commit", "-q", "-m", "first")
    (root / "train.py").write_text("print('v2')\n")
    git(root, "commit", "-q", "-am", "second")
    git(root, "branch", "feature")
    return root


def test_outside_a_repository_is_none(tmp_path: Path) -> None:
    assert git_state(tmp_path) is None


def test_reads_commit_and_branch(repo: Path) -> None:
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.commit == git(repo, "rev-parse", "HEAD")
    assert state.branch == "main"
    assert state.root == str(repo.resolve())


def test_finds_the_root_from_a_subdirectory_file(repo: Path) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "model.py").write_text("")
    state = git_state(repo / "src" / "model.py", changes=False)
    assert state is not None
    assert state.root == str(repo.resolve())


def test_other_branch_checked_out(repo: Path) -> None:
    git(repo, "checkout", "-q", "feature")
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.branch == "feature"


def test_detached_head_has_no_branch(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD~1")
    git(repo, "checkout", "-q", "--detach", first)
    state = git_state(repo, changes=False)
    assert state is not None
    assert (state.branch, state.commit) == (None, first)


def test_packed_refs_resolve(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "pack-refs", "--all", "--prune")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.commit == head


def test_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    (tmp_path / "a.py").write_text("x = 1\n")
    git(tmp_path, "add", "a.py")
    state = git_state(tmp_path)
    assert state is not None
    assert (state.branch, state.commit) == ("trunk", None)
    assert state.is_dirty is True
    assert state.diff == ""


def test_remote_url_loses_credentials(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://ada:s3cret@example.com/team/app.git")
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.remote_url == "https://example.com/team/app.git"


def test_origin_wins_over_other_remotes(repo: Path) -> None:
    git(repo, "remote", "add", "backup", "https://backup.example.com/app.git")
    git(repo, "remote", "add", "origin", "git@example.com:team/app.git")
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.remote_url == "git@example.com:team/app.git"


def test_first_remote_without_origin(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "https://example.com/up.git")
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.remote_url == "https://example.com/up.git"


def test_remote_url_loses_query_token(repo: Path) -> None:
    url = "https://gitlab.example.com/team/app.git?private_token=glpat-SECRET"
    git(repo, "remote", "add", "origin", url)
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.remote_url == "https://gitlab.example.com/team/app.git"


def test_no_remote_is_none(repo: Path) -> None:
    state = git_state(repo, changes=False)
    assert state is not None
    assert state.remote_url is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@host/x.git", "https://host/x.git"),
        ("https://ghp_abc123@github.com/o/r.git", "https://github.com/o/r.git"),
        ("ssh://user:pw@host:2222/x.git", "ssh://host:2222/x.git"),
        ("http://host/x.git", "http://host/x.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        (
            "https://gitlab.com/o/r.git?private_token=glpat-SECRET",
            "https://gitlab.com/o/r.git",
        ),
        ("https://host/r.git?a=1&access_token=SECRET#frag", "https://host/r.git"),
        ("https://host/r.git#SECRET", "https://host/r.git"),
        ("https://oauth2:SECRET@gitlab.com/o/r.git?x=1", "https://gitlab.com/o/r.git"),
        ("HTTPS://u:SECRET@Host/r.git", "https://Host/r.git"),
        ("ghp_SECRET@github.com:o/r.git", "github.com:o/r.git"),
        ("ada:SECRET@host:team/r.git", "host:team/r.git"),
        ("git@host:r.git?token=SECRET", "git@host:r.git"),
        ("file:///srv/git/r.git", "file:///srv/git/r.git"),
        ("C:/repos/r.git", "C:/repos/r.git"),
    ],
    ids=[
        "https-user-token",
        "https-token",
        "ssh-password",
        "plain",
        "scp",
        "path",
        "query-token",
        "query-and-fragment",
        "fragment",
        "userinfo-and-query",
        "upper-case-scheme",
        "scp-token-user",
        "scp-password",
        "scp-query",
        "file",
        "windows-drive",
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


def test_clean_tree(repo: Path) -> None:
    state = git_state(repo)
    assert state is not None
    assert state.changes == _git.GitChanges(False, "", ())


def test_modified_file_makes_tree_dirty_with_diff(repo: Path) -> None:
    (repo / "train.py").write_text("print('v3')\n")
    state = git_state(repo)
    assert state is not None
    assert state.is_dirty is True
    assert state.diff is not None
    assert "+print('v3')" in state.diff
    assert "-print('v2')" in state.diff


def test_staged_change_is_in_the_diff(repo: Path) -> None:
    (repo / "new.py").write_text("y = 2\n")
    git(repo, "add", "new.py")
    state = git_state(repo)
    assert state is not None
    assert state.is_dirty is True
    assert "+y = 2" in (state.diff or "")


def test_renamed_file_is_a_change(repo: Path) -> None:
    git(repo, "mv", "train.py", "fit.py")
    changes = git_changes(repo)
    assert changes is not None
    assert changes.is_dirty is True
    assert changes.untracked_files == ()


def test_untracked_source_files_are_listed(repo: Path) -> None:
    (repo / "notes.sql").write_text("select 1;\n")
    (repo / "data.bin").write_bytes(b"\0\1")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "util.py").write_text("")
    state = git_state(repo)
    assert state is not None
    assert sorted(state.untracked_files) == ["notes.sql", "pkg/util.py"]
    assert state.is_dirty is False


def test_untracked_files_are_capped(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_git, "MAX_UNTRACKED_FILES", 2)
    for i in range(4):
        (repo / f"u{i}.py").write_text("")
    changes = git_changes(repo)
    assert changes is not None
    assert len(changes.untracked_files) == 2


def test_diff_is_truncated_with_a_marker(repo: Path) -> None:
    (repo / "train.py").write_text("x = 1\n" * 5000)
    changes = git_changes(repo, max_diff_bytes=1000)
    assert changes is not None
    assert changes.diff.endswith("[mltrail: diff truncated after 1000 bytes]\n")
    assert len(changes.diff.encode()) < 1100


def test_changes_not_asked_for(repo: Path) -> None:
    (repo / "train.py").write_text("changed\n")
    state = git_state(repo, changes=False)
    assert state is not None
    assert (state.changes, state.is_dirty, state.diff, state.untracked_files) == (
        None,
        None,
        None,
        (),
    )


def test_git_changes_outside_a_repository_is_none(tmp_path: Path) -> None:
    assert git_changes(tmp_path) is None


def test_git_changes_without_git_installed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(repo / "empty"))
    assert git_changes(repo) is None


def test_git_changes_with_a_missing_git_binary(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: str(repo / "no-git"))
    assert git_changes(repo) is None


def test_diff_of_a_missing_git_binary_is_empty(repo: Path) -> None:
    assert _git._run_diff(str(repo / "no-git"), repo, 100) == ""


def test_worktree(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", "https://example.com/team/app.git")
    tree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(tree), "feature")
    (tree / "extra.py").write_text("")
    state = git_state(tree)
    assert state is not None
    assert state.root == str(tree.resolve())
    assert state.branch == "feature"
    assert state.commit == git(repo, "rev-parse", "feature")
    assert state.remote_url == "https://example.com/team/app.git"
    assert state.untracked_files == ("extra.py",)


def test_relative_gitdir_file(repo: Path, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".git").write_text("gitdir: ../project/.git\n")
    state = git_state(checkout, changes=False)
    assert state is not None
    assert state.commit == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    "content",
    ["gitdir: /nonexistent/dir\n", "not a gitdir line\n", b"\xff\xfe"],
    ids=["missing-target", "malformed", "binary"],
)
def test_broken_git_file_is_not_a_repository(
    tmp_path: Path, content: str | bytes
) -> None:
    dot_git = tmp_path / "broken" / ".git"
    dot_git.parent.mkdir()
    if isinstance(content, bytes):
        dot_git.write_bytes(content)
    else:
        dot_git.write_text(content)
    assert git_state(dot_git.parent) is None


def test_git_directory_without_head_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "odd" / ".git").mkdir(parents=True)
    assert git_state(tmp_path / "odd") is None


def test_unreadable_head_gives_no_commit(repo: Path) -> None:
    (repo / ".git" / "HEAD").write_bytes(b"\xff\xfe")
    state = git_state(repo, changes=False)
    assert state is not None
    assert (state.branch, state.commit) == (None, None)


def test_branch_pointing_nowhere(repo: Path) -> None:
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/ghost\n")
    state = git_state(repo, changes=False)
    assert state is not None
    assert (state.branch, state.commit) == ("ghost", None)


def test_symbolic_ref_chain_and_bad_ref(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    refs = repo / ".git" / "refs" / "heads"
    (refs / "alias").write_text("ref: refs/heads/main\n")
    (refs / "garbage").write_text("not a sha\n")
    (refs / "loop").write_text("ref: refs/heads/loop\n")
    repository = _git._find_repository(repo)
    assert repository is not None
    assert _git._resolve_ref(repository, "refs/heads/alias") == head
    assert _git._resolve_ref(repository, "refs/heads/garbage") is None
    assert _git._resolve_ref(repository, "refs/heads/loop") is None


def test_detached_head_with_garbage(repo: Path) -> None:
    (repo / ".git" / "HEAD").write_text("garbage\n")
    state = git_state(repo, changes=False)
    assert state is not None
    assert (state.branch, state.commit) == (None, None)


def test_user_name_from_repository_config(repo: Path) -> None:
    git(repo, "config", "user.name", "Ada Lovelace")
    assert git_user_name(repo) == "Ada Lovelace"


def test_user_name_from_global_config(repo: Path, isolated_git: Path) -> None:
    (isolated_git / ".gitconfig").write_text("[user]\n\tname = Grace Hopper\n")
    assert git_user_name(repo) == "Grace Hopper"


def test_repository_config_wins_over_global(repo: Path, isolated_git: Path) -> None:
    (isolated_git / ".gitconfig").write_text("[user]\n\tname = Grace Hopper\n")
    git(repo, "config", "user.name", "Ada Lovelace")
    assert git_user_name(repo) == "Ada Lovelace"


def test_user_name_from_home_and_xdg(tmp_path: Path) -> None:
    home = tmp_path / "h"
    (home / ".config" / "git").mkdir(parents=True)
    (home / ".config" / "git" / "config").write_text("[user]\n  name = Xdg User\n")
    assert git_user_name(tmp_path, environ={"HOME": str(home)}) == "Xdg User"
    (home / ".gitconfig").write_text("[user]\n  name = Home User\n")
    assert git_user_name(tmp_path, environ={"HOME": str(home)}) == "Home User"


def test_user_name_absent(tmp_path: Path) -> None:
    assert git_user_name(tmp_path, environ={}) is None


def test_user_name_outside_a_repository_uses_os_environ(
    tmp_path: Path, isolated_git: Path
) -> None:
    (isolated_git / ".gitconfig").write_text("[user]\nname = From Env\n")
    assert git_user_name(tmp_path) == "From Env"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[user]\n\tname = "Ada \\"A\\" L" ; comment\n', 'Ada "A" L'),
        ("[user]\n\tname = Ada # comment\n", "Ada"),
        ("# c\n; c\n[core]\n\tbare\n[user] name = Inline\n", "Inline"),
        ("[garbage\n\tname = No\n[USER]\n\tNAME = Upper\n", "Upper"),
        ('[user]\n\tname = "tab\\there"\n', "tab\there"),
        ("name = orphan\n", None),
    ],
    ids=[
        "quoted-escaped",
        "comment",
        "inline-key",
        "case-and-bad-section",
        "escape",
        "no-section",
    ],
)
def test_config_parsing(tmp_path: Path, text: str, expected: str | None) -> None:
    config = tmp_path / "config"
    config.write_text(text)
    assert (
        git_user_name(tmp_path, environ={"GIT_CONFIG_GLOBAL": str(config)}) == expected
    )


def test_old_style_and_escaped_subsections(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        '[remote.origin]\n\turl = https://a/b\n[remote "we\\"ird"]\n\turl = x\n'
    )
    values = _git._read_config(config)
    assert values[("remote", "origin", "url")] == "https://a/b"
    assert values[("remote", 'we"ird', "url")] == "x"


def test_state_properties_without_changes() -> None:
    state = _git.GitState("/r", None, None, None)
    assert (state.is_dirty, state.diff, state.untracked_files) == (None, None, ())
