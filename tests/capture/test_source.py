from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from mltrail.capture._source import SourceInfo, script_source, source_of

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


def test_notebook_history_when_file_is_unknown() -> None:
    main = kernel_main(In=["", "import numpy as np", "", "X = np.ones(3)"])
    info = source_of(main, [], {"ipykernel": object()}, {"JPY_SESSION_NAME": "a1b2"})
    assert info is not None
    assert (info.path, info.kind, info.name) == (None, "history", "notebook")
    assert info.text == "# In[1]:\nimport numpy as np\n\n# In[3]:\nX = np.ones(3)"


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
