"""The server's users in ``SqlStore``: accounts, API tokens and permissions.

The store keeps only hashes (the server hashes passwords with argon2 and tokens with
SHA-256 before calling it); it never sees a password or a token.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mltrail._errors import ConflictError, NotFoundError
from mltrail.store import _schema as schema
from mltrail.store._sql_statements import SqlStatements, _now
from mltrail.store._values import check_str

__all__ = ["PermissionRecord", "TokenRecord", "UserRecord", "UsersMixin"]


class UserRecord(NamedTuple):
    """A user as stored: id, name, password hash and whether they administer."""

    user_id: int
    username: str
    password_hash: str
    is_admin: bool


class TokenRecord(NamedTuple):
    """An API token as stored: its id, owner and name (never the token)."""

    token_id: str
    username: str
    name: str
    creation_time: int


class PermissionRecord(NamedTuple):
    """A grant: a user's permission on one resource."""

    resource_type: str
    resource_id: str
    username: str
    permission: str


def _user(row: Any) -> UserRecord:
    return UserRecord(row.user_id, row.username, row.password_hash, bool(row.is_admin))


class UsersMixin(SqlStatements):
    """User accounts, tokens and permissions of ``SqlStore``."""

    def _user_row(self, conn: Connection, username: str) -> UserRecord:
        users = schema.users
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            raise NotFoundError(
                "user", username, "List users with 'mltrail users list'."
            )
        return _user(row)

    def create_user(
        self, username: str, password_hash: str, *, is_admin: bool = False
    ) -> UserRecord:
        """Create a user; a taken name is a ConflictError."""
        check_str("username", username, 255, "Use a short name such as 'ada'.")

        def work(conn: Connection) -> UserRecord:
            try:
                result = conn.execute(
                    schema.users.insert().values(
                        username=username,
                        password_hash=password_hash,
                        is_admin=is_admin,
                        creation_time=_now(),
                    )
                )
            except IntegrityError:
                raise ConflictError(
                    f"user {username!r} already exists. Choose another name."
                ) from None
            # A single-row INSERT always reports its primary key.
            user_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            return UserRecord(user_id, username, password_hash, is_admin)

        return self._write(work)

    def get_user(self, username: str) -> UserRecord:
        """Return a user; NotFoundError if there is none by that name."""
        return self._read(lambda conn: self._user_row(conn, username))

    def list_users(self) -> list[UserRecord]:
        """Return every user, by name."""
        users = schema.users
        return self._read(
            lambda conn: [
                _user(row)
                for row in conn.execute(sa.select(users).order_by(users.c.username))
            ]
        )

    def count_users(self) -> int:
        """Return how many users exist."""
        return int(
            self._read(
                lambda conn: conn.execute(
                    sa.select(sa.func.count()).select_from(schema.users)
                ).scalar_one()
            )
        )

    def update_user(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        is_admin: bool | None = None,
    ) -> None:
        """Change a user's password hash or administrator flag."""
        values: dict[str, Any] = {}
        if password_hash is not None:
            values["password_hash"] = password_hash
        if is_admin is not None:
            values["is_admin"] = is_admin
        users = schema.users

        def work(conn: Connection) -> None:
            self._user_row(conn, username)
            if values:
                conn.execute(
                    users.update().where(users.c.username == username).values(**values)
                )

        self._write(work)

    def delete_user(self, username: str) -> None:
        """Delete a user with their tokens and grants."""

        def work(conn: Connection) -> None:
            user = self._user_row(conn, username)
            for table in (schema.user_tokens, schema.resource_permissions):
                conn.execute(table.delete().where(table.c.user_id == user.user_id))
            conn.execute(
                schema.users.delete().where(schema.users.c.user_id == user.user_id)
            )

        self._write(work)

    def create_token(self, username: str, name: str, token_hash: str) -> TokenRecord:
        """Store a new API token's hash for a user; return its record."""
        check_str("token name", name, 255, "Name it after its use, such as 'ci'.")
        token_id = uuid.uuid4().hex
        now = _now()

        def work(conn: Connection) -> None:
            user = self._user_row(conn, username)
            conn.execute(
                schema.user_tokens.insert().values(
                    token_id=token_id,
                    user_id=user.user_id,
                    token_hash=token_hash,
                    name=name,
                    creation_time=now,
                )
            )

        self._write(work)
        return TokenRecord(token_id, username, name, now)

    def find_token_user(self, token_hash: str) -> UserRecord | None:
        """Return the user who owns the token with this hash, or None."""
        users, tokens = schema.users, schema.user_tokens

        def work(conn: Connection) -> UserRecord | None:
            row = conn.execute(
                sa.select(users)
                .join(tokens, tokens.c.user_id == users.c.user_id)
                .where(tokens.c.token_hash == token_hash)
            ).first()
            return None if row is None else _user(row)

        return self._read(work)

    def list_tokens(self, username: str) -> list[TokenRecord]:
        """Return a user's tokens (never the tokens themselves), oldest first."""
        tokens = schema.user_tokens

        def work(conn: Connection) -> list[TokenRecord]:
            user = self._user_row(conn, username)
            rows = conn.execute(
                sa.select(tokens)
                .where(tokens.c.user_id == user.user_id)
                .order_by(tokens.c.creation_time, tokens.c.token_id)
            )
            return [
                TokenRecord(row.token_id, username, row.name, row.creation_time)
                for row in rows
            ]

        return self._read(work)

    def delete_token(self, username: str, token_id: str) -> None:
        """Revoke one of a user's tokens."""
        tokens = schema.user_tokens

        def work(conn: Connection) -> None:
            user = self._user_row(conn, username)
            result = conn.execute(
                tokens.delete().where(
                    tokens.c.user_id == user.user_id, tokens.c.token_id == token_id
                )
            )
            if result.rowcount == 0:
                raise NotFoundError(
                    "token", token_id, f"See the tokens of {username!r}."
                )

        self._write(work)

    def set_permission(
        self, resource_type: str, resource_id: str, username: str, permission: str
    ) -> None:
        """Grant (or change) a user's permission on one resource."""
        table = schema.resource_permissions

        def work(conn: Connection) -> None:
            user = self._user_row(conn, username)
            key = (
                table.c.resource_type == resource_type,
                table.c.resource_id == resource_id,
                table.c.user_id == user.user_id,
            )
            updated = conn.execute(
                table.update().where(*key).values(permission=permission)
            )
            if updated.rowcount == 0:
                conn.execute(
                    table.insert().values(
                        resource_type=resource_type,
                        resource_id=resource_id,
                        user_id=user.user_id,
                        permission=permission,
                    )
                )

        self._write(work)

    def get_permission(
        self, resource_type: str, resource_id: str, username: str
    ) -> str | None:
        """Return a user's granted permission on one resource, or None."""
        table, users = schema.resource_permissions, schema.users

        def work(conn: Connection) -> str | None:
            value = conn.execute(
                sa.select(table.c.permission)
                .join(users, users.c.user_id == table.c.user_id)
                .where(
                    table.c.resource_type == resource_type,
                    table.c.resource_id == resource_id,
                    users.c.username == username,
                )
            ).scalar()
            return None if value is None else str(value)

        return self._read(work)

    def delete_permission(
        self, resource_type: str, resource_id: str, username: str
    ) -> None:
        """Remove a grant; NotFoundError if there is none."""
        table = schema.resource_permissions

        def work(conn: Connection) -> None:
            user = self._user_row(conn, username)
            result = conn.execute(
                table.delete().where(
                    table.c.resource_type == resource_type,
                    table.c.resource_id == resource_id,
                    table.c.user_id == user.user_id,
                )
            )
            if result.rowcount == 0:
                raise NotFoundError(
                    "permission",
                    f"{resource_type} {resource_id} for {username}",
                    "Grant one first.",
                )

        self._write(work)

    def list_permissions(self, username: str) -> list[PermissionRecord]:
        """Return a user's grants, by resource."""
        table = schema.resource_permissions

        def work(conn: Connection) -> list[PermissionRecord]:
            user = self._user_row(conn, username)
            rows = conn.execute(
                sa.select(table)
                .where(table.c.user_id == user.user_id)
                .order_by(table.c.resource_type, table.c.resource_id)
            )
            return [
                PermissionRecord(
                    row.resource_type, row.resource_id, username, row.permission
                )
                for row in rows
            ]

        return self._read(work)

    def permissions_of(
        self, resource_type: str, resource_ids: Sequence[str], username: str
    ) -> dict[str, str]:
        """Return a user's grants on several resources of one type, by id."""
        if not resource_ids:
            return {}
        table, users = schema.resource_permissions, schema.users

        def work(conn: Connection) -> dict[str, str]:
            rows = conn.execute(
                sa.select(table.c.resource_id, table.c.permission)
                .join(users, users.c.user_id == table.c.user_id)
                .where(
                    table.c.resource_type == resource_type,
                    table.c.resource_id.in_(list(resource_ids)),
                    users.c.username == username,
                )
            )
            return {str(row.resource_id): str(row.permission) for row in rows}

        return self._read(work)
