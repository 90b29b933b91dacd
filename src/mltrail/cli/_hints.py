"""Error messages for a person at a terminal: options and commands, never Python.

The core's errors carry hints for Python callers ("list runs with search_runs()").
``message_for`` rewrites what the command line can say better: a missing run or
experiment points to the command that lists them, and a filter or ``--order-by``
that does not parse names its option and, for a bare key such as
``test_accuracy``, suggests the key with its prefix (``metrics.test_accuracy``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mltrail._entities import ViewType
from mltrail._errors import FilterSyntaxError, MltrailError, NotFoundError
from mltrail.cli._experiments import search_all_experiments
from mltrail.cli._render import escape_controls

if TYPE_CHECKING:
    from mltrail.cli._main import Context

NOT_FOUND_HINTS = {
    "run": "List runs with `mltrail runs list` (deleted ones with `--view all`).",
    "experiment": "List experiments with `mltrail experiments list`.",
}
# The entities a bare key may belong to, in the order they are suggested.
KEY_ENTITIES = ("metrics", "params", "tags")
_PYTHON_CALL = re.compile(r"\w\(\)")
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_.])")


def message_for(exc: MltrailError, obj: Context | None) -> str:
    """Return what to print after ``Error:`` for ``exc``, escaped for a terminal."""
    message = exc.message
    if isinstance(exc, NotFoundError) and exc.kind in NOT_FOUND_HINTS:
        base = f"{exc.kind} {exc.key!r} does not exist."
        hint = message.removeprefix(base).strip()
        if _PYTHON_CALL.search(hint):
            hint = ""  # a hint for Python callers, such as "see search_runs()"
        message = " ".join(
            part for part in (base, hint, NOT_FOUND_HINTS[exc.kind]) if part
        )
    elif isinstance(exc, FilterSyntaxError) and obj is not None:
        message = _filter_message(exc, obj)
    return escape_controls(message)


def _filter_message(exc: FilterSyntaxError, obj: Context) -> str:
    """Name the option the text came from, and suggest a prefix for a bare key."""
    option, text, position, expected = "filter", exc.text, exc.position, exc.expected
    found = obj.find_sent(exc.text)
    if found is not None:
        option, text, offset = found
        position = min(max(exc.position - offset, 0), len(text))
    pointer = " " * (position + 4) + "^"
    message = (
        f"invalid {option} at position {position}: expected {expected}.\n"
        f"    {text}\n{pointer}"
    )
    match = _BARE_KEY.match(text, position)
    if match is None or not expected.startswith("an attribute"):
        return message
    key = match.group()
    prefixed = f"{_entity_of(obj, key)}.{key}"
    suggestion = text[: match.start()] + prefixed + text[match.end() :]
    shown = f"{option} {suggestion!r}" if option.startswith("--") else repr(suggestion)
    return f"{message}\nDid you mean {shown}? Keys need a prefix: {_prefixes()}"


def _entity_of(obj: Context, key: str) -> str:
    """Return the first entity that some run has ``key`` in; metrics if none."""
    experiment_ids = [
        item.experiment_id for item in search_all_experiments(obj.client, ViewType.ALL)
    ]
    for entity in KEY_ENTITIES:
        found = obj.client.search_runs(
            experiment_ids,
            filter_string=f"{entity}.`{key}` IS NOT NULL",
            run_view_type=ViewType.ALL,
            max_results=1,
        )
        if len(found):
            return entity
    return KEY_ENTITIES[0]


def _prefixes() -> str:
    return ", ".join(f"{entity}." for entity in KEY_ENTITIES) + " or attributes."
