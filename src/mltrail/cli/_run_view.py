"""What ``mltrail runs show`` prints about one run: a JSON document, and its tables.

``run_document`` gathers the run as the API returns it (``info``, ``data``,
``inputs``), its experiment and artifact list, and what autologging recorded, read
out of those: the metrics grouped by dataset (training, each held-out dataset,
cross-validation, the rest), the plots under ``plots/`` with the JSON beside each
PNG, a summary of each dataset input with its split lineage, the code and git state,
and the pipeline. ``--json`` prints the document; ``run_tables`` draws only from it,
so both show the same data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mltrail._entities import Experiment, FileInfo, Run
from mltrail._run_sections import (
    PIPELINE_ARTIFACTS,
    PLOT_DIRECTORY,
    SPLIT_FIELDS,
    TRAINING_GROUP,
    code_state,
    dataset_summary,
    file_entry,
    held_out_names,
    metric_groups,
    plot_pairs,
)
from mltrail._system_tags import PIPELINE_TAG
from mltrail.cli import _render
from mltrail.cli._columns import default_columns
from mltrail.cli._run_tree import best_first

MAX_SHOWN_CLASSES = 10
MAX_CHILD_COLUMNS = 5
SHORT_ID_LENGTH = 8
_GROUP_TITLES = {
    "training": "Training metrics",
    "held_out": "Held-out metrics: {name}",
    "cross_validation": "Cross-validation metrics",
    "other": "Other metrics",
}

__all__ = ["run_document", "run_tables"]


def run_document(
    run: Run,
    experiment: Experiment,
    artifacts: Iterable[FileInfo],
    children: Sequence[Run] = (),
) -> dict[str, Any]:
    """Return everything ``runs show`` knows about a run, as JSON-ready data.

    ``artifacts`` is every artifact of the run (directories too), depth first, as
    walking ``list_artifacts`` gives them; ``children`` are its child runs (a
    search's candidates), listed best first with the columns that tell them apart.
    """
    listed = list(artifacts)
    files = {item.path: item for item in listed if not item.is_dir}
    tags = run.data.tags
    datasets = [dataset_summary(item) for item in run.inputs.dataset_inputs]
    held_out = held_out_names(tags, datasets)
    return {
        **_render.run_to_dict(run),
        "experiment": _render.experiment_to_dict(experiment),
        "artifacts": [
            {"path": item.path, "is_dir": item.is_dir, "file_size": item.file_size}
            for item in listed
        ],
        "metric_groups": metric_groups(run.data.metrics, held_out),
        "plots": plot_pairs(files, [TRAINING_GROUP, *held_out]),
        "datasets": datasets,
        "code": code_state(tags, files),
        "pipeline": {
            "summary": tags.get(PIPELINE_TAG),
            "artifacts": [
                file_entry(files[p]) for p in PIPELINE_ARTIFACTS if p in files
            ],
        },
        **_children(children),
    }


def run_tables(document: Mapping[str, Any]) -> Group:
    """Return the tables of a :func:`run_document`, in reading order.

    Run info, params, one table per metric group, tags, system tags, datasets,
    then split lineage, plots, code and pipeline when the run has them, and the
    artifact tree.
    """
    info = document["info"]
    tags = document["data"]["tags"]
    params = document["data"]["params"]
    user_tags = {k: v for k, v in tags.items() if not _render.is_system_tag(k)}
    system_tags = {k: v for k, v in tags.items() if _render.is_system_tag(k)}
    entries = (
        (FileInfo(a["path"], a["is_dir"], a["file_size"]), a["path"].count("/"))
        for a in document["artifacts"]
    )
    return Group(
        _info_table(info, document["experiment"]),
        _render.key_value_table(f"Params ({len(params)})", params),
        *_metric_tables(document["metric_groups"]),
        _render.key_value_table(f"Tags ({len(user_tags)})", user_tags),
        _render.key_value_table(
            f"System tags ({len(system_tags)})", system_tags, dim=True
        ),
        *_detail_tables(document),
        _render.artifact_tree(f"Artifacts ({info['artifact_uri']})", entries),
    )


# --- data ----------------------------------------------------------------------


def _children(children: Sequence[Run]) -> dict[str, Any]:
    """List child runs best first, with the params and metrics that differ."""
    ranked = best_first(children)
    columns = default_columns(ranked, [])[:MAX_CHILD_COLUMNS] if ranked else []
    return {
        "child_columns": [column.name for column in columns],
        "children": [
            {
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "status": run.info.status,
                "values": {column.name: column.value(run) for column in columns},
            }
            for run in ranked
        ],
    }


# --- tables --------------------------------------------------------------------


def _info_table(info: Mapping[str, Any], experiment: Mapping[str, Any]) -> Table:
    start, end = info["start_time"], info["end_time"]
    fields = {
        "run_id": info["run_id"],
        "run_name": info["run_name"],
        "experiment": f"{experiment['name']} ({experiment['experiment_id']})",
        "status": info["status"],
        "user_id": info["user_id"],
        "start_time": _render.format_time(start),
        "end_time": _render.format_time(end),
        "duration": _render.format_duration(start, end),
        "artifact_uri": info["artifact_uri"],
        "lifecycle_stage": info["lifecycle_stage"],
    }
    table = Table(title="Run", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field, value in fields.items():
        cell = _render.status_text(value) if field == "status" else _render.text(value)
        table.add_row(field, cell)
    return table


def _metric_tables(groups: Sequence[Mapping[str, Any]]) -> list[Table]:
    """Return one table per metric group; a lone group is titled ``Metrics``."""
    if not groups:
        return [_render.key_value_table("Metrics (0)", {})]
    tables = []
    for group in groups:
        if len(groups) == 1 and group["kind"] == "other":
            title = "Metrics"
        else:
            title = _GROUP_TITLES[group["kind"]].format(name=group["name"])
        metrics = group["metrics"]
        tables.append(_render.key_value_table(f"{title} ({len(metrics)})", metrics))
    return tables


def _detail_tables(details: Mapping[str, Any]) -> list[RenderableType]:
    """Return the datasets table, and split lineage, plots, code and pipeline ones.

    The datasets table is always there; the others only when the run has some.
    """
    tables: list[RenderableType] = [_datasets_table(details["datasets"])]
    if details["children"]:
        tables.append(_children_table(details["children"], details["child_columns"]))
    splits = [d for d in details["datasets"] if d["split"] is not None]
    if splits:
        tables.append(_splits_table(splits))
    if details["plots"]:
        tables.append(_plots_table(details["plots"]))
    code = details["code"]
    if any(value not in (None, []) for value in code.values()):
        tables.append(_code_table(code))
    pipeline = details["pipeline"]
    if pipeline["summary"] is not None or pipeline["artifacts"]:
        tables.append(_pipeline_table(pipeline))
    return tables


def _table(title: str, columns: Iterable[str]) -> Table:
    table = Table(title=_render.text(title), title_justify="left", min_width=len(title))
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _cell(value: object) -> Text:
    """Return a cell: ``-`` for a missing value, booleans in lower case like tags."""
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, bool):
        return Text("true" if value else "false")
    return _render.text(_render.format_value(value))


def _file_cell(entry: Mapping[str, Any] | None, directory: str = "") -> Text:
    if entry is None:
        return Text("-", style="dim")
    cell = _render.text(entry["path"].removeprefix(directory))
    cell.append(f"  {_render.format_size(entry['file_size'])}", style="dim")
    return cell


def _shape_text(shape: Sequence[object] | None) -> str | None:
    return None if shape is None else " x ".join(str(size) for size in shape)


def _dtypes_text(dtypes: Mapping[str, int]) -> str | None:
    return ", ".join(f"{n} {dtype}" for dtype, n in dtypes.items()) or None


def _target_text(target: Mapping[str, Any] | None) -> str | None:
    """``multiclass: 0=44, 1=53`` for classes, ``continuous: 0.5 to 5, mean 2`` else."""
    if target is None:
        return None
    kind = str(target.get("type", "target"))
    counts = target.get("class_counts")
    if isinstance(counts, dict):
        shown = list(counts.items())[:MAX_SHOWN_CLASSES]
        text = ", ".join(f"{label}={count}" for label, count in shown)
        n_classes = target.get("n_classes", len(counts))
        more = f", … ({n_classes} classes)" if n_classes != len(shown) else ""
        return f"{kind}: {text}{more}"
    if "min" in target and "max" in target:
        low, high = (_render.format_value(target[k]) for k in ("min", "max"))
        mean = target.get("mean")
        tail = "" if mean is None else f", mean {_render.format_value(mean)}"
        return f"{kind}: {low} to {high}{tail}"
    return kind


def _datasets_table(datasets: Sequence[Mapping[str, Any]]) -> Table:
    columns = ("name", "context", "digest", "shape", "dtypes", "null_count", "target")
    table = _table(f"Datasets ({len(datasets)})", columns)
    for d in datasets:
        table.add_row(
            *(
                _cell(value)
                for value in (
                    d["name"],
                    d["context"],
                    d["digest"],
                    _shape_text(d["shape"]),
                    _dtypes_text(d["dtypes"]),
                    d["null_count"],
                    _target_text(d["target"]),
                )
            )
        )
    return table


def _splits_table(datasets: Sequence[Mapping[str, Any]]) -> Table:
    table = _table(f"Split lineage ({len(datasets)})", ("name", *SPLIT_FIELDS))
    for d in datasets:
        table.add_row(
            _cell(d["name"]), *(_cell(d["split"].get(f)) for f in SPLIT_FIELDS)
        )
    return table


def _plots_table(plots: Sequence[Mapping[str, Any]]) -> Table:
    title = f"Plots ({len(plots)}, in {PLOT_DIRECTORY})"
    table = _table(title, ("dataset", "plot", "png", "json"))
    for plot in plots:
        table.add_row(
            _cell(plot["dataset"]),
            _cell(plot["plot"]),
            _file_cell(plot["png"], PLOT_DIRECTORY),
            _file_cell(plot["json"], PLOT_DIRECTORY),
        )
    return table


def _code_table(code: Mapping[str, Any]) -> Table:
    table = Table(title="Code", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in code.items():
        if key == "artifacts":
            for entry in value:
                table.add_row("artifact", _file_cell(entry))
        elif value is not None:
            table.add_row(key, _cell(value))
    return table


def _children_table(
    children: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> Table:
    keys = [name.split(".", 1)[1] for name in columns]
    shown = [
        name if keys.count(key) > 1 else key
        for name, key in zip(columns, keys, strict=True)
    ]
    title = f"Child runs ({len(children)}, best first)"
    table = _table(title, ("run_id", "run_name", "status", *shown))
    for child in children:
        table.add_row(
            child["run_id"][:SHORT_ID_LENGTH],
            _render.text(child["run_name"]),
            _render.status_text(child["status"]),
            *(_cell(child["values"][name]) for name in columns),
        )
    return table


def _pipeline_table(pipeline: Mapping[str, Any]) -> Table:
    table = Table(title="Pipeline", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("summary", _cell(pipeline["summary"]))
    for entry in pipeline["artifacts"]:
        table.add_row("artifact", _file_cell(entry))
    return table
