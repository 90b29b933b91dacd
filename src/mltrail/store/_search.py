"""Search filters and orderings: a tokenizer, a recursive-descent parser and a compiler.

The grammar is MLflow's (``metrics.acc > 0.9 and params.C = '1.0'``) plus ``OR``,
``NOT`` and parentheses, with the usual precedence (NOT binds tighter than AND, AND
tighter than OR)::

    filter     := or_expr? EOF
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison := IDENT ( COMPARATOR value | ["NOT"] "IN" "(" value ("," value)* ")"
                        | "IS" ["NOT"] "NULL" )

The parser builds an AST of ``Comparison``, ``And``, ``Or`` and ``Not`` nodes, which
``compile_run_filter`` turns into SQLAlchemy expressions (one EXISTS per condition
on params, tags, latest metrics and datasets).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mltrail._errors import FilterSyntaxError, InvalidValueError
from mltrail._system_tags import DATASET_CONTEXT_TAG
from mltrail.store import _schema as schema
from mltrail.store._limits import KIND_NAN, hash_key
from mltrail.store._pages import SortTerm

__all__ = [
    "And",
    "Comparison",
    "Not",
    "Or",
    "OrderKey",
    "compile_experiment_filter",
    "compile_experiment_order",
    "compile_run_filter",
    "compile_run_order",
    "parse_filter",
    "parse_order_by",
]


ENTITY_ALIASES = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
NULL_OPS = ("IS NULL", "IS NOT NULL")
RUN_STRING_ATTRIBUTES = ("run_id", "run_name", "user_id", "status", "artifact_uri")
RUN_NUMBER_ATTRIBUTES = ("start_time", "end_time", "created")
ATTRIBUTE_ALIASES = {"created": "start_time", "run name": "run_name"}
DATASET_KEYS = ("name", "digest", "context")
EXPERIMENT_STRING_ATTRIBUTES = ("name",)
EXPERIMENT_NUMBER_ATTRIBUTES = ("creation_time", "last_update_time")
MAX_NESTING = 32  # NOTs and parentheses; SQLite's parser overflows past about 45
KEYWORDS = ("AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL", "ASC", "DESC")

# One alternative per token kind; identifiers may carry a quoted or bare key after
# the first dot, and a bare key runs up to whitespace or a comparator.
TOKEN_PATTERN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*
        (?:\.(?:`(?:[^`]|``)*`|"(?:[^"\\]|\\.|"")*"|[^\s=!<>'"`]+))?)
  | (?P<qident>`(?:[^`]|``)*`)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<op>!=|<>|<=|>=|==|=|<|>)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme: its kind, its text and where it starts."""

    kind: str
    text: str
    position: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """``<entity>.<key> <op> <value>``; ``value`` is a float, a str, a list or None."""

    entity: str
    key: str
    op: str
    value: float | str | list[str] | None
    position: int


@dataclass(frozen=True, slots=True)
class And:
    """All of ``items`` hold."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Any of ``items`` holds."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``item`` does not hold."""

    item: Node


Node = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ``order_by`` entry."""

    entity: str
    key: str
    descending: bool


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    if quote == "`":
        return body.replace("``", "`")
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; an unknown character is a FilterSyntaxError."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = TOKEN_PATTERN.match(text, position)
        if match is None:
            raise FilterSyntaxError(
                text, position, "an identifier, a value or an operator"
            )
        kind = match.lastgroup or "space"  # every alternative is a named group
        if kind != "space":
            word = match.group()
            if kind == "ident" and "." not in word and word.upper() in KEYWORDS:
                kind = "keyword"
                word = word.upper()
            tokens.append(Token(kind, word, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass(frozen=True, slots=True)
class _Grammar:
    """What one search target accepts: entities, attributes and their operators."""

    entities: tuple[str, ...]
    string_attributes: tuple[str, ...]
    number_attributes: tuple[str, ...]
    nullable_attributes: tuple[str, ...]


RUN_GRAMMAR = _Grammar(
    ("metric", "param", "tag", "attribute", "dataset"),
    RUN_STRING_ATTRIBUTES,
    RUN_NUMBER_ATTRIBUTES,
    ("end_time",),
)
EXPERIMENT_GRAMMAR = _Grammar(
    ("tag", "attribute"),
    EXPERIMENT_STRING_ATTRIBUTES,
    EXPERIMENT_NUMBER_ATTRIBUTES,
    (),
)


class _Parser:
    """Recursive descent over the tokens of one filter."""

    def __init__(self, text: str, grammar: _Grammar) -> None:
        _check_text(text)
        self.text = text
        self.grammar = grammar
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def error(self, expected: str, token: Token | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, (token or self.current).position, expected)

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def accept(self, keyword: str) -> bool:
        if self.current.kind == "keyword" and self.current.text == keyword:
            self.index += 1
            return True
        return False

    def parse(self) -> Node | None:
        if self.current.kind == "end":
            return None
        node = self.or_expr()
        if self.current.kind != "end":
            raise self.error("AND, OR or the end of the filter")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.accept("OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(_flatten(items, Or))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.accept("AND"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(_flatten(items, And))

    def not_expr(self) -> Node:
        if self.current.kind == "lparen" or (
            self.current.kind == "keyword" and self.current.text == "NOT"
        ):
            # Each NOT or parenthesis nests the parser one level deeper: refuse
            # deep filters with a syntax error instead of running out of stack.
            if self.depth == MAX_NESTING:
                raise self.error("fewer nested NOTs and parentheses")
            self.depth += 1
            try:
                if self.accept("NOT"):
                    return Not(self.not_expr())
                self.advance()
                node = self.or_expr()
                if self.current.kind != "rparen":
                    raise self.error("')'")
                self.advance()
                return node
            finally:
                self.depth -= 1
        return self.comparison()

    def identifier(self) -> tuple[str, str, Token]:
        token = self.current
        if token.kind == "qident":
            entity, key = "attribute", _unquote(token.text)
        elif token.kind == "ident":
            prefix, dot, rest = token.text.partition(".")
            if dot:
                entity = ENTITY_ALIASES.get(prefix.lower(), "")
                if entity not in self.grammar.entities:
                    raise self.error(_entity_names(self.grammar), token)
                key = _unquote(rest) if rest[0] in '`"' else rest
            else:
                entity, key = "attribute", prefix
        else:
            raise self.error("an identifier such as metrics.accuracy")
        if not key:
            raise self.error("a non-empty key", token)
        if entity == "attribute":
            key = self.attribute(key, token)
        elif entity == "dataset" and key not in DATASET_KEYS:
            raise self.error("a dataset key: " + ", ".join(DATASET_KEYS), token)
        self.advance()
        return entity, key, token

    def attribute(self, key: str, token: Token) -> str:
        key = ATTRIBUTE_ALIASES.get(key.lower(), key)
        known = self.grammar.string_attributes + self.grammar.number_attributes
        if key not in known:
            raise self.error("an attribute: " + ", ".join(known), token)
        return key

    def operator(self) -> str:
        token = self.current
        if token.kind == "op":
            self.advance()
            return {"<>": "!=", "==": "="}.get(token.text, token.text)
        if self.accept("LIKE"):
            return "LIKE"
        if self.accept("ILIKE"):
            return "ILIKE"
        if self.accept("IN"):
            return "IN"
        if self.accept("NOT"):
            if self.accept("IN"):
                return "NOT IN"
            raise self.error("IN after NOT")
        if self.accept("IS"):
            negated = self.accept("NOT")
            if not self.accept("NULL"):
                raise self.error("NULL")
            return "IS NOT NULL" if negated else "IS NULL"
        raise self.error("a comparator: =, !=, <, <=, >, >=, LIKE, ILIKE, IN or IS")

    def comparison(self) -> Comparison:
        entity, key, token = self.identifier()
        op_token = self.current
        op = self.operator()
        numeric = entity == "metric" or key in self.grammar.number_attributes
        if entity == "attribute" and numeric:
            allowed: tuple[str, ...] = NUMBER_OPS
            if key in self.grammar.nullable_attributes:
                allowed += NULL_OPS
        elif numeric:
            allowed = NUMBER_OPS + NULL_OPS
        elif entity in ("param", "tag"):
            allowed = STRING_OPS + NULL_OPS
        else:
            allowed = STRING_OPS
        if op not in allowed:
            raise self.error(
                f"a comparator for {_describe(entity, key)}: " + ", ".join(allowed),
                op_token,
            )
        value: float | str | list[str] | None
        if op in NULL_OPS:
            value = None
        elif op in ("IN", "NOT IN"):
            value = self.value_list()
        elif numeric:
            value = self.number()
        else:
            value = self.string()
        return Comparison(entity, key, op, value, token.position)

    def number(self) -> float:
        token = self.current
        if token.kind != "number":
            raise self.error("a number")
        value = float(token.text)
        if not math.isfinite(value):
            raise self.error("a number within the range of a 64-bit float")
        self.advance()
        return value

    def string(self) -> str:
        token = self.current
        if token.kind != "string":
            raise self.error("a quoted string such as 'value'")
        self.advance()
        return _unquote(token.text)

    def value_list(self) -> list[str]:
        if self.current.kind != "lparen":
            raise self.error("'(' to open a list of quoted strings")
        self.advance()
        values = [self.string()]
        while self.current.kind == "comma":
            self.advance()
            values.append(self.string())
        if self.current.kind != "rparen":
            raise self.error("',' or ')'")
        self.advance()
        return values


def _flatten(items: list[Node], kind: type[And] | type[Or]) -> tuple[Node, ...]:
    """Merge nested ANDs into one AND (ORs into one OR): (a AND b) AND c."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return tuple(flat)


def _check_text(text: str) -> None:
    """Refuse text the database cannot receive: NUL and lone surrogates."""
    for position, character in enumerate(text):
        if character == "\x00" or "\ud800" <= character <= "\udfff":
            raise FilterSyntaxError(
                text, position, "text without NUL characters or lone surrogates"
            )


def _entity_names(grammar: _Grammar) -> str:
    names = {
        "metric": "metrics.",
        "param": "params.",
        "tag": "tags.",
        "attribute": "attributes.",
        "dataset": "datasets.",
    }
    return "a prefix: " + ", ".join(names[e] for e in grammar.entities)


def _describe(entity: str, key: str) -> str:
    return f"{entity} {key!r}"


def parse_filter(text: str, *, experiments: bool = False) -> Node | None:
    """Parse a filter into an AST; None for an empty filter."""
    if not isinstance(text, str):
        raise InvalidValueError(
            "filter_string", text, "a str", 'Use for example "metrics.acc > 0.9".'
        )
    return _Parser(text, EXPERIMENT_GRAMMAR if experiments else RUN_GRAMMAR).parse()


def parse_order_by(
    clauses: Sequence[str], *, experiments: bool = False
) -> list[OrderKey]:
    """Parse ``order_by`` entries such as ``"metrics.acc DESC"``."""
    if isinstance(clauses, str):
        clauses = [clauses]
    grammar = EXPERIMENT_GRAMMAR if experiments else RUN_GRAMMAR
    grammar = _Grammar(
        tuple(e for e in grammar.entities if e != "dataset"),
        grammar.string_attributes + (("experiment_id",) if experiments else ()),
        grammar.number_attributes,
        grammar.nullable_attributes,
    )
    keys: list[OrderKey] = []
    seen: set[tuple[str, str]] = set()
    for clause in clauses:
        if not isinstance(clause, str):
            raise InvalidValueError(
                "order_by entry", clause, "a str", "Use for example 'metrics.acc DESC'."
            )
        parser = _Parser(clause, grammar)
        entity, key, _ = parser.identifier()
        descending = False
        if parser.accept("DESC"):
            descending = True
        else:
            parser.accept("ASC")
        if parser.current.kind != "end":
            raise parser.error("ASC, DESC or the end of the clause")
        if (entity, key) in seen:
            raise InvalidValueError(
                "order_by",
                list(clauses),
                "each key at most once",
                f"Remove the repeated {_describe(entity, key)}.",
            )
        seen.add((entity, key))
        keys.append(OrderKey(entity, key, descending))
    return keys


# Compilation to SQLAlchemy.


def _compare(column: Any, op: str, value: Any) -> sa.ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]  # SQLAlchemy operators
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "LIKE":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ILIKE":
        return column.ilike(value)  # type: ignore[no-any-return]
    if op == "IN":
        return column.in_(value)  # type: ignore[no-any-return]
    if op == "NOT IN":
        return column.not_in(value)  # type: ignore[no-any-return]
    if op == "IS NULL":
        return column.is_(None)  # type: ignore[no-any-return]
    return column.is_not(None)  # type: ignore[no-any-return]


def _exists_key(
    table: sa.Table,
    owner: sa.ColumnElement[Any],
    owner_column: str,
    comparison: Comparison,
) -> sa.ColumnElement[bool]:
    """EXISTS (a row of ``table`` for the owner and key) [with a value condition]."""
    alias = table.alias()
    conditions = [
        alias.c[owner_column] == owner,
        alias.c.key_hash == hash_key(comparison.key),
    ]
    op = comparison.op
    if op == "IS NULL":
        return ~sa.exists().where(*conditions)
    if op != "IS NOT NULL":
        value_column = alias.c.value
        if "kind" in alias.c:
            # Metric values: NaN is stored as 0 with a flag; it equals nothing.
            nan = alias.c.kind == KIND_NAN
            condition = _compare(value_column, op, comparison.value)
            conditions.append(
                sa.or_(nan, condition) if op == "!=" else sa.and_(~nan, condition)
            )
        else:
            conditions.append(_compare(value_column, op, comparison.value))
    return sa.exists().where(*conditions)


def _dataset_condition(comparison: Comparison) -> sa.ColumnElement[bool]:
    runs = schema.runs
    inputs = schema.run_inputs.alias()
    datasets = schema.datasets.alias()
    query = sa.exists().where(
        inputs.c.run_id == runs.c.run_id, datasets.c.dataset_id == inputs.c.dataset_id
    )
    if comparison.key == "context":
        tags = schema.input_tags.alias()
        query = query.where(
            tags.c.input_id == inputs.c.input_id,
            tags.c.key == DATASET_CONTEXT_TAG,
            _compare(tags.c.value, comparison.op, comparison.value),
        )
    else:
        query = query.where(
            _compare(datasets.c[comparison.key], comparison.op, comparison.value)
        )
    return query


def _compile(node: Node, compile_comparison: Any) -> sa.ColumnElement[bool]:
    if isinstance(node, Comparison):
        return compile_comparison(node)  # type: ignore[no-any-return]  # callback
    if isinstance(node, And):
        return sa.and_(*(_compile(item, compile_comparison) for item in node.items))
    if isinstance(node, Or):
        return sa.or_(*(_compile(item, compile_comparison) for item in node.items))
    return sa.not_(_compile(node.item, compile_comparison))


def _run_comparison(comparison: Comparison) -> sa.ColumnElement[bool]:
    runs = schema.runs
    if comparison.entity == "metric":
        return _exists_key(schema.latest_metrics, runs.c.run_id, "run_id", comparison)
    if comparison.entity == "param":
        return _exists_key(schema.params, runs.c.run_id, "run_id", comparison)
    if comparison.entity == "tag":
        return _exists_key(schema.tags, runs.c.run_id, "run_id", comparison)
    if comparison.entity == "dataset":
        return _dataset_condition(comparison)
    return _compare(runs.c[comparison.key], comparison.op, comparison.value)


def _experiment_comparison(comparison: Comparison) -> sa.ColumnElement[bool]:
    experiments = schema.experiments
    if comparison.entity == "tag":
        return _exists_key(
            schema.experiment_tags,
            experiments.c.experiment_id,
            "experiment_id",
            comparison,
        )
    return _compare(experiments.c[comparison.key], comparison.op, comparison.value)


def compile_run_filter(text: str) -> sa.ColumnElement[bool]:
    """Return the WHERE condition (on ``runs``) of a run filter."""
    node = parse_filter(text)
    return sa.true() if node is None else _compile(node, _run_comparison)


def compile_experiment_filter(text: str) -> sa.ColumnElement[bool]:
    """Return the WHERE condition (on ``experiments``) of an experiment filter."""
    node = parse_filter(text, experiments=True)
    return sa.true() if node is None else _compile(node, _experiment_comparison)


def _missing_last(column: Any) -> sa.ColumnElement[int]:
    return sa.case((column.is_(None), 1), else_=0)


def compile_run_order(
    clauses: Sequence[str],
) -> tuple[list[SortTerm], list[tuple[sa.FromClause, sa.ColumnElement[bool]]]]:
    """Return the sort terms and the outer joins they need, with tie-breakers.

    The terms end with ``start_time DESC`` (unless ordered by it) and ``run_id``, so
    the order is total, as keyset pages need; a column that can be missing comes
    after a flag that sorts missing values last.
    """
    runs = schema.runs
    terms: list[SortTerm] = []
    joins: list[tuple[sa.FromClause, sa.ColumnElement[bool]]] = []
    has_start_time = False
    for key in parse_order_by(clauses):
        if key.entity == "attribute":
            column: Any = runs.c[key.key]
            has_start_time = has_start_time or key.key == "start_time"
            if key.key == "end_time":
                terms.append(SortTerm(_missing_last(column)))
        else:
            table = {
                "metric": schema.latest_metrics,
                "param": schema.params,
                "tag": schema.tags,
            }[key.entity]
            alias = table.alias()
            joins.append(
                (
                    alias,
                    sa.and_(
                        alias.c.run_id == runs.c.run_id,
                        alias.c.key_hash == hash_key(key.key),
                    ),
                )
            )
            terms.append(SortTerm(_missing_last(alias.c.run_id)))
            if key.entity == "metric":
                terms.append(SortTerm(sa.case((alias.c.kind == KIND_NAN, 1), else_=0)))
            column = alias.c.value
        terms.append(SortTerm(column, key.descending))
    if not has_start_time:
        terms.append(SortTerm(runs.c.start_time, descending=True))
    terms.append(SortTerm(runs.c.run_id))
    return terms, joins


def compile_experiment_order(clauses: Sequence[str]) -> list[SortTerm]:
    """Return the sort terms of an experiment search, ending with the id.

    Without clauses the newest experiment comes first, as in MLflow
    (``creation_time DESC``, then the id).
    """
    experiments = schema.experiments
    if not clauses:
        return [
            SortTerm(experiments.c.creation_time, True),
            SortTerm(experiments.c.experiment_id),
        ]
    terms: list[SortTerm] = []
    has_id = False
    for key in parse_order_by(clauses, experiments=True):
        if key.entity == "tag":
            alias = schema.experiment_tags.alias()
            value = (
                sa.select(alias.c.value)
                .where(
                    alias.c.experiment_id == experiments.c.experiment_id,
                    alias.c.key_hash == hash_key(key.key),
                )
                .scalar_subquery()
            )
            terms.append(SortTerm(_missing_last(value)))
            column: Any = value
        else:
            column = experiments.c[key.key]
            has_id = has_id or key.key == "experiment_id"
        terms.append(SortTerm(column, key.descending))
    if not has_id:
        terms.append(SortTerm(experiments.c.experiment_id))
    return terms
