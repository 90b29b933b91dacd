"""Model loading runs no code: crafted ``model.skops`` files, one per gadget class.

Each file is what an attacker would upload: a real model whose ``schema.json`` was
edited. Each goes through ``pyfunc.load_model``, ``sklearn.load_model`` and a
``runs:/`` URI, and each is refused before any object exists.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

import mltrail
from mltrail._errors import InvalidValueError
from mltrail.models import UntrustedModelError
from tests.models._crafted import edit_file, find, set_json

X, y = load_iris(return_X_y=True)

Loader = Callable[[Path], Any]


def _load_pyfunc(directory: Path) -> Any:
    return mltrail.pyfunc.load_model(directory)


def _load_sklearn(directory: Path) -> Any:
    return mltrail.sklearn.load_model(directory)


def _load_run_uri(directory: Path) -> Any:
    # The same directory logged to a run, then loaded back by its runs:/ URI.
    with mltrail.start_run() as run:
        mltrail.log_artifacts(str(directory), "model")
    return mltrail.pyfunc.load_model(f"runs:/{run.info.run_id}/model")


LOADERS = {
    "pyfunc": _load_pyfunc,
    "sklearn": _load_sklearn,
    "runs-uri": _load_run_uri,
}


def _saved_with_gadget(path: Path, gadget: object) -> Path:
    """Save a real model whose estimator holds ``gadget`` as an attribute."""
    estimator = LogisticRegression(max_iter=500).fit(X, y)
    estimator.gadget = gadget
    mltrail.sklearn.save_model(estimator, path)
    return path


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    return folder


def _data_source_model(tmp_path: Path, victim: Path, class_name: str) -> Path:
    from numpy.lib import _datasource

    gadget = getattr(_datasource, class_name)(str(victim))  # _istmpdest is False
    directory = _saved_with_gadget(tmp_path / "model", gadget)
    del gadget

    def arm(schema: dict[str, Any]) -> None:
        node = find(schema, __loader__="ObjectNode", __class__=class_name)
        node["__module__"] = (
            "numpy.lib.npyio" if class_name == "DataSource" else node["__module__"]
        )
        flag = node["content"]["content"]["_istmpdest"]
        set_json(flag, True)

    edit_file(directory / "model.skops", arm)
    return directory


@pytest.mark.parametrize("class_name", ["DataSource", "Repository"])
@pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS.keys())
def test_data_source_gadget_is_refused_and_deletes_nothing(
    tmp_path, victim, class_name, load
):
    directory = _data_source_model(tmp_path, victim, class_name)
    with pytest.raises(UntrustedModelError, match=class_name) as caught:
        load(directory)
    assert any(name.endswith(f".{class_name}") for name in caught.value.types)
    gc.collect()
    assert (victim / "precious.txt").read_text() == "keep me"


def test_data_source_gadget_is_real(tmp_path, victim):
    """Trusting the type by name builds the gadget, and GC deletes the folder."""
    directory = _data_source_model(tmp_path, victim, "DataSource")
    estimator = mltrail.sklearn.load_model(
        directory, trusted=["numpy.lib.npyio.DataSource"]
    )
    del estimator
    gc.collect()
    assert not victim.exists()


F2PY_SCRIPT = """
import json, sys
import mltrail
from mltrail.models import UntrustedModelError
try:
    mltrail.{api}.load_model(sys.argv[1])
except UntrustedModelError as error:
    print(json.dumps({{"refused": error.types,
                       "imported": "numpy.f2py.__main__" in sys.modules}}))
"""


def _f2py_model(tmp_path: Path) -> Path:
    directory = _saved_with_gadget(tmp_path / "model", 1)

    def point_at_f2py(schema: dict[str, Any]) -> None:
        # Replace the harmless attribute by a type node naming f2py's command line.
        schema["content"]["content"]["gadget"] = {
            "__class__": "main",
            "__module__": "numpy.f2py.__main__",
            "__loader__": "TypeNode",
        }

    edit_file(directory / "model.skops", point_at_f2py)
    return directory


@pytest.mark.parametrize("api", ["pyfunc", "sklearn"])
def test_f2py_gadget_is_refused_without_importing_it(tmp_path, api):
    directory = _f2py_model(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", F2PY_SCRIPT.format(api=api), str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {"refused": ["numpy.f2py.__main__.main"], "imported": False}


def test_f2py_gadget_is_real():
    """Importing the module the file names runs f2py and exits the process."""
    script = "import numpy.f2py.__main__\nprint('survived')"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert "survived" not in result.stdout


def _histogram_boosting(tmp_path: Path, corrupt: Callable[[np.ndarray], None]) -> Path:
    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    nodes = model._predictors[0][0].nodes
    corrupt(nodes)
    directory = tmp_path / "model"
    mltrail.sklearn.save_model(model, directory)
    return directory


def _child_far_away(nodes: np.ndarray) -> None:
    nodes["left"][0] = 2_000_000_000


@pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS.keys())
def test_tree_predictor_with_far_child_is_refused(tmp_path, load):
    directory = _histogram_boosting(tmp_path, _child_far_away)
    with pytest.raises(InvalidValueError, match="TreePredictor at _predictors"):
        load(directory)


SEGFAULT_SCRIPT = textwrap.dedent(
    """
    import sys
    import skops.io
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    path = sys.argv[1]
    model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    model.predict(X)
    print("survived")
    """
)


def test_tree_predictor_with_far_child_crashes_predict_when_trusted(tmp_path):
    """The same file, trusted blindly, kills the process that predicts."""
    directory = _histogram_boosting(tmp_path, _child_far_away)
    result = subprocess.run(
        [sys.executable, "-c", SEGFAULT_SCRIPT, str(directory / "model.skops")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode < 0  # killed by a signal: SIGSEGV or SIGBUS
    assert "survived" not in result.stdout


def test_untouched_models_still_load(tmp_path):
    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    mltrail.sklearn.save_model(model, tmp_path / "model")
    loaded = mltrail.pyfunc.load_model(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
