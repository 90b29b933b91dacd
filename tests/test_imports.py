"""``import mltrail`` stays cheap: no heavy library is imported until it is needed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY_MODULES = [
    "click",
    "jinja2",
    "matplotlib",
    "numpy",
    "pandas",
    "rich",
    "scipy",
    "sklearn",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "yaml",
]


def _output_of(script: str) -> str:
    """Run ``script`` in a fresh interpreter and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return result.stdout


def _modules_loaded_by(code: str) -> set[str]:
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    return {name.split(".")[0] for name in json.loads(_output_of(script))}


@pytest.mark.parametrize(
    "code",
    [
        "import mltrail",
        "import mltrail.sklearn",
        "import mltrail; mltrail.RunStatus; mltrail.MltrailError",
    ],
    ids=["package", "sklearn-adapter", "entities-and-errors"],
)
def test_import_loads_no_heavy_module(code: str) -> None:
    loaded = _modules_loaded_by(code)
    assert loaded.isdisjoint(HEAVY_MODULES), sorted(loaded & set(HEAVY_MODULES))


def test_tracking_names_load_without_heavy_modules() -> None:
    loaded = _modules_loaded_by("import mltrail; mltrail.log_metric; mltrail.start_run")
    assert loaded.isdisjoint(HEAVY_MODULES), sorted(loaded & set(HEAVY_MODULES))


def test_the_sklearn_adapter_loads_its_model_code_on_first_use() -> None:
    # autolog() starts its helper process before the model code is imported.
    script = (
        "import sys, mltrail.sklearn as adapter\n"
        "print('mltrail.models' in sys.modules)\n"
        "from mltrail.sklearn import log_model\n"
        "from mltrail.sklearn.shared import _flavor\n"
        "print(log_model is _flavor.log_model,"
        " adapter.save_model is _flavor.save_model,"
        " adapter.load_model is _flavor.load_model, 'log_model' in dir(adapter))\n"
        "try:\n    adapter.no_such_name\nexcept AttributeError as error:\n"
        "    print(error)\n"
    )
    assert _output_of(script).splitlines() == [
        "False",
        "True True True True",
        "module 'mltrail.sklearn' has no attribute 'no_such_name'",
    ]
