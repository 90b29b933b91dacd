"""The README's quickstart runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_quickstart_runs_and_prints_the_test_accuracy(tmp_path: Path) -> None:
    match = re.search(r"## Quickstart\n\n```python\n(.*?)```", README.read_text(), re.S)
    assert match is not None, "the README lost its quickstart"
    script = tmp_path / "quickstart.py"
    script.write_text(match.group(1))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert 0.8 <= float(result.stdout.strip()) <= 1.0
    assert (tmp_path / "mltrail.db").exists()
