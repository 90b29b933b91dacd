"""Store fixtures: ``store`` runs each test on SQLite, PostgreSQL and MySQL."""

from __future__ import annotations

from tests._stores import (  # noqa: F401  # fixtures are found by name
    server_databases,
    sqlite_store,
    sqlite_template,
    store,
)
