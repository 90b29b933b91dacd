"""The runs that ``runs list`` shows, arranged as a tree: children under their parent.

A search's candidates and nested runs carry their parent's id in the
``mlflow.parentRunId`` tag. ``list_run_tree`` reads, with the same filter and view:

1. the top-level runs (no parent), in the requested order, at most ``max_results``;
2. their children, level by level, best first (lowest ``rank_test_*`` metric, as a
   search ranks its candidates) unless ``--order-by`` says otherwise, at most
   ``max_children`` per parent;
3. children that match while their parent does not (say, a filter on
   ``mean_test_score``): they are listed under their parent, which is shown as
   context only.

The filter is checked on its own first, so errors point into the user's text;
the searches then send it in parentheses (``wrap``), and the caller maps an
error in that form (a filter nested one level too deep) back to the user's text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mltrail._entities import Run, ViewType
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.cli._columns import order_columns
from mltrail.cli._experiments import search_all_experiments
from mltrail.tracking import TrackingClient

MAX_DEPTH = 5
CHILD_PAGE_SIZE = 1000
IN_LIST_SIZE = 500
RANK_PREFIX = "rank_test_"
_PARENT = f"tags.`{PARENT_RUN_ID_TAG}`"


@dataclass(slots=True)
class Node:
    """A listed run, whether it matches (or is only its children's context)."""

    run: Run
    is_match: bool = True
    children: list[Node] = field(default_factory=list)
    hidden_children: int = 0  # matching children left out by ``max_children``
    has_more_children: bool = False  # more than one page of children matched


@dataclass(frozen=True, slots=True)
class RunTree:
    """The listed runs as roots with children, and whether more roots match."""

    roots: list[Node]
    has_more: bool

    def walk(self) -> list[tuple[Node, tuple[bool, ...]]]:
        """Return ``(node, last flags of its ancestors and itself)``, depth first."""
        rows: list[tuple[Node, tuple[bool, ...]]] = []

        def visit(nodes: Sequence[Node], flags: tuple[bool, ...]) -> None:
            for index, node in enumerate(nodes):
                own = (*flags, index == len(nodes) - 1)
                rows.append((node, own))
                visit(node.children, own)

        visit(self.roots, ())
        return rows

    def matching_runs(self) -> list[Run]:
        """Return the runs that match, in the order they are shown."""
        return [node.run for node, _ in self.walk() if node.is_match]


def wrap(condition: str) -> str:
    """Return ``condition`` in parentheses, as it is sent (it starts at offset 1).

    The newline ends a trailing token (a bare key) before the parenthesis.
    """
    return f"({condition}\n)"


def _and(*conditions: str) -> str:
    """Join filter conditions, each in parentheses."""
    return " AND ".join(wrap(condition) for condition in conditions if condition)


def _in(ids: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{run_id}'" for run_id in ids) + ")"


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + IN_LIST_SIZE] for i in range(0, len(items), IN_LIST_SIZE)]


def _parent_id(run: Run) -> str | None:
    return run.data.tags.get(PARENT_RUN_ID_TAG)


def _is_ordered(children: Sequence[Run], order_by: Sequence[str]) -> bool:
    """Whether ``--order-by`` sorts these children: it names a key one of them has.

    Otherwise (no ``--order-by``, or one on the parents' keys only), children are
    listed best first.
    """
    columns = order_columns(order_by)
    if len(columns) < len(order_by):
        return True  # an attribute such as start_time: every run has one
    return any(column.value(run) is not None for column in columns for run in children)


def best_first(children: Sequence[Run]) -> list[Run]:
    """Order a search's candidates by rank, others by start time."""
    ranks = sorted(
        {k for run in children for k in run.data.metrics if k.startswith(RANK_PREFIX)}
    )
    rank = (
        f"{RANK_PREFIX}score"
        if f"{RANK_PREFIX}score" in ranks
        else next(iter(ranks), None)
    )

    def key(run: Run) -> tuple[float, int, str]:
        value = run.data.metrics.get(rank) if rank else None
        return (
            float("inf") if value is None else value,
            run.info.start_time,
            run.info.run_id,
        )

    return sorted(children, key=key)


class _Reader:
    """The searches of one listing: same experiments, filter and view."""

    def __init__(
        self,
        client: TrackingClient,
        experiment_ids: Sequence[str],
        filter_string: str,
        view: ViewType,
        order_by: Sequence[str],
    ) -> None:
        self.client = client
        self.experiment_ids = list(experiment_ids)
        self.filter_string = filter_string
        self.view = view
        self.order_by = list(order_by)

    @functools.cached_property
    def all_experiment_ids(self) -> list[str]:
        everything = search_all_experiments(self.client, ViewType.ALL)
        return [item.experiment_id for item in everything]

    def search(
        self, condition: str, max_results: int, *, user_filter: bool = True
    ) -> tuple[list[Run], bool]:
        """Search ``condition``, with the user's filter and view unless told not to.

        Without the user's filter, the search covers every experiment and stage:
        it looks for context, not matches.
        """
        found = self.client.search_runs(
            self.experiment_ids if user_filter else self.all_experiment_ids,
            filter_string=_and(self.filter_string if user_filter else "", condition),
            run_view_type=self.view if user_filter else ViewType.ALL,
            max_results=max_results,
            order_by=self.order_by,
        )
        return list(found), bool(found.token)

    def search_ids(
        self, condition: str, ids: Sequence[str], *, user_filter: bool = True
    ) -> tuple[list[Run], bool]:
        """Search ``condition`` (with ``{ids}`` in it) over chunks of ``ids``."""
        runs: list[Run] = []
        truncated = False
        for chunk in _chunks(ids):
            found, more = self.search(
                condition.format(ids=_in(chunk)),
                CHILD_PAGE_SIZE,
                user_filter=user_filter,
            )
            runs.extend(found)
            truncated = truncated or more
        return runs, truncated


def list_run_tree(
    client: TrackingClient,
    experiment_ids: Sequence[str],
    *,
    filter_string: str,
    view: ViewType,
    order_by: Sequence[str],
    max_results: int,
    children: bool,
    max_children: int,
) -> RunTree:
    """Return the runs to list, as a tree (see the module's docstring)."""
    reader = _Reader(client, experiment_ids, filter_string, view, order_by)
    if filter_string:
        # Checked alone first, so that a syntax error points into the user's text
        # and nothing in it can close the parentheses the searches below add.
        client.search_runs(
            experiment_ids, filter_string, run_view_type=view, max_results=1
        )
    tops, has_more = reader.search(f"{_PARENT} IS NULL", max_results)
    roots = [Node(run) for run in tops]
    if not children:
        return RunTree(roots, has_more)
    shown = {node.run.info.run_id: node for node in roots}
    _add_children(reader, roots, shown, max_children)
    roots.extend(_orphans(reader, shown, max_results, max_children))
    return RunTree(roots, has_more)


def _attach(
    parents: dict[str, Node],
    found: Sequence[Run],
    truncated: bool,
    max_children: int,
    order_by: Sequence[str],
    shown: dict[str, Node],
) -> list[Node]:
    """Put ``found`` under their parents, best first, capped; return the new nodes."""
    groups: dict[str, list[Run]] = {}
    for run in found:
        parent_id = _parent_id(run)
        if parent_id in parents and run.info.run_id not in shown:
            groups.setdefault(parent_id, []).append(run)
    added = []
    for parent_id, runs in groups.items():
        parent = parents[parent_id]
        ranked = runs if _is_ordered(runs, order_by) else best_first(runs)
        parent.children = [Node(run) for run in ranked[:max_children]]
        parent.hidden_children = max(0, len(ranked) - max_children)
        parent.has_more_children = truncated
        for node in parent.children:
            shown[node.run.info.run_id] = node
        added.extend(parent.children)
    return added


def _add_children(
    reader: _Reader,
    level: list[Node],
    shown: dict[str, Node],
    max_children: int,
) -> None:
    """Add the matching children of ``level``, then theirs, down to MAX_DEPTH."""
    for _ in range(MAX_DEPTH):
        if not level or max_children == 0:
            return
        parents = {node.run.info.run_id: node for node in level}
        found, truncated = reader.search_ids(f"{_PARENT} IN {{ids}}", list(parents))
        level = _attach(parents, found, truncated, max_children, reader.order_by, shown)


def _orphans(
    reader: _Reader,
    shown: dict[str, Node],
    max_results: int,
    max_children: int,
) -> list[Node]:
    """Return context nodes for the parents of matching runs listed nowhere else."""
    found, _ = reader.search(f"{_PARENT} IS NOT NULL", max_results)
    waiting = [
        run
        for run in found
        if run.info.run_id not in shown and _parent_id(run) not in shown
    ]
    parent_ids = sorted({_parent_id(run) or "" for run in waiting})
    if not parent_ids:
        return []
    # A parent that matches was left out by --max: so are its children.
    matching, _ = reader.search_ids("attributes.run_id IN {ids}", parent_ids)
    matched = {run.info.run_id for run in matching}
    context, _ = reader.search_ids(
        "attributes.run_id IN {ids}",
        [i for i in parent_ids if i not in matched],
        user_filter=False,
    )
    parents = {run.info.run_id: Node(run, is_match=False) for run in context}
    _attach(parents, waiting, False, max_children, reader.order_by, shown)
    # Children of a run that is gone (or was never logged here) stand alone.
    alone = [
        Node(run)
        for run in waiting
        if _parent_id(run) not in parents and _parent_id(run) not in matched
    ]
    return [node for node in parents.values() if node.children] + alone
