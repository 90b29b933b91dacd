"""The schema revisions this code knows, without importing SQLAlchemy.

``_schema`` (the tables) and ``_sqlite_lookup`` (the read-only lookups of a model
load) both check a database against ``HEAD_REVISION``.
"""

__all__ = ["HEAD_REVISION", "KNOWN_REVISIONS"]

#: Every revision this code knows, oldest first; the last one is the head.
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")
HEAD_REVISION = KNOWN_REVISIONS[-1]
