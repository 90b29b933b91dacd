"""``mltrail users``: manage the tracking server's users, grants and API tokens.

The commands work on the server's backend store directly (the same
``--backend-store-uri`` as ``mltrail server``), so they also work while the server
is stopped, and on the first day, before any administrator exists.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mltrail.server._auth import Accounts

__all__ = ["users"]


class _Obj:
    def __init__(self, backend_store_uri: str) -> None:
        self.backend_store_uri = backend_store_uri
        self._accounts: Accounts | None = None

    @property
    def accounts(self) -> Accounts:
        if self._accounts is None:
            from mltrail.server._auth import Accounts
            from mltrail.store._sql import SqlStore

            store = SqlStore(self.backend_store_uri, artifact_root="mlflow-artifacts:")
            self._accounts = Accounts(store)
        return self._accounts


def _password(prompt: bool, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=prompt))


@click.group()
@click.option(
    "--backend-store-uri",
    envvar="MLTRAIL_BACKEND_STORE_URI",
    show_envvar=True,
    default="sqlite:///mltrail.db",
    show_default=True,
    metavar="URI",
    help="The server's store, as given to 'mltrail server'.",
)
@click.pass_context
def users(ctx: click.Context, backend_store_uri: str) -> None:
    """Manage the users, permissions and API tokens of 'mltrail server --auth basic'."""
    ctx.obj = _Obj(backend_store_uri)


@users.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)
@click.pass_obj
def create(obj: _Obj, username: str, admin: bool, password_stdin: bool) -> None:
    """Create a user (the password needs at least 12 characters)."""
    record = obj.accounts.create_user(
        username, _password(True, password_stdin), is_admin=admin
    )
    role = "administrator" if record.is_admin else "user"
    click.echo(f"Created {role} {record.username!r}.")


@users.command("list")
@click.pass_obj
def list_users(obj: _Obj) -> None:
    """List the users, administrators marked."""
    for record in obj.accounts.store.list_users():
        click.echo(record.username + (" (admin)" if record.is_admin else ""))


@users.command("delete")
@click.argument("username")
@click.pass_obj
def delete(obj: _Obj, username: str) -> None:
    """Delete a user with their tokens and permissions."""
    obj.accounts.delete_user(username)
    click.echo(f"Deleted user {username!r}.")


@users.command("set-password")
@click.argument("username")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)
@click.pass_obj
def set_password(obj: _Obj, username: str, password_stdin: bool) -> None:
    """Change a user's password."""
    obj.accounts.set_password(username, _password(True, password_stdin))
    click.echo(f"Changed the password of {username!r}.")


@users.command("set-admin")
@click.argument("username")
@click.option("--admin/--no-admin", default=True, help="Grant or remove the role.")
@click.pass_obj
def set_admin(obj: _Obj, username: str, admin: bool) -> None:
    """Make a user an administrator (or not, with --no-admin)."""
    obj.accounts.set_admin(username, admin)
    click.echo(f"{username!r} is {'now' if admin else 'no longer'} an administrator.")


@users.command("grant")
@click.argument("username")
@click.option("--experiment", "experiment_id", required=True, help="Experiment id.")
@click.option(
    "--permission",
    type=click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"]),
    required=True,
    help="READ sees, EDIT logs, MANAGE deletes and grants.",
)
@click.pass_obj
def grant(obj: _Obj, username: str, experiment_id: str, permission: str) -> None:
    """Give a user a permission on one experiment."""
    obj.accounts.store.get_experiment(experiment_id)
    obj.accounts.grant("experiment", experiment_id, username, permission)
    click.echo(f"{username!r} has {permission} on experiment {experiment_id}.")


@users.command("token")
@click.argument("username")
@click.option("--name", default="token", show_default=True, help="What it is for.")
@click.pass_obj
def token(obj: _Obj, username: str, name: str) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    secret, _ = obj.accounts.create_token(username, name)
    click.echo(secret)
