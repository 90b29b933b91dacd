"""``/runs/<run_id>`` and its tabs: overview, params, metrics, datasets.

Each tab is a page of its own URL, built from the run (one ``get_run``) plus what
that tab needs: the overview lists the run's children and reads its git diff, the
params tab reads ``pipeline.json`` to tell the values the user set from the
defaults, the metrics tab counts each history. The tabs that read artifacts
(plots, pipeline, model, artifacts) are in ``_run_files``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mltrail._entities import Run
from mltrail._errors import NotFoundError
from mltrail._run_sections import (
    SPLIT_FIELDS,
    dataset_summary,
    held_out_names,
    json_value,
    metric_groups,
)
from mltrail._system_tags import (
    BEST_CANDIDATE_TAG,
    BEST_CHILD_RUN_ID_TAG,
    ERROR_MESSAGE_TAG,
    ERROR_TRACEBACK_TAG,
    ERROR_TYPE_TAG,
    GIT_BRANCH_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    GIT_REPO_URL_TAG,
    NOTE_TAG,
    PARENT_RUN_ID_TAG,
    PIPELINE_TAG,
    SOURCE_KIND_TAG,
    SOURCE_NAME_TAG,
    SOURCE_PATH_TAG,
    SOURCE_TYPE_TAG,
    SYSTEM_PREFIX,
)
from mltrail.store._table import TableColumn
from mltrail.ui import _run_files
from mltrail.ui._run_header import run_header
from mltrail.ui._runs_table import row_json
from mltrail.ui._store import ui_store

if TYPE_CHECKING:
    from mltrail.ui._routes import PageContext

__all__ = ["PAGES"]

MAX_CHILDREN = 100
SHARED_ROWS_METRIC = "train_test_shared_rows"
MAX_HIGHLIGHTS = 8
GROUP_TITLES = {
    "training": "Training",
    "held_out": "Held-out: {name}",
    "cross_validation": "Cross-validation",
    "other": "Other",
}
# The list params whose items are a composite's children (see capture/_pipeline).
STRUCTURE_PARAMS = ("steps", "transformers", "transformer_list", "estimators")


def _user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(tags.items()) if not k.startswith(SYSTEM_PREFIX)}


def _children(context: PageContext, run: Run) -> dict[str, Any]:
    store = ui_store(context.services.store)
    columns = [
        TableColumn("metric", "mean_test_score").name,
        TableColumn("metric", "rank_test_score").name,
        TableColumn("tag", BEST_CANDIDATE_TAG).name,
    ]
    page = store.search_runs_table(
        [run.info.experiment_id],
        columns=columns,
        parent_run_id=run.info.run_id,
        order_by=f"{columns[1]} ASC",
        max_results=MAX_CHILDREN,
    )
    return {
        "rows": [row_json(row) for row in page.rows],
        "columns": columns,
        "has_more": page.token is not None,
    }


def _parent(context: PageContext, parent_run_id: str | None) -> dict[str, Any] | None:
    if parent_run_id is None:
        return None
    try:
        parent = context.services.store.get_run(parent_run_id)
    except NotFoundError:
        return {"run_id": parent_run_id, "run_name": None}
    return {"run_id": parent_run_id, "run_name": parent.info.run_name}


def overview_page(context: PageContext) -> dict[str, Any]:
    """Return the run at a glance: status, source, git, tags, family, key metrics."""
    run, _, data = run_header(context, "overview")
    tags = run.data.tags
    datasets = [dataset_summary(item) for item in run.inputs.dataset_inputs]
    groups = metric_groups(run.data.metrics, held_out_names(tags, datasets))
    highlights = next(
        (g for g in groups if g["kind"] == "held_out"),
        next((g for g in groups if g["kind"] == "training"), None),
    )
    error = None
    if ERROR_TYPE_TAG in tags or ERROR_MESSAGE_TAG in tags:
        error = {
            "type": tags.get(ERROR_TYPE_TAG),
            "message": tags.get(ERROR_MESSAGE_TAG),
            "traceback": tags.get(ERROR_TRACEBACK_TAG),
        }
    dirty = tags.get(GIT_DIRTY_TAG)
    data["overview"] = {
        "source": {
            "name": tags.get(SOURCE_NAME_TAG),
            "type": tags.get(SOURCE_TYPE_TAG),
            "path": tags.get(SOURCE_PATH_TAG),
            "kind": tags.get(SOURCE_KIND_TAG),
        },
        "git": {
            "commit": tags.get(GIT_COMMIT_TAG),
            "branch": tags.get(GIT_BRANCH_TAG),
            "repo_url": tags.get(GIT_REPO_URL_TAG),
            "is_dirty": None if dirty is None else dirty == "true",
            **_run_files.code_files(context, run),
        },
        "note": tags.get(NOTE_TAG),
        "error": error,
        "pipeline": tags.get(PIPELINE_TAG),
        "tags": _user_tags(tags),
        "system_tags": {
            k: v for k, v in sorted(tags.items()) if k not in _user_tags(tags)
        },
        "parent": _parent(context, tags.get(PARENT_RUN_ID_TAG)),
        "best_child_run_id": tags.get(BEST_CHILD_RUN_ID_TAG),
        "children": _children(context, run),
        "highlights": None
        if highlights is None
        else {
            "title": _group_title(highlights),
            "metrics": dict(list(highlights["metrics"].items())[:MAX_HIGHLIGHTS]),
        },
        "datasets": [
            {k: d[k] for k in ("name", "context", "digest", "shape")} for d in datasets
        ],
    }
    return data


def _param_status(run: Run, pipeline: object) -> dict[str, str]:
    """Return ``key -> "set" | "structure"`` from the pipeline tree's nodes.

    Keys are get_params(deep=True) names: a child's params carry its path of
    step names (``forest__n_estimators``).
    """
    status: dict[str, str] = {}

    def walk(node: object, prefix: str) -> None:
        if not isinstance(node, dict):
            return
        params = node.get("params")
        if isinstance(params, dict):
            status.update((prefix + str(key), "set") for key in params)
        status.update((prefix + key, "structure") for key in STRUCTURE_PARAMS)
        for child in node.get("children") or []:
            if isinstance(child, dict) and isinstance(child.get("name"), str):
                status[prefix + child["name"]] = "structure"
                walk(child, f"{prefix}{child['name']}__")

    walk(pipeline, "")
    if BEST_CHILD_RUN_ID_TAG in run.data.tags:
        status.update((k, "result") for k in run.data.params if k.startswith("best_"))
    return status


def params_page(context: PageContext) -> dict[str, Any]:
    """Return the params, the values the user set told apart from the defaults."""
    run, _, data = run_header(context, "params")
    pipeline = _run_files.read_json(context, run, "pipeline.json")
    status = _param_status(run, pipeline) if pipeline is not None else {}
    query = context.text("q")
    params = [
        {
            "key": key,
            "value": value,
            "status": status.get(key, "default") if pipeline is not None else None,
        }
        for key, value in sorted(run.data.params.items())
        if query.lower() in key.lower() or query.lower() in value.lower()
    ]
    data["params"] = params
    data["q"] = query
    data["has_pipeline"] = pipeline is not None
    data["set_count"] = sum(p["status"] == "set" for p in params)
    return data


def _group_title(group: Mapping[str, Any]) -> str:
    return GROUP_TITLES[group["kind"]].format(name=group["name"])


def metrics_page(context: PageContext) -> dict[str, Any]:
    """Return the metrics grouped by dataset; those with a history get a chart."""
    run, _, data = run_header(context, "metrics")
    tags = run.data.tags
    datasets = [dataset_summary(item) for item in run.inputs.dataset_inputs]
    histories = set(
        ui_store(context.services.store).metric_keys_with_history(run.info.run_id)
    )
    data["metric_groups"] = [
        {
            "name": group["name"],
            "kind": group["kind"],
            "title": _group_title(group),
            "metrics": [
                {"key": key, "value": value, "has_history": key in histories}
                for key, value in group["metrics"].items()
            ],
        }
        for group in metric_groups(run.data.metrics, held_out_names(tags, datasets))
    ]
    return data


def _lineage(datasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group the split datasets by the digest of the data they were split from."""
    parents: dict[str, dict[str, Any]] = {}
    for dataset in datasets:
        split = dataset["split"]
        if not split or not split.get("parent_digest"):
            continue
        entry = parents.setdefault(
            split["parent_digest"],
            {
                "parent_digest": split["parent_digest"],
                "arguments": {
                    k: split.get(k) for k in SPLIT_FIELDS if k != "parent_digest"
                },
                "parts": [],
            },
        )
        entry["parts"].append(
            {
                "name": dataset["name"],
                "digest": dataset["digest"],
                "shape": dataset["shape"],
            }
        )
    return list(parents.values())


def datasets_page(context: PageContext) -> dict[str, Any]:
    """Return the dataset inputs: schema, profile, fingerprint, split lineage."""
    run, _, data = run_header(context, "datasets")
    datasets = []
    for item in run.inputs.dataset_inputs:
        summary = dataset_summary(item)
        profile = json_value(item.dataset.profile)
        schema = json_value(item.dataset.schema)
        summary["columns"] = (
            [c for c in profile.get("columns", []) if isinstance(c, dict)]
            if isinstance(profile, dict)
            else []
        )
        summary["schema"] = schema
        summary["source"] = item.dataset.source
        datasets.append(summary)
    data["datasets"] = datasets
    data["lineage"] = _lineage(datasets)
    data["shared_rows"] = run.data.metrics.get(SHARED_ROWS_METRIC)
    return data


PAGES: tuple[tuple[str, Callable[[PageContext], Mapping[str, Any]], str], ...] = (
    ("", overview_page, "run_overview.html"),
    ("/params", params_page, "run_params.html"),
    ("/metrics", metrics_page, "run_metrics.html"),
    ("/plots", _run_files.plots_page, "run_plots.html"),
    ("/datasets", datasets_page, "run_datasets.html"),
    ("/pipeline", _run_files.pipeline_page, "run_pipeline.html"),
    ("/model", _run_files.model_page, "run_model.html"),
    ("/artifacts", _run_files.artifacts_page, "run_artifacts.html"),
)
