"""Alembic environment: migrate the connection that ``SqlStore`` hands over.

``SqlStore`` passes an open connection in ``config.attributes["connection"]`` (and
the artifact root in ``config.attributes["artifact_root"]``); nothing here opens a
connection of its own, so the caller's migration lock covers the whole upgrade.
Every schema step is idempotent (``mltrail.store._ddl``), so write data steps that
way too: check before inserting.
"""

from __future__ import annotations

from alembic import context

from mltrail.store._ddl import make_idempotent

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
# A migration interrupted on MySQL (whose DDL commits at once) is finished, not
# failed, when it runs again: steps already done are skipped.
make_idempotent(context.get_context().impl)
with context.begin_transaction():
    context.run_migrations()
