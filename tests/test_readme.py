"""The README tells the truth: its code runs, its CLI reference is current, its
settings and extras exist."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cogapp import Cog

from mltrail.capture._tags import business_tags

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SRC = ROOT / "src" / "mltrail"
# Distribution name -> what the code says when it uses it (import or driver name).
USES = {
    "psycopg": ("+psycopg",),
    "pymysql": ("+pymysql",),
    "pyarrow": (".to_parquet(",),  # pandas' parquet engine
    # uvicorn's defaults (http="auto", loop="auto") take them when installed.
    "httptools": ("import uvicorn",),
    "uvloop": ("import uvicorn",),
}


def _block(language: str, after: str) -> str:
    text = README.read_text()
    start = text.index(after)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match is not None, f"the README lost its {language} block after {after!r}"
    return match.group(1)


@pytest.mark.slow
def test_quickstart_model_and_cli_examples_run(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    quickstart = _block("python", "## Quickstart")
    model = _block("python", "## Load a model back")
    script.write_text(quickstart + model)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = result.stdout.strip().splitlines()
    assert 0.8 <= float(lines[0]) <= 1.0  # the quickstart's test_accuracy
    assert lines[1] == lines[2]  # sklearn and pyfunc predict the same classes
    assert 0.8 <= float(lines[3]) <= 1.0  # evaluate's new_accuracy
    assert (tmp_path / "mltrail.db").exists()
    shown = subprocess.run(
        [sys.executable, "-m", "mltrail.cli", "runs", "show", "wine", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert '"new_accuracy"' in shown.stdout
    assert '"test_accuracy"' in shown.stdout


def test_cli_reference_is_current() -> None:
    # Regenerate it with scripts/docs.
    status = Cog().main(["cog", "--check", "-I", str(ROOT / "scripts"), str(README)])
    assert status == 0, "README.md's CLI reference is stale: run scripts/docs"


def test_business_tag_examples_are_read_as_shown(tmp_path: Path) -> None:
    shell = _block("sh", "Business tags")
    value = re.search(r'MLTRAIL_TAGS="([^"]+)"', shell)
    assert value is not None
    (tmp_path / "pyproject.toml").write_text(_block("toml", "Business tags"))
    tags = business_tags({"MLTRAIL_TAGS": value.group(1)}, tmp_path)
    # The environment wins when both set a key, as the README says.
    assert tags == {"cost_center": "4711", "team": "risk", "ticket": "ML-1234"}


def test_named_extras_exist_and_install_only_what_the_code_uses() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    named = set(re.findall(r"`(\w+)`", README.read_text().split("## Quickstart")[0]))
    assert {"postgres", "mysql", "server", "s3", "cloudpickle"} <= named
    assert named & set(extras) >= {"postgres", "mysql", "server", "s3", "cloudpickle"}
    code = "\n".join(path.read_text() for path in SRC.rglob("*.py"))
    for extra, requirements in extras.items():
        for requirement in requirements:
            if requirement.startswith("mltrail["):
                continue
            name = re.split(r"[\[<>=~! ]", requirement)[0].lower().replace("-", "_")
            said = USES.get(name, (f"import {name}", f"from {name}"))
            assert any(word in code for word in said), f"[{extra}] {name} is unused"
