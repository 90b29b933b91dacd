"""Storage of runs (``Store``) and of their files (``ArtifactStore``).

``SqlStore`` loads SQLAlchemy, so it is imported on first access only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mltrail.store._base import ArtifactStore, Store
from mltrail.store._open import clear_store_cache, open_store
from mltrail.store._registry_base import RegistryStore

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from mltrail.store._sql import SqlStore

__all__ = [
    "ArtifactStore",
    "RegistryStore",
    "SqlStore",
    "Store",
    "clear_store_cache",
    "open_store",
]


def __getattr__(name: str) -> Any:
    if name == "SqlStore":
        from mltrail.store._sql import SqlStore

        return SqlStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
