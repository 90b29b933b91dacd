"""The machine and the interpreters: MLflow's own venv, versions, CPU and memory."""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PINS_FILE = REPO_ROOT / "requirements" / "test.txt"
MLFLOW_VENV = REPO_ROOT / ".bench" / "mlflow-venv"
MLFLOW_VERSION = "3.17.2"
# What MLflow's venv gets, pinned to the versions mltrail is tested with, so that
# both sides run the same scikit-learn, pandas and numpy.
MLFLOW_VENV_PACKAGES = ("mlflow", "scikit-learn", "pandas", "numpy")
_VERSIONS_PROGRAM = """\
import importlib.metadata as m, json, sys
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = m.version(name)
    except m.PackageNotFoundError:
        found[name] = None
print(json.dumps(found))
"""


def compile_mltrail(python: Path | str) -> None:
    """Compile mltrail's modules to bytecode, as installing a wheel does.

    An editable install writes its ``.pyc`` files at first import only, and not at
    all under ``PYTHONDONTWRITEBYTECODE``; every fresh process would then compile
    mltrail from source while MLflow's installed modules load compiled.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    _run(
        [str(python), "-m", "compileall", "-q", str(REPO_ROOT / "src" / "mltrail")], env
    )


class BenchEnvironmentError(RuntimeError):
    """MLflow's venv could not be made, or an interpreter does not answer."""


def read_pins(path: Path = PINS_FILE) -> dict[str, str]:
    """Return ``{normalized name: version}`` from a requirements file of ``==`` pins."""
    pins: dict[str, str] = {}
    if not path.exists():
        return pins
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+).*", line)
        if match:
            pins[_normalize(match.group(1))] = match.group(2)
    return pins


def mlflow_requirements(pins: Mapping[str, str]) -> list[str]:
    """Return the pip requirements of MLflow's venv, as ``name==version``."""
    versions = {
        "mlflow": MLFLOW_VERSION,
        **{k: v for k, v in pins.items() if k != "mlflow"},
    }
    return [
        f"{name}=={versions[name]}" if name in versions else name
        for name in MLFLOW_VENV_PACKAGES
    ]


def installed_versions(python: Path | str, names: list[str]) -> dict[str, str | None]:
    """Return the installed version of each distribution in ``python``'s environment."""
    result = subprocess.run(
        [str(python), "-c", _VERSIONS_PROGRAM, *names],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BenchEnvironmentError(
            f"{python} failed to report versions: {result.stderr}"
        )
    return dict(json.loads(result.stdout))


def ensure_mlflow_venv(
    venv: Path = MLFLOW_VENV,
    *,
    pins: Mapping[str, str] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Return MLflow's interpreter, creating or updating its venv when needed.

    The venv is reused when it already has exactly the wanted versions.
    """
    wanted = mlflow_requirements(read_pins() if pins is None else pins)
    python = venv / "bin" / "python"
    if python.exists() and _satisfies(python, wanted):
        return python
    if not python.exists():
        log(f"Creating MLflow's virtual environment in {venv} ...")
        _run([sys.executable, "-m", "venv", str(venv)])
    log(f"Installing {' '.join(wanted)} into {venv} (a few minutes) ...")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *wanted,
        ]
    )
    if not _satisfies(python, wanted):
        raise BenchEnvironmentError(f"{venv} still lacks {wanted} after pip install.")
    return python


def _satisfies(python: Path, wanted: list[str]) -> bool:
    names = [item.split("==")[0] for item in wanted]
    found = installed_versions(python, names)
    for item in wanted:
        name, _, version = item.partition("==")
        if found.get(name) is None or (version and found[name] != version):
            return False
    return True


def _run(command: list[str], env: Mapping[str, str] | None = None) -> None:
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-20:])
        raise BenchEnvironmentError(f"{' '.join(command)} failed:\n{tail}")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def machine_info() -> dict[str, object]:
    """Return the CPU model, core count, RAM, load average, OS and UTC date."""
    cpu = platform.processor() or platform.machine()
    memory_gb: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:  # not Linux: keep what platform says
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "load_average": [round(value, 2) for value in load],
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
