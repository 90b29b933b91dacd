"""``mltrail import``: copy an MLflow store (file store, database, server) in.

Internal: the command line is the interface. ``open_source`` reads an MLflow store
and ``import_store`` writes what it reads into an mltrail ``SqlStore``.
"""

from __future__ import annotations

from mltrail.importer._copy import ImportSummary, import_store
from mltrail.importer._open import open_source

__all__ = ["ImportSummary", "import_store", "open_source"]
