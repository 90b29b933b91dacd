"""The types a skops file may hold without the caller's trust, decided by name only.

The list is what skops trusts by default (``skops.io._trusted_types`` and the defaults
of each node kind), copied into ``allowed_types.json`` for the versions of
scikit-learn, numpy and scipy named there, plus the few types that mltrail adds
(``ADDED``), each of which has its state validated before the object is built
(``_skops_checks``). Nothing here imports a module a file names: a decision is a
lookup of a string. When an installed library's version differs from the
file's, the lists for that library are recomputed from skops once per process.

Run ``python -m mltrail.models._allowed_types`` to write the JSON file again.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "ADDED",
    "ALLOWED_FILE",
    "FIXED",
    "LIBRARY_SECTIONS",
    "SPLITTERS",
    "is_allowed",
    "library_version",
    "load_lists",
    "skops_lists",
]

ALLOWED_FILE = Path(__file__).with_name("allowed_types.json")

# Node kinds whose trusted names do not depend on a library's version: skops's
# defaults for them, written out.
FIXED: dict[str, frozenset[str]] = {
    "DictNode": frozenset({"builtins.dict", "collections.OrderedDict"}),
    "DefaultDictNode": frozenset({"collections.defaultdict"}),
    "ListNode": frozenset({"builtins.list"}),
    "SetNode": frozenset({"builtins.set"}),
    "TupleNode": frozenset({"builtins.tuple"}),
    "BytesNode": frozenset({"builtins.bytes"}),
    "BytearrayNode": frozenset({"builtins.bytearray"}),
    "MaskedArrayNode": frozenset({"numpy.ma.MaskedArray"}),
    "RandomStateNode": frozenset({"numpy.random.mtrand.RandomState"}),
    "RandomGeneratorNode": frozenset({"numpy.random._generator.Generator"}),
    "SparseMatrixNode": frozenset(
        {"scipy.sparse._matrix.spmatrix", "scipy.sparse._base.sparray"}
    ),
    # skops trusts these to hold only builtins, whatever names they carry.
    "TypeNode": frozenset(
        {f"builtins.{name}" for name in ("int", "float", "str", "bool")}
        | {f"builtins.{name}" for name in ("list", "set", "map", "tuple")}
    ),
}

# Cross-validation splitters whose state is numbers only (checked).
SPLITTERS = (
    "KFold",
    "StratifiedKFold",
    "GroupKFold",
    "StratifiedGroupKFold",
    "ShuffleSplit",
    "StratifiedShuffleSplit",
    "GroupShuffleSplit",
    "TimeSeriesSplit",
    "LeaveOneOut",
    "LeavePOut",
    "LeaveOneGroupOut",
    "LeavePGroupsOut",
)

# What mltrail trusts beyond skops, by node kind. Each has a check in
# ``_skops_checks`` that runs on the file's state before any object exists.
ADDED: dict[str, frozenset[str]] = {
    # Every tree model; node, child and feature indices are checked.
    "TreeNode": frozenset({"sklearn.tree._tree.Tree"}),
    # SimpleImputer and KBinsDiscretizer keep a dtype, read from an .npy header.
    "DTypeNode": frozenset({"numpy.dtype"}),
    "ObjectNode": frozenset(
        {
            # HistGradientBoosting's trees; node and feature indices are checked.
            "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
            # The neighbor search trees of KNN and KernelDensity: every index is
            # checked, and their distance metric is one without weight arrays.
            "sklearn.neighbors._kd_tree.KDTree",
            "sklearn.neighbors._ball_tree.BallTree",
            *(
                f"sklearn.metrics._dist_metrics.{name}Distance64"
                for name in ("Euclidean", "Manhattan", "Chebyshev", "Minkowski")
            ),
            # CalibratedClassifierCV's fitted parts: an estimator with calibrators,
            # and calibrations that are numbers (pure Python and numpy code).
            "sklearn.calibration._CalibratedClassifier",
            "sklearn.calibration._SigmoidCalibration",
            "sklearn.calibration._TemperatureScaling",
            # The optimizer an MLP keeps for partial_fit: numbers and arrays.
            "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
            "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
            # What a fitted search keeps of its cv and scoring (autolog logs the
            # search itself, as MLflow does): splitters of numbers, and the scorer
            # that calls the estimator's own score.
            *(f"sklearn.model_selection._split.{name}" for name in SPLITTERS),
            "sklearn.metrics._scorer._PassthroughScorer",
        }
    ),
    # The score functions of the univariate feature selectors, called only by fit.
    "FunctionNode": frozenset(
        {
            f"sklearn.feature_selection._univariate_selection.{name}"
            for name in ("chi2", "f_classif", "f_oneway", "f_regression")
        }
        | {"sklearn.feature_selection._univariate_selection.r_regression"}
        | {
            f"sklearn.feature_selection._mutual_info.{name}"
            for name in ("mutual_info_classif", "mutual_info_regression")
        }
    ),
}

# The library each version-dependent list comes from, by (section, node kind).
LIBRARY_SECTIONS: dict[str, str] = {
    "sklearn": "scikit-learn",
    "numpy": "numpy",
    "scipy": "scipy",
}
# Node kinds whose version-dependent names live in each section of the JSON file.
_SECTION_KINDS: dict[str, tuple[str, ...]] = {
    "sklearn": ("ObjectNode", "LossNode"),
    "numpy": ("FunctionNode", "TypeNode", "NdArrayNode", "bit_generators"),
    "scipy": ("FunctionNode",),
}


def library_version(section: str) -> str:
    """Return the installed version of a section's library (importing it is safe)."""
    if section == "sklearn":
        import sklearn

        return str(sklearn.__version__)
    if section == "numpy":
        import numpy

        return str(numpy.__version__)
    import scipy

    return str(scipy.__version__)


def skops_lists() -> dict[str, dict[str, list[str]]]:
    """Compute the version-dependent lists from the installed skops (slow: ~1 s)."""
    from mltrail.models._skops import import_skops_io

    import_skops_io()  # skops.io, without scikit-learn's walk
    import skops.io._sklearn as skops_sklearn
    import skops.io._trusted_types as trusted
    from skops.io._utils import get_type_name

    dtypes = sorted(trusted.NUMPY_DTYPE_TYPE_NAMES)
    return {
        "sklearn": {
            "ObjectNode": sorted(
                trusted.SKLEARN_ESTIMATOR_TYPE_NAMES
                + trusted.SKLEARN_INTERNAL_TYPE_NAMES
            ),
            "LossNode": sorted(
                get_type_name(loss) for loss in skops_sklearn.ALLOWED_LOSSES
            ),
        },
        "numpy": {
            "FunctionNode": sorted(trusted.NUMPY_UFUNC_TYPE_NAMES),
            "TypeNode": dtypes,
            "NdArrayNode": sorted(["numpy.ndarray", *dtypes]),
            "bit_generators": sorted(trusted.NUMPY_RANDOM_BIT_GENERATOR_TYPE_NAMES),
        },
        "scipy": {"FunctionNode": sorted(trusted.SCIPY_UFUNC_TYPE_NAMES)},
    }


def _document() -> dict[str, Any]:
    """Return the content of ``allowed_types.json`` for the installed libraries."""
    return {
        "versions": {
            library: library_version(section)
            for section, library in LIBRARY_SECTIONS.items()
        },
        **skops_lists(),
    }


def write_file(path: Path = ALLOWED_FILE) -> None:
    """Write the lists of the installed skops, scikit-learn, numpy and scipy."""
    text = json.dumps(_document(), indent=1, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


@functools.cache
def _shipped() -> dict[str, Any]:
    with open(ALLOWED_FILE, encoding="utf-8") as file:
        document: dict[str, Any] = json.load(file)
    return document


@functools.cache
def _recomputed() -> dict[str, dict[str, list[str]]]:
    return skops_lists()


@functools.cache
def load_lists(section: str) -> dict[str, frozenset[str]]:
    """Return a section's lists for the installed version of its library."""
    shipped = _shipped()
    if library_version(section) == shipped["versions"][LIBRARY_SECTIONS[section]]:
        lists = shipped[section]
    else:
        lists = _recomputed()[section]
    return {kind: frozenset(lists.get(kind, ())) for kind in _SECTION_KINDS[section]}


def _section_of(loader: str, name: str) -> str | None:
    if loader in ("ObjectNode", "LossNode"):
        return "sklearn"
    if loader == "FunctionNode":
        return "scipy" if name.startswith("scipy.") else "numpy"
    if loader in ("TypeNode", "NdArrayNode"):
        return "numpy"
    return None


def is_allowed(loader: str, name: str) -> bool:
    """Whether a node kind may build the named type without the caller's trust.

    Parameters
    ----------
    loader : str
        The node kind, skops's ``__loader__`` (``"ObjectNode"``, ``"TreeNode"``...).
    name : str
        The fully qualified name the node carries, or ``numpy.random.<name>`` for
        the bit generator of a ``Generator`` (loader ``"bit_generators"``).
    """
    if name in FIXED.get(loader, ()) or name in ADDED.get(loader, ()):
        return True
    if loader == "bit_generators":
        return name in load_lists("numpy")["bit_generators"]
    section = _section_of(loader, name)
    # Every name in a section starts with its library's name; checking that first
    # keeps a refusal from importing the library to read its version.
    if section is None or not name.startswith(f"{section}."):
        return False
    return name in load_lists(section)[loader]


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    write_file(Path(sys.argv[1]) if len(sys.argv) > 1 else ALLOWED_FILE)
