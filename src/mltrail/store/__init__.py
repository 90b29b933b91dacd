"""Storage of runs (``Store``) and of their files (``ArtifactStore``)."""

from mltrail.store._base import ArtifactStore, Store

__all__ = ["ArtifactStore", "Store"]
