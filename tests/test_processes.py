"""The tests' server processes die with the test process, however it dies."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests._processes import start, stop

# A test process that starts a guarded "server" (a sleeper with a child of its own,
# as uvicorn's workers), prints their pids, then dies the way it is told to.
PARENT = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    sys.path.insert(0, {root!r})
    from tests._processes import start
    sleep = "import time; time.sleep(120)"
    server = start([sys.executable, "-c",
        "import subprocess, sys, time;"
        f"worker = subprocess.Popen([sys.executable, '-c', {{sleep!r}}]);"
        "print(worker.pid, flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE)
    worker = server.stdout.readline().decode().strip()
    print(server.pid, worker, flush=True)
    how = sys.argv[1]
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "exit":
        os._exit(3)
    else:
        raise SystemExit(1)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] != "Z"


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["sigkill", "exit", "raise"])
def test_a_server_dies_with_the_test_process(tmp_path: Path, how: str) -> None:
    script = tmp_path / "parent.py"
    root = str(Path(__file__).resolve().parents[1])
    script.write_text(PARENT.format(root=root))
    result = subprocess.run(
        [sys.executable, str(script), how],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    pids = [int(pid) for pid in result.stdout.split()]
    assert len(pids) == 2, result.stderr.decode()
    assert _gone_within(pids, 30), f"left running: {pids}"


def test_stop_ends_the_group_and_dismisses_the_guard() -> None:
    from tests import _processes

    process = start(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        stdout=subprocess.DEVNULL,
    )
    guard = _processes._guards[process.pid]
    assert _alive(process.pid)
    stop(process)
    assert process.returncode is not None
    assert guard.returncode is not None
    assert process.pid not in _processes._guards
    stop(process)  # a second stop is harmless


def test_stop_kills_a_server_that_ignores_sigint() -> None:
    process = start(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN);"
            "print('ready', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready"
    stop(process, timeout=0.5)
    process.stdout.close()
    assert process.returncode == -9


def test_a_command_that_cannot_start_leaves_no_guard(tmp_path: Path) -> None:
    from tests import _processes

    before = dict(_processes._guards)
    with pytest.raises(FileNotFoundError):
        start([str(tmp_path / "no-such-program")])
    assert _processes._guards == before
