"""MLflow's user and permission routes (basic auth), and mltrail's API tokens.

Served only with ``--auth basic``. Users: ``users/create``, ``get``, ``current``,
``list``, ``update-password``, ``update-admin``, ``delete``; experiment permissions:
``experiments/permissions/create``, ``get``, ``update``, ``delete`` (MLflow 2.x
client's routes); tokens: ``/api/2.0/mltrail/users/tokens/...``.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from mltrail.server._auth import Accounts, BasicAuthenticator, parse_permission
from mltrail.server._context import ServerContext
from mltrail.server._errors import ApiError
from mltrail.server._messages import Call, Handler, api_routes
from mltrail.server._policy import ADMIN, SIGNED_IN, Policy
from mltrail.server._resources import EXPERIMENT_BY_ID

__all__ = ["routes"]


def _authenticator(call: Call) -> BasicAuthenticator:
    authenticator = call.services.authenticator
    if not isinstance(authenticator, BasicAuthenticator):  # pragma: no cover
        raise ApiError("NOT_IMPLEMENTED", "The server runs without --auth basic.")
    return authenticator


def _accounts(call: Call) -> Accounts:
    return _authenticator(call).accounts


def _user_json(record: Any) -> dict[str, object]:
    return {
        "id": record.user_id,
        "username": record.username,
        "is_admin": record.is_admin,
    }


def _self_or_admin(call: Call, username: str) -> None:
    if not call.user.is_admin and call.user.username != username:
        raise ApiError(
            "PERMISSION_DENIED",
            f"Permission denied: only {username!r} or an administrator may do this.",
        )


def create_user(call: Call) -> dict[str, object]:
    message = call.message
    record = _accounts(call).create_user(
        message.required_text("username"), message.required_text("password")
    )
    return {"user": _user_json(record)}


def get_user(call: Call) -> dict[str, object]:
    username = call.message.required_text("username")
    _self_or_admin(call, username)
    return {"user": _user_json(_accounts(call).store.get_user(username))}


def current_user(call: Call) -> dict[str, object]:
    return {"user": _user_json(_accounts(call).store.get_user(call.user.username))}


def list_users(call: Call) -> dict[str, object]:
    return {"users": [_user_json(u) for u in _accounts(call).store.list_users()]}


def update_password(call: Call) -> dict[str, object]:
    message = call.message
    username = message.required_text("username")
    _self_or_admin(call, username)
    accounts = _accounts(call)
    if (
        not call.user.is_admin
        and accounts.check_password(username, message.text("current_password") or "")
        is None
    ):
        raise ApiError(
            "PERMISSION_DENIED",
            "current_password is wrong: send your present password to change it.",
        )
    accounts.set_password(username, message.required_text("password"))
    _authenticator(call).forget()
    return {}


def update_admin(call: Call) -> dict[str, object]:
    message = call.message
    _accounts(call).set_admin(
        message.required_text("username"), message.boolean("is_admin")
    )
    _authenticator(call).forget()
    return {}


def delete_user(call: Call) -> dict[str, object]:
    username = call.message.required_text("username")
    if username == call.user.username:
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            "An administrator cannot delete their own account; ask another one.",
        )
    _accounts(call).delete_user(username)
    _authenticator(call).forget()
    return {}


def _permission_json(call: Call, permission: str) -> dict[str, object]:
    message = call.message
    return {
        "experiment_permission": {
            "experiment_id": message.required_text("experiment_id"),
            "user_id": _accounts(call)
            .store.get_user(message.required_text("username"))
            .user_id,
            "permission": permission,
        }
    }


def create_experiment_permission(call: Call) -> dict[str, object]:
    message = call.message
    experiment_id = message.required_text("experiment_id")
    call.services.store.get_experiment(experiment_id)
    permission = parse_permission(message.required_text("permission"))
    _accounts(call).grant(
        "experiment", experiment_id, message.required_text("username"), permission
    )
    _authenticator(call).forget()
    return _permission_json(call, permission)


def get_experiment_permission(call: Call) -> dict[str, object]:
    message = call.message
    permission = _accounts(call).store.get_permission(
        "experiment",
        message.required_text("experiment_id"),
        message.required_text("username"),
    )
    if permission is None:
        raise ApiError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No permission for user {message.required_text('username')!r} on "
            f"experiment {message.required_text('experiment_id')!r}.",
        )
    return _permission_json(call, permission)


def delete_experiment_permission(call: Call) -> dict[str, object]:
    message = call.message
    _accounts(call).store.delete_permission(
        "experiment",
        message.required_text("experiment_id"),
        message.required_text("username"),
    )
    _authenticator(call).forget()
    return {}


def create_token(call: Call) -> dict[str, object]:
    message = call.message
    username = message.text("username") or call.user.username
    _self_or_admin(call, username)
    token, record = _accounts(call).create_token(
        username, message.text("name") or "token"
    )
    return {
        "token": token,
        "token_info": {
            "token_id": record.token_id,
            "name": record.name,
            "creation_time": record.creation_time,
        },
    }


def list_tokens(call: Call) -> dict[str, object]:
    username = call.message.text("username") or call.user.username
    _self_or_admin(call, username)
    return {
        "tokens": [
            {"token_id": t.token_id, "name": t.name, "creation_time": t.creation_time}
            for t in _accounts(call).store.list_tokens(username)
        ]
    }


def delete_token(call: Call) -> dict[str, object]:
    message = call.message
    username = message.text("username") or call.user.username
    _self_or_admin(call, username)
    _accounts(call).store.delete_token(username, message.required_text("token_id"))
    _authenticator(call).forget()
    return {}


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the user, permission and token routes (only with auth on)."""
    if not isinstance(context.authenticator, BasicAuthenticator):
        return []
    manage = Policy.manage(EXPERIMENT_BY_ID)
    permissions = "/experiments/permissions"
    table: list[tuple[str, Handler, list[str], Policy]] = [
        ("/users/create", create_user, ["POST"], ADMIN),
        ("/users/get", get_user, ["GET"], SIGNED_IN),
        ("/users/current", current_user, ["GET"], SIGNED_IN),
        ("/users/list", list_users, ["GET"], SIGNED_IN),
        ("/users/update-password", update_password, ["PATCH"], SIGNED_IN),
        ("/users/update-admin", update_admin, ["PATCH"], ADMIN),
        ("/users/delete", delete_user, ["DELETE"], ADMIN),
        (f"{permissions}/create", create_experiment_permission, ["POST"], manage),
        (f"{permissions}/get", get_experiment_permission, ["GET"], manage),
        (f"{permissions}/update", create_experiment_permission, ["PATCH"], manage),
        (f"{permissions}/delete", delete_experiment_permission, ["DELETE"], manage),
    ]
    result: list[BaseRoute] = []
    for path, handler, methods, policy in table:
        result += api_routes(path, handler, methods=methods, policy=policy)
    for path, handler, methods in (
        ("/users/tokens/create", create_token, ["POST"]),
        ("/users/tokens/list", list_tokens, ["GET"]),
        ("/users/tokens/delete", delete_token, ["DELETE"]),
    ):
        result += api_routes(
            path, handler, methods=methods, policy=SIGNED_IN, namespace="mltrail"
        )
    return result
