"""Craft skops files as an attacker would: edit a real dump's ``schema.json``."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zipfile import ZipFile

import numpy as np
import skops.io

Schema = dict[str, Any]


def walk(state: Any) -> Iterator[Schema]:
    """Yield every node of a schema (dicts with a ``__loader__``)."""
    stack = [state]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("__loader__"), str):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def find(schema: Schema, **fields: Any) -> Schema:
    """Return the one node whose fields have these values."""
    found = [
        node
        for node in walk(schema)
        if all(node.get(key) == value for key, value in fields.items())
    ]
    assert len(found) == 1, (fields, len(found))
    return found[0]


Edit = Callable[[Schema], None]


def rewrite(data: bytes, edit: Edit, arrays: dict[str, Any] | None = None) -> bytes:
    """Return the skops file with ``edit`` applied to its schema.

    ``arrays`` replaces ``.npy`` members: by the name of the attribute whose array
    it is (the first node found holding that key), a new array.
    """
    source = ZipFile(io.BytesIO(data))
    schema = json.loads(source.read("schema.json"))
    members = {name: source.read(name) for name in source.namelist()}
    for key, array in (arrays or {}).items():
        holder = next(node for node in walk(schema) if key in node.get("content", {}))
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        members[holder["content"][key]["file"]] = buffer.getvalue()
    edit(schema)
    members["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with ZipFile(buffer, "w") as target:
        for name, content in members.items():
            target.writestr(name, content)
    return buffer.getvalue()


def _keep(schema: Schema) -> None:
    return None


def craft(
    path: Path, obj: Any, edit: Edit = _keep, arrays: dict[str, Any] | None = None
) -> Path:
    """Dump ``obj`` with skops to ``path``, edited by ``edit``; return the path."""
    path.write_bytes(rewrite(skops.io.dumps(obj), edit, arrays))
    return path


def edit_file(path: Path, edit: Edit, arrays: dict[str, Any] | None = None) -> None:
    """Edit the schema (and arrays) of a skops file in place."""
    path.write_bytes(rewrite(path.read_bytes(), edit, arrays))


def set_json(node: Schema, value: Any) -> None:
    """Make a ``JsonNode`` hold ``value``.

    The node loses its ``__id__``: skops writes the id of the Python object, so a
    ``False`` here shares its id with every other ``False`` of the model, and the
    first node with an id is the one both skops and mltrail build.
    """
    assert node["__loader__"] == "JsonNode"
    node["content"] = json.dumps(value)
    node.pop("__id__", None)
