"""Every public name is exported, listed in a sorted ``__all__`` and resolvable."""

from __future__ import annotations

import importlib

import pytest

import mltrail

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
# Subpackages that appear as attributes once imported; their own names are not API.
INTERNAL_PACKAGES = {
    "capture",
    "cli",
    "evaluation",
    "importer",
    "server",
    "serving",
    "store",
    "ui",
}


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_all_is_sorted_and_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_every_public_name_is_in_all() -> None:
    public = {name for name in dir(mltrail) if not name.startswith("_")}
    assert public - INTERNAL_PACKAGES == set(mltrail.__all__) - {"__version__"}


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = mltrail.nope


@pytest.mark.parametrize("name", mltrail.__all__)
def test_exported_name_is_defined_in_mltrail(name: str) -> None:
    value = getattr(mltrail, name)
    module = str(getattr(value, "__module__", None) or getattr(value, "__name__", ""))
    assert name == "__version__" or module.startswith("mltrail"), module


def test_all_lists_exactly_the_lazy_names() -> None:
    lazy = {*mltrail._LOCATIONS, *mltrail._SUBMODULES, "__version__"}
    assert lazy == set(mltrail.__all__)
