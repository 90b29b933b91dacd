"""What every part of ``TrackingClient`` shares: its store, and value conversions."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mltrail._entities import (
    RunStatus,
    ViewType,
)
from mltrail._errors import InvalidValueError
from mltrail.tracking import _pending
from mltrail.tracking._buffer import existing_buffer

if TYPE_CHECKING:
    from mltrail.store._base import Store

__all__ = [
    "ClientBase",
    "now_ms",
    "to_items",
    "to_mapping",
    "to_names",
    "to_status",
    "to_str",
    "to_view_type",
]

# MLflow's integer codes for view types, accepted for compatibility.
_VIEW_TYPE_CODES = {1: ViewType.ACTIVE_ONLY, 2: ViewType.DELETED_ONLY, 3: ViewType.ALL}


def now_ms() -> int:
    """Return the current time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def to_view_type(value: ViewType | str | int) -> ViewType:
    """Return the ViewType for a ViewType, its name, or MLflow's integer code."""
    if isinstance(value, ViewType):
        return value
    if isinstance(value, int) and value in _VIEW_TYPE_CODES:
        return _VIEW_TYPE_CODES[value]
    if isinstance(value, str) and value.upper() in ViewType.__members__:
        return ViewType[value.upper()]
    raise InvalidValueError(
        "view type",
        value,
        "one of 'ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'",
        "Pass mltrail.ViewType.ALL to include deleted items.",
    )


def to_mapping(
    name: str, value: object, example: str, *, optional: bool = True
) -> Mapping[Any, object]:
    """Return ``value`` if it is a mapping (None is empty if optional), else raise."""
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValueError(
            name, value, "a mapping of names to values, such as a dict", example
        )
    return value


def to_names(name: str, value: object) -> list[str]:
    """Return a list of str from one str or an iterable of them (None: empty)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]  # one name, not its letters
    if isinstance(value, bytes | bytearray | Mapping) or not isinstance(
        value, Iterable
    ):
        raise InvalidValueError(
            name, value, "a str or a list of str", f"Pass {name}=['...']."
        )
    return [item if isinstance(item, str) else str(item) for item in value]


def to_items(name: str, value: object, item: str) -> list[Any]:
    """Return a list from a collection of ``item`` (not a str, bytes or mapping)."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(
        value, Iterable
    ):
        raise InvalidValueError(
            name, value, f"a list of {item}", "Pass a list, or omit the argument."
        )
    return list(value)


def to_str(name: str, value: object, hint: str) -> str:
    """Return ``value`` if it is a str, else raise."""
    if not isinstance(value, str):
        raise InvalidValueError(name, value, "a str", hint)
    return value


def to_status(value: RunStatus | str) -> RunStatus:
    """Return the RunStatus named by ``value``, or raise InvalidValueError."""
    try:
        return RunStatus(value)
    except ValueError:
        raise InvalidValueError(
            "run status",
            value,
            "one of " + ", ".join(repr(status.value) for status in RunStatus),
            "Pass 'FINISHED', 'FAILED' or 'KILLED' to end a run.",
        ) from None


class ClientBase:
    """The store of a ``TrackingClient``, opened on first use, and its caches."""

    _tracking_uri: str
    _opened_store: Store | None
    # The artifact URI of runs, cached by create_run and on a first artifact.
    _artifact_uris: dict[str, str]

    @property
    def _store(self) -> Store:
        store = self._opened_store
        if store is None:
            # Through the helper process while autolog's runs (see mltrail._worker).
            from mltrail._worker._store import open_store

            store = self._opened_store = open_store(self._tracking_uri)
        return store

    def _flush_pending(self, run_id: str | None = None) -> None:
        """Finish this process's pending work and buffered points, so reads see them."""
        _pending.wait(run_id)
        buffer = existing_buffer(self._store)
        if buffer is not None:
            # Even when empty: flush() takes the lock that the buffer's thread holds
            # while it writes points it has already taken, so this waits for them.
            buffer.flush()
