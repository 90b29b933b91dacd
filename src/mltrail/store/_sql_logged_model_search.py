"""Search of logged models in ``SqlStore``: MLflow's filter and order fields.

The filter grammar is the runs' one (``AND``, ``OR``, ``NOT``, parentheses) over the
model's attributes, ``metrics.<key>``, ``params.<key>`` and ``tags.<key>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from mltrail._entities import LifecycleStage, LoggedModel, PagedList
from mltrail._errors import InvalidValueError
from mltrail.store import _pages as pages
from mltrail.store import _schema as schema
from mltrail.store import _search as search
from mltrail.store._schema import KIND_NAN, hash_key
from mltrail.store._sql_logged_models import LoggedModelsMixin
from mltrail.store._values import check_experiment_id, check_max_results

__all__ = ["LoggedModelSearchMixin"]

DEFAULT_MAX_RESULTS = 100
MODEL_GRAMMAR = search._Grammar(
    ("metric", "param", "tag", "attribute"),
    ("name", "model_id", "model_type", "status", "source_run_id"),
    ("creation_timestamp", "last_updated_timestamp"),
    (),
)
_ORDER_ATTRIBUTES = frozenset(
    {
        "name",
        "model_id",
        "model_type",
        "status",
        "source_run_id",
        "creation_timestamp",
        "last_updated_timestamp",
    }
)
_ORDER_ALIASES = {
    "creation_time": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
}


class LoggedModelSearchMixin(LoggedModelsMixin):
    """``search_logged_models`` of ``SqlStore``."""

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        datasets: Sequence[Mapping[str, str]] = (),
        max_results: int = DEFAULT_MAX_RESULTS,
        order_by: Sequence[Mapping[str, Any]] = (),
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Return the active logged models of experiments that match a filter.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to search.
        filter_string : str, default=""
            Conditions on ``name``, ``model_id``, ``model_type``, ``status``,
            ``source_run_id``, the timestamps, ``metrics.<key>``,
            ``params.<key>`` and ``tags.<key>``, with AND, OR, NOT.
        datasets : sequence of mapping, default=()
            ``{"dataset_name": ..., "dataset_digest": ...}``: metric conditions
            only count points computed on one of these datasets.
        max_results : int, default=100
            The page size.
        order_by : sequence of mapping, default=()
            ``{"field_name": ..., "ascending": bool}``; newest first by default.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of LoggedModel
            One page.

        Raises
        ------
        InvalidValueError
            If the filter, an order field or the token is invalid.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> _ = store.create_logged_model("0", name="model")
        >>> _ = store.create_logged_model("0", name="other")
        >>> [m.name for m in store.search_logged_models(["0"], filter_string="name = 'model'")]
        ['model']
        >>> store.close()
        """  # noqa: E501
        numbers = [check_experiment_id(e) for e in experiment_ids]
        limit = check_max_results(max_results)
        offset = pages.decode_offset_token(page_token)
        models = schema.logged_models
        node = (
            search._Parser(filter_string, MODEL_GRAMMAR).parse()
            if filter_string
            else None
        )
        dataset_filter = [
            (str(d.get("dataset_name") or ""), d.get("dataset_digest"))
            for d in datasets
        ]

        def compare(comparison: search.Comparison) -> sa.ColumnElement[bool]:
            if comparison.entity == "param":
                return search._exists_key(
                    schema.logged_model_params,
                    models.c.model_id,
                    "model_id",
                    comparison,
                )
            if comparison.entity == "tag":
                return search._exists_key(
                    schema.logged_model_tags, models.c.model_id, "model_id", comparison
                )
            if comparison.entity == "metric":
                return _metric_condition(comparison, dataset_filter)
            return search._compare(
                models.c[comparison.key], comparison.op, comparison.value
            )

        condition = sa.and_(
            models.c.experiment_id.in_(numbers),
            models.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
        )
        if node is not None:
            condition = sa.and_(condition, search._compile(node, compare))
        order = [
            *_model_order(order_by),
            models.c.creation_timestamp.desc(),
            models.c.model_id,
        ]
        found = self._read(
            lambda conn: self._load_models(conn, condition, order, limit + 1, offset)
        )
        token = (
            pages.encode_offset_token(offset + limit) if len(found) > limit else None
        )
        return PagedList(found[:limit], token)


def _metric_condition(
    comparison: search.Comparison, datasets: list[tuple[str, str | None]]
) -> sa.ColumnElement[bool]:
    """EXISTS a point of the model's metric that holds (on one of ``datasets``)."""
    models = schema.logged_models
    alias = schema.logged_model_metrics.alias()
    conditions = [
        alias.c.model_id == models.c.model_id,
        alias.c.key_hash == hash_key(comparison.key),
    ]
    if datasets:
        conditions.append(
            sa.or_(
                *(
                    sa.and_(
                        alias.c.dataset_name == name,
                        alias.c.dataset_digest == digest if digest else sa.true(),
                    )
                    for name, digest in datasets
                )
            )
        )
    if comparison.op == "IS NULL":
        return ~sa.exists().where(*conditions)
    if comparison.op != "IS NOT NULL":
        nan = alias.c.kind == KIND_NAN
        holds = search._compare(alias.c.value, comparison.op, comparison.value)
        conditions.append(
            sa.or_(nan, holds) if comparison.op == "!=" else sa.and_(~nan, holds)
        )
    return sa.exists().where(*conditions)


def _model_order(order_by: Sequence[Mapping[str, Any]]) -> list[sa.ColumnElement[Any]]:
    models = schema.logged_models
    order: list[sa.ColumnElement[Any]] = []
    for entry in order_by:
        field = entry.get("field_name")
        ascending = bool(entry.get("ascending", True))
        if not isinstance(field, str) or not field:
            raise InvalidValueError(
                "order_by field_name",
                field,
                "a non-empty str",
                "Use 'creation_timestamp'.",
            )
        if field.startswith("metrics."):
            key = field[len("metrics.") :]
            metrics = schema.logged_model_metrics
            value = (
                sa.select(sa.func.max(metrics.c.value))
                .where(
                    metrics.c.model_id == models.c.model_id,
                    metrics.c.key_hash == hash_key(key),
                )
                .scalar_subquery()
            )
            order += [value.is_(None), value.asc() if ascending else value.desc()]
            continue
        name = field.removeprefix("attributes.")
        name = _ORDER_ALIASES.get(name, name)
        if name not in _ORDER_ATTRIBUTES:
            raise InvalidValueError(
                "order_by field_name",
                field,
                "an attribute ("
                + ", ".join(sorted(_ORDER_ATTRIBUTES))
                + ") or metrics.<key>",
            )
        column = models.c[name]
        order.append(column.asc() if ascending else column.desc())
    return order
