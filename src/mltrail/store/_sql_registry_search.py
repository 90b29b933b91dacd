"""Search filters and orderings of registered models and model versions.

MLflow's registry grammar (``name LIKE 'wine%' AND tags.team = 'risk'``) on the
parser of ``_search.py``, so ``OR``, ``NOT`` and parentheses work here too. Keys:

- registered models: ``name``, ``creation_timestamp``, ``last_updated_timestamp``
  and ``tags.<key>``;
- model versions: ``name``, ``version_number``, ``run_id``, ``source_path``,
  ``current_stage``, the two timestamps and ``tags.<key>``.

A model without MLflow's prompt tag (``mlflow.prompt.is_prompt``) counts as
``'false'``, as in MLflow, so the filter MLflow's clients append to exclude prompts
(``tags.`mlflow.prompt.is_prompt` != 'true'``) keeps every model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail._errors import InvalidValueError
from mltrail.store import _schema as schema
from mltrail.store._schema import hash_key
from mltrail.store._search import (
    Comparison,
    _compare,
    _compile,
    _Grammar,
    _Parser,
)

__all__ = [
    "compile_model_filter",
    "compile_model_order",
    "compile_version_filter",
    "compile_version_order",
]

PROMPT_TAG = "mlflow.prompt.is_prompt"
PROMPT_TAG_DEFAULT = "false"
MODEL_GRAMMAR = _Grammar(
    ("tag", "attribute"),
    ("name",),
    ("creation_timestamp", "last_updated_timestamp"),
    (),
)
VERSION_GRAMMAR = _Grammar(
    ("tag", "attribute"),
    ("name", "run_id", "source_path", "current_stage"),
    ("version_number", "creation_timestamp", "last_updated_timestamp"),
    (),
)
ORDER_ALIASES = {"timestamp": "last_updated_timestamp"}


def _tag_condition(
    table: sa.Table, owner: Sequence[sa.Column[Any]], comparison: Comparison
) -> sa.ColumnElement[bool]:
    """Return the condition ``tags.<key> <op> <value>`` on the searched row.

    ``owner`` holds the searched table's key columns, named as in the tag table.
    """
    alias = table.alias()
    where = [alias.c[column.key] == column for column in owner]
    where.append(alias.c.key_hash == hash_key(comparison.key))
    if comparison.op in ("IS NULL", "IS NOT NULL"):
        exists = sa.exists().where(*where)
        return ~exists if comparison.op == "IS NULL" else exists
    if comparison.key == PROMPT_TAG:
        value = sa.func.coalesce(
            sa.select(alias.c.value).where(*where).scalar_subquery(),
            PROMPT_TAG_DEFAULT,
        )
        return _compare(value, comparison.op, comparison.value)
    return sa.exists().where(
        *where, _compare(alias.c.value, comparison.op, comparison.value)
    )


def _model_comparison(comparison: Comparison) -> sa.ColumnElement[bool]:
    models = schema.registered_models
    if comparison.entity == "tag":
        return _tag_condition(
            schema.registered_model_tags, [models.c.registered_model_id], comparison
        )
    return _compare(models.c[comparison.key], comparison.op, comparison.value)


def _version_column(key: str) -> Any:
    versions = schema.model_versions
    if key == "name":
        return schema.registered_models.c.name
    if key == "version_number":
        return versions.c.version
    if key == "source_path":
        return versions.c.source
    return versions.c[key]


def _version_comparison(comparison: Comparison) -> sa.ColumnElement[bool]:
    versions = schema.model_versions
    if comparison.entity == "tag":
        return _tag_condition(
            schema.model_version_tags,
            [versions.c.registered_model_id, versions.c.version],
            comparison,
        )
    return _compare(_version_column(comparison.key), comparison.op, comparison.value)


def _parse(text: str, grammar: _Grammar) -> Any:
    if not isinstance(text, str):
        raise InvalidValueError(
            "filter_string", text, "a str", "Use for example \"name LIKE 'wine%'\"."
        )
    return _Parser(text, grammar).parse()


def compile_model_filter(text: str) -> sa.ColumnElement[bool]:
    """Return the WHERE condition (on ``registered_models``) of a model filter."""
    node = _parse(text, MODEL_GRAMMAR)
    return sa.true() if node is None else _compile(node, _model_comparison)


def compile_version_filter(text: str) -> sa.ColumnElement[bool]:
    """Return the WHERE condition (on versions joined to models) of a filter."""
    node = _parse(text, VERSION_GRAMMAR)
    return sa.true() if node is None else _compile(node, _version_comparison)


def _order_keys(
    clauses: Sequence[str], grammar: _Grammar, known: Sequence[str]
) -> list[tuple[str, bool]]:
    """Parse ``order_by`` entries into (attribute, descending) pairs."""
    if isinstance(clauses, str):
        clauses = [clauses]
    keys: list[tuple[str, bool]] = []
    for clause in clauses:
        if not isinstance(clause, str):
            raise InvalidValueError(
                "order_by entry", clause, "a str", "Use for example 'name DESC'."
            )
        word, _, rest = clause.strip().partition(" ")
        word = ORDER_ALIASES.get(word, word)
        if word not in known:
            raise InvalidValueError(
                "order_by entry",
                clause,
                "one of " + ", ".join(known) + ", then ASC or DESC",
                "Use for example 'last_updated_timestamp DESC'.",
            )
        parser = _Parser(rest, grammar)
        descending = parser.accept("DESC")
        if not descending:
            parser.accept("ASC")
        if parser.current.kind != "end":
            raise parser.error("ASC, DESC or the end of the clause")
        if any(word == seen for seen, _ in keys):
            raise InvalidValueError(
                "order_by",
                list(clauses),
                "each key at most once",
                f"Remove the repeated {word!r}.",
            )
        keys.append((word, descending))
    return keys


def compile_model_order(clauses: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    """Return the ORDER BY terms of a model search, ending with the name."""
    models = schema.registered_models
    ordering: list[sa.ColumnElement[Any]] = []
    keys = _order_keys(
        clauses, MODEL_GRAMMAR, ("name", "creation_timestamp", "last_updated_timestamp")
    )
    for key, descending in keys:
        column = models.c[key]
        ordering.append(column.desc() if descending else column.asc())
    if all(key != "name" for key, _ in keys):
        ordering.append(models.c.name.asc())
    return ordering


def compile_version_order(clauses: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    """Return the ORDER BY terms of a version search: then name ASC, version DESC."""
    ordering: list[sa.ColumnElement[Any]] = []
    keys = _order_keys(
        clauses,
        VERSION_GRAMMAR,
        (
            "name",
            "version_number",
            "creation_timestamp",
            "last_updated_timestamp",
            "run_id",
            "source_path",
            "current_stage",
        ),
    )
    for key, descending in keys:
        column = _version_column(key)
        ordering.append(column.desc() if descending else column.asc())
    seen = {key for key, _ in keys}
    if "name" not in seen:
        ordering.append(schema.registered_models.c.name.asc())
    if "version_number" not in seen:
        ordering.append(schema.model_versions.c.version.desc())
    return ordering
