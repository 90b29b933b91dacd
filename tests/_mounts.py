"""Run a Python script in a child process with a small or read-only tmpfs mounted.

The child gets its own mount namespace (``unshare``), so nothing is mounted on the
host: a full disk and read-only media are real file system states, not mocks.
"""

from __future__ import annotations

import functools
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parent.parent / "src")


@functools.cache
def _unshare_prefix() -> list[str] | None:
    """The command that gives a child its own mount namespace, if this host allows."""
    unshare = shutil.which("unshare")
    if unshare is None:  # pragma: no cover - util-linux is on every test machine
        return None
    for prefix in ([unshare, "-m"], [unshare, "-rm"]):
        probe = "d=$(mktemp -d) && mount -t tmpfs -o size=16k tmpfs $d && umount $d"
        done = subprocess.run(
            [*prefix, "sh", "-c", probe], capture_output=True, check=False
        )
        if done.returncode == 0:
            return prefix
    return None  # pragma: no cover - hosts without user or mount namespaces


def run_on_tmpfs(
    directory: Path,
    script: str,
    *,
    size_kb: int = 1024,
    prepare: str | None = None,
    read_only: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Mount a tmpfs of ``size_kb`` on ``directory`` and run ``script`` with it.

    ``prepare`` runs first (writable); with ``read_only`` the mount is then made
    read-only. Both scripts get the directory as ``sys.argv[1]``.
    """
    prefix = _unshare_prefix()
    if prefix is None:  # pragma: no cover - see _unshare_prefix
        pytest.skip("this host cannot mount a tmpfs in a private namespace")
    directory.mkdir(parents=True, exist_ok=True)
    python = shlex.quote(sys.executable)
    where = shlex.quote(str(directory))
    steps = [f"mount -t tmpfs -o size={size_kb}k tmpfs {where}"]
    if prepare is not None:
        steps.append(f"{python} -c {shlex.quote(prepare)} {where}")
    if read_only:
        steps.append(f"mount -o remount,ro {where}")
    steps.append(f"{python} -c {shlex.quote(script)} {where}")
    return subprocess.run(
        [*prefix, "sh", "-c", " && ".join(steps)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    )
