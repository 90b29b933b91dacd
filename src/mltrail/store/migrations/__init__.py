"""Alembic migrations of the SQL store's schema, applied by ``SqlStore`` on open."""
