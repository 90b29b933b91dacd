"""Every public name has a NumPy-style docstring whose examples run."""

from __future__ import annotations

import doctest
import enum
import importlib
import inspect
from pathlib import Path

import numpydoc.validate
import pytest

PUBLIC_PACKAGES = [
    "mltrail",
    "mltrail.artifacts",
    "mltrail.client",
    "mltrail.data",
    "mltrail.entities",
    "mltrail.exceptions",
    "mltrail.sklearn",
    "mltrail.models",
    "mltrail.models.signature",
    "mltrail.pyfunc",
    "mltrail.server",
    "mltrail.registry",
    "mltrail.types",
    "mltrail.types.schema",
]
# The numpydoc checks we hold every public name to. See numpydoc's list of codes:
# GL08 no docstring, SS01 no summary, SS03 summary without period, PR01 parameter
# not documented, PR02 unknown parameter documented, RT01 no Returns section,
# EX01 no Examples section.
ENFORCED_CHECKS = {"GL08", "SS01", "SS03", "PR01", "PR02", "RT01", "EX01"}
# Values, not functions: no docstring of their own.
NOT_DOCUMENTED = {
    "__version__",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
}


def _public_names() -> list[str]:
    names = []
    for package in PUBLIC_PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if name in NOT_DOCUMENTED or inspect.ismodule(value):
                continue
            names.append(f"{package}.{name}")
    return names


def _resolve(path: str) -> object:
    package, _, name = path.rpartition(".")
    return getattr(importlib.import_module(package), name)


def _is_exempt(code: str, value: object) -> bool:
    # Classes return nothing, and an enum's "parameters" are enum machinery.
    if code == "RT01" and inspect.isclass(value):
        return True
    return code == "PR01" and inspect.isclass(value) and issubclass(value, enum.Enum)


@pytest.mark.parametrize("path", _public_names())
def test_public_name_passes_numpydoc(path: str) -> None:
    result = numpydoc.validate.validate(path)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code in ENFORCED_CHECKS and not _is_exempt(code, _resolve(path))
    ]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("path", _public_names())
def test_public_examples_run(path: str, tmp_path: Path) -> None:
    finder = doctest.DocTestFinder(recurse=True)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    value = _resolve(path)
    # A class's examples include those of the mltrail classes it inherits methods
    # from (TrackingClient is assembled from mixins).
    owners = (
        [
            klass
            for klass in inspect.getmro(value)
            if klass.__module__.startswith("mltrail.")
        ]
        if inspect.isclass(value)
        else [value]
    )
    tests = [t for owner in owners for t in finder.find(owner, path) if t.examples]
    assert tests, f"{path} has no runnable example"
    for test in tests:
        runner.run(test)
    summary = runner.summarize(verbose=False)
    assert summary.failed == 0, f"{summary.failed} example(s) of {path} failed"
