from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mltrail._entities import Run
from mltrail.capture._source import SourceInfo, script_source, source_of
from mltrail.tracking import TrackingClient

if TYPE_CHECKING:
    from jupyter_client.blocking.client import BlockingKernelClient
    from jupyter_client.manager import KernelManager

REPORT = (
    "import json\n"
    "from mltrail.capture._source import script_source\n"
    "info = script_source()\n"
    "print(json.dumps(None if info is None else [info.path, info.kind, info.text]))\n"
)


def run(*args: str, cwd: Path) -> object:
    completed = subprocess.run(
        [sys.executable, *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    return json.loads(completed.stdout)


def kernel_main(**namespace: object) -> types.ModuleType:
    """A ``__main__`` shaped like an IPython kernel's user namespace."""
    main = types.ModuleType("__main__")
    main.__dict__.update(get_ipython=lambda: None, **namespace)
    return main


def test_script_path_and_source(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(REPORT)
    assert run(str(script), cwd=tmp_path) == [str(script.resolve()), "script", REPORT]


def test_script_run_by_relative_path(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "fit.py").write_text(REPORT)
    result = run("jobs/fit.py", cwd=tmp_path)
    assert isinstance(result, list)
    assert result[0] == str((tmp_path / "jobs" / "fit.py").resolve())


def test_python_c_has_no_source(tmp_path: Path) -> None:
    assert run("-c", REPORT, cwd=tmp_path) is None


def test_python_stdin_has_no_source() -> None:
    assert source_of(types.ModuleType("__main__"), ["-"], {}, {}) is None


def test_interactive_session_has_no_source() -> None:
    assert source_of(types.ModuleType("__main__"), [""], {}, {}) is None


def test_no_main_and_no_argv() -> None:
    assert source_of(None, [], {}, {}) is None


def test_argv_fallback_when_main_has_no_file(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("x = 1\n")
    info = source_of(types.ModuleType("__main__"), [str(script)], {}, {})
    assert info == SourceInfo(str(script), "script", "x = 1\n", False)


def test_non_python_entry_point_has_no_source(tmp_path: Path) -> None:
    binary = tmp_path / "tool.exe"
    binary.write_bytes(b"\0")
    assert source_of(None, [str(binary)], {}, {}) is None


def test_missing_script_has_no_source(tmp_path: Path) -> None:
    main = types.ModuleType("__main__")
    main.__file__ = str(tmp_path / "gone.py")
    assert source_of(main, ["gone.py"], {}, {}) is None


def test_unreadable_script_has_no_source(tmp_path: Path) -> None:
    directory_named_py = tmp_path / "odd.py"
    directory_named_py.mkdir()
    main = types.ModuleType("__main__")
    main.__file__ = str(directory_named_py)
    assert source_of(main, [], {}, {}) is None


def test_long_script_is_truncated(tmp_path: Path) -> None:
    script = tmp_path / "big.py"
    script.write_text("x = 1\n" * 100)
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    info = source_of(main, [], {}, {}, max_bytes=12)
    assert info is not None
    assert info.is_truncated
    assert info.text == "x = 1\nx = 1\n\n# [mltrail: source truncated after 12 bytes]\n"


def test_script_source_reads_this_process() -> None:
    info = script_source()
    # under pytest, __main__ is pytest's (or runpy's) entry point
    main_file = getattr(sys.modules["__main__"], "__file__", None)
    if main_file and Path(main_file).suffix in (".py", ""):
        assert info is not None
        assert info.path == str(Path(main_file).resolve())
    else:
        assert info is None


def test_notebook_from_jupyter_session(tmp_path: Path) -> None:
    notebook = tmp_path / "explore.ipynb"
    notebook.write_text('{"cells": []}')
    main = kernel_main(__session__=str(notebook), In=["", "x = 1"])
    info = source_of(main, ["ipykernel_launcher.py"], {"ipykernel": object()}, {})
    assert info == SourceInfo(str(notebook), "notebook", '{"cells": []}', False)
    assert info.name == "explore.ipynb"


def test_notebook_from_vscode(tmp_path: Path) -> None:
    notebook = tmp_path / "vs.ipynb"
    notebook.write_text("{}")
    main = kernel_main(__vsc_ipynb_file__=str(notebook))
    info = source_of(main, [], {"ipykernel": object()}, {})
    assert info is not None
    assert (info.path, info.kind) == (str(notebook), "notebook")


def test_notebook_from_environment(tmp_path: Path) -> None:
    notebook = tmp_path / "env.ipynb"
    notebook.write_text("{}")
    main = kernel_main(__session__=str(tmp_path / "missing.ipynb"))
    environ = {"JPY_SESSION_NAME": str(notebook)}
    info = source_of(main, [], {"ipykernel": object()}, environ)
    assert info is not None
    assert info.path == str(notebook)


def test_notebook_path_relative_to_the_server_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "projects" / "churn"
    folder.mkdir(parents=True)
    (folder / "explore.ipynb").write_text("{}")
    monkeypatch.chdir(folder)  # a kernel runs in its notebook's folder
    main = kernel_main(__session__="projects/churn/explore.ipynb")
    info = source_of(main, [], {"ipykernel": object()}, {})
    assert info is not None
    assert (info.path, info.kind) == (str(folder / "explore.ipynb"), "notebook")


def test_notebook_history_when_file_is_unknown() -> None:
    main = kernel_main(In=["", "import numpy as np", "", "X = np.ones(3)"])
    info = source_of(main, [], {"ipykernel": object()}, {"JPY_SESSION_NAME": "a1b2"})
    assert info is not None
    assert (info.path, info.kind, info.name) == (None, "history", "notebook")
    assert info.text == "# In[1]:\nimport numpy as np\n\n# In[3]:\nX = np.ones(3)"


def test_notebook_found_by_the_cells_the_kernel_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notebook(tmp_path / "other.ipynb", ["print('something else')"])
    write_notebook(tmp_path / "explore.ipynb", ["import numpy as np", "", "x = 1  "])
    (tmp_path / "broken.ipynb").write_text("not json")
    monkeypatch.chdir(tmp_path)
    main = kernel_main(In=["", "import numpy as np", "x = 1"])
    info = source_of(main, [], {"ipykernel": object()}, {})
    assert info is not None
    assert (info.path, info.kind) == (str(tmp_path / "explore.ipynb"), "notebook")


@pytest.mark.parametrize(
    "notebooks",
    [[], [["x = 2"]], [["x = 1"], ["x = 1"]], [["y = 0", "import numpy as np"]]],
    ids=["none", "other-cells", "two-matches", "other-order"],
)
def test_notebook_not_found_by_its_cells_gives_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notebooks: list[list[str]]
) -> None:
    for index, cells in enumerate(notebooks):
        write_notebook(tmp_path / f"n{index}.ipynb", cells)
    monkeypatch.chdir(tmp_path)
    main = kernel_main(
        In=["", "x = 1"] if len(notebooks) > 2 else ["", "x = 1", "y = 0"]
    )
    info = source_of(main, [], {"ipykernel": object()}, {})
    assert info is not None
    assert info.kind == "history"


@pytest.mark.parametrize(
    "cells", [None, [], ["", ""]], ids=["no-history", "empty", "blank-cells"]
)
def test_kernel_without_history_has_no_source(cells: list[str] | None) -> None:
    main = kernel_main() if cells is None else kernel_main(In=cells)
    assert source_of(main, [], {"ipykernel": object()}, {}) is None


def test_ipykernel_imported_in_a_script_is_still_a_script(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    info = source_of(main, [str(script)], {"ipykernel": object()}, {})
    assert info is not None
    assert info.kind == "script"


def test_ipynb_file_run_as_main_is_a_notebook(tmp_path: Path) -> None:
    notebook = tmp_path / "run.ipynb"
    notebook.write_text("{}")
    main = types.ModuleType("__main__")
    main.__file__ = str(notebook)
    info = source_of(main, [], {}, {})
    assert info is not None
    assert info.kind == "notebook"


# --- a real Jupyter kernel -------------------------------------------------------

KERNEL_NAME = "mltrail-test-python"
NOTEBOOK_CELLS = (
    "import sys\n\nimport mltrail\nfrom sklearn.datasets import load_wine\n"
    "from sklearn.tree import DecisionTreeClassifier\n\nmltrail.sklearn.autolog()",
    "X, y = load_wine(return_X_y=True)\n"
    "model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)",
    "print(sys.executable)\nprint(mltrail.last_active_run().info.run_id)",
)


@pytest.fixture
def kernel_manager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KernelManager]:
    """A kernel manager whose only kernel is this interpreter's ipykernel.

    Jupyter's runtime files and IPython's profile go under ``tmp_path``; the kernel,
    if still running at the end, is shut down.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    spec = tmp_path / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "mltrail", "language": "python"})
    )
    specs = KernelSpecManager(kernel_dirs=[str(spec.parent)])
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    yield manager
    if manager.has_kernel:
        manager.shutdown_kernel(now=True)


@pytest.fixture
def notebook_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "analysis"
    directory.mkdir()
    return directory


def write_notebook(path: Path, cells: Iterable[str]) -> None:
    """Save a notebook of code cells, as Jupyter does."""
    import nbformat

    # nbformat ships no type hints: its calls are untyped.
    new_cell = nbformat.v4.new_code_cell
    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [new_cell(cell) for cell in cells]  # type: ignore[no-untyped-call]
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]


def run_notebook(
    path: Path,
    manager: KernelManager,
    env: Mapping[str, str],
    cwd: Path | None = None,
) -> list[str]:
    """Execute the notebook at ``path`` with nbclient; return its last cell's lines.

    The kernel runs in ``cwd``, by default the notebook's folder.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=120,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    # Starts the kernel, runs every cell, then shuts the kernel down gracefully.
    client.execute(env=dict(env), cleanup_kc=True)
    return "".join(o["text"] for o in notebook.cells[-1].outputs).split()


def stored_run(directory: Path, run_id: str) -> tuple[Run, dict[str, bytes]]:
    """The run, and its ``code/`` artifacts by path, from the kernel's store."""
    client = TrackingClient(f"sqlite:///{directory / 'mltrail.db'}")
    store, uri = client._artifacts(run_id)
    files = {
        item.path: store.read_bytes(uri, item.path)
        for item in client.list_artifacts(run_id, "code")
    }
    return client.get_run(run_id), files


@pytest.mark.slow
def test_real_kernel_records_the_notebook_file(
    kernel_manager: KernelManager, notebook_dir: Path
) -> None:
    notebook = notebook_dir / "explore.ipynb"
    write_notebook(notebook, NOTEBOOK_CELLS)
    # What Jupyter Server 2 gives the kernel of a notebook; ipykernel turns it into
    # ``__session__`` in the user namespace.
    env = {**os.environ, "JPY_SESSION_NAME": str(notebook)}
    executable, run_id = run_notebook(notebook, kernel_manager, env)
    assert executable == sys.executable
    assert not kernel_manager.has_kernel
    run, files = stored_run(notebook_dir, run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.mltrail.source.kind"] == "notebook"
    assert run.data.tags["mlflow.mltrail.source.path"] == str(notebook.resolve())
    assert run.data.tags["mlflow.source.name"] == str(notebook.resolve())
    assert files["code/explore.ipynb"] == notebook.read_bytes()


@pytest.mark.slow
def test_real_kernel_finds_its_notebook_by_the_cells_it_ran(
    kernel_manager: KernelManager, notebook_dir: Path
) -> None:
    notebook = notebook_dir / "explore.ipynb"
    write_notebook(notebook, NOTEBOOK_CELLS)
    write_notebook(notebook_dir / "other.ipynb", ["print('another analysis')"])
    # As ``jupyter execute`` and papermill run it: nobody tells the kernel its path.
    _, run_id = run_notebook(notebook, kernel_manager, os.environ)
    run, files = stored_run(notebook_dir, run_id)
    assert run.data.tags["mlflow.mltrail.source.kind"] == "notebook"
    assert run.data.tags["mlflow.mltrail.source.path"] == str(notebook.resolve())
    assert run.data.tags["mlflow.source.name"] == str(notebook.resolve())
    assert run.data.tags["mlflow.source.type"] == "NOTEBOOK"
    assert files["code/explore.ipynb"] == notebook.read_bytes()


@pytest.mark.slow
def test_real_kernel_without_a_notebook_file_records_its_history(
    kernel_manager: KernelManager, notebook_dir: Path, tmp_path: Path
) -> None:
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    notebook = drafts / "untitled.ipynb"
    write_notebook(notebook, NOTEBOOK_CELLS)
    # The kernel's folder holds no notebook: nothing names or matches this one.
    _, run_id = run_notebook(notebook, kernel_manager, os.environ, cwd=notebook_dir)
    run, files = stored_run(notebook_dir, run_id)
    assert run.data.tags["mlflow.mltrail.source.kind"] == "history"
    assert "mlflow.mltrail.source.path" not in run.data.tags
    history = files["code/notebook_history.py"].decode()
    assert history.startswith(f"# In[1]:\n{NOTEBOOK_CELLS[0]}\n\n# In[2]:\n")
    assert NOTEBOOK_CELLS[1] in history
    assert "code/untitled.ipynb" not in files


def execute(client: BlockingKernelClient, code: str) -> str:
    """Run ``code`` in the kernel; return what it printed, or fail on an error."""
    printed: list[str] = []

    def keep(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    reply = client.execute_interactive(code, timeout=120, output_hook=keep)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(printed)


@pytest.mark.slow
def test_real_kernel_records_the_notebook_as_last_saved(
    kernel_manager: KernelManager, notebook_dir: Path
) -> None:
    notebook = notebook_dir / "explore.ipynb"
    write_notebook(notebook, NOTEBOOK_CELLS)
    env = {**os.environ, "JPY_SESSION_NAME": str(notebook)}
    kernel_manager.start_kernel(cwd=str(notebook_dir), env=env)
    client = kernel_manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        execute(client, NOTEBOOK_CELLS[0])
        execute(client, NOTEBOOK_CELLS[1])
        first = execute(client, NOTEBOOK_CELLS[2]).split()[-1]
        saved_before = notebook.read_bytes()
        write_notebook(notebook, (*NOTEBOOK_CELLS, "model.max_depth = 4"))
        execute(client, "model.set_params(max_depth=4).fit(X, y)")
        second = execute(client, NOTEBOOK_CELLS[2]).split()[-1]
    finally:
        client.stop_channels()
        kernel_manager.shutdown_kernel()
    assert first != second
    assert stored_run(notebook_dir, first)[1]["code/explore.ipynb"] == saved_before
    saved_after = stored_run(notebook_dir, second)[1]["code/explore.ipynb"]
    assert saved_after == notebook.read_bytes() != saved_before
