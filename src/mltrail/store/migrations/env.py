"""Alembic environment: migrate the connection that ``SqlStore`` hands over.

``SqlStore`` passes an open connection in ``config.attributes["connection"]`` (and
the artifact root in ``config.attributes["artifact_root"]``); nothing here opens a
connection of its own, so the caller's migration lock covers the whole upgrade.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
