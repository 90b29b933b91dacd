"""What autologging recorded, read back out of a run: pure functions, no I/O.

``mltrail runs show`` and the web UI show the same sections of a run: its metrics
grouped by dataset (training, each held-out dataset, cross-validation, the rest),
the plots under ``plots/`` paired with the JSON of their data, a summary of each
dataset input with its split lineage, and the code and git state. Both read them
through these functions, from the run and its artifact list.

The names below are the ones autologging writes (``mltrail.sklearn``); they are
repeated here so that readers do not import the integration, and
``tests/cli/test_run_view.py`` checks that they still agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mltrail._entities import DatasetInput, FileInfo
from mltrail._system_tags import (
    DATASET_CONTEXT_TAG,
    EVALUATION_TAG,
    GIT_BRANCH_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    GIT_REPO_URL_TAG,
    SOURCE_KIND_TAG,
    SOURCE_PATH_TAG,
)

__all__ = [
    "CODE_DIRECTORY",
    "CODE_TAGS",
    "CROSS_VALIDATION_GROUP",
    "OTHER_GROUP",
    "PIPELINE_ARTIFACTS",
    "PLOT_DIRECTORY",
    "SPLIT_FIELDS",
    "TEST_DATASET",
    "TRAINING_GROUP",
    "TRAIN_CONTEXT",
    "code_state",
    "dataset_summary",
    "file_entry",
    "held_out_names",
    "json_value",
    "metric_groups",
    "plot_pairs",
]

TRAINING_GROUP = "training"
CROSS_VALIDATION_GROUP = "cv"
OTHER_GROUP = "other"
TEST_DATASET = "test"
TRAIN_CONTEXT = "train"
PLOT_DIRECTORY = "plots/"
CODE_DIRECTORY = "code/"
PIPELINE_ARTIFACTS = ("pipeline.json", "estimator.html")
#: The arguments of a split that its datasets' profiles record.
SPLIT_FIELDS = (
    "parent_digest",
    "test_size",
    "train_size",
    "random_state",
    "shuffle",
    "stratify",
)
# Key in the JSON -> the tag that holds it.
CODE_TAGS = {
    "source_path": SOURCE_PATH_TAG,
    "source_kind": SOURCE_KIND_TAG,
    "git_commit": GIT_COMMIT_TAG,
    "git_branch": GIT_BRANCH_TAG,
    "git_repo_url": GIT_REPO_URL_TAG,
}


def json_value(text: str | None) -> object:
    """Parse ``text``, or return None when it is missing or not JSON."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def held_out_names(
    tags: Mapping[str, str], datasets: Sequence[Mapping[str, Any]]
) -> list[str]:
    """List the held-out dataset names: ``test``, evaluated and non-training inputs.

    ``datasets`` are :func:`dataset_summary` results.
    """
    names = {TEST_DATASET}
    names.update(d["name"] for d in datasets if d["context"] != TRAIN_CONTEXT)
    evaluated = json_value(tags.get(EVALUATION_TAG))
    if isinstance(evaluated, list):
        names.update(name for name in evaluated if isinstance(name, str))
    names.discard(TRAINING_GROUP)
    return sorted(names, key=lambda name: (name != TEST_DATASET, name))


def _prefix(key: str, names: Iterable[str]) -> str | None:
    """Return the longest ``name`` such that ``key`` is ``<name>_<something>``."""
    found = [name for name in names if key.startswith(f"{name}_")]
    return max(found, key=len) if found else None


def metric_groups(
    metrics: Mapping[str, float], held_out: Sequence[str]
) -> list[dict[str, Any]]:
    """Split the metrics by dataset; empty groups are left out.

    Each group is ``{"name", "kind", "metrics"}``, ``kind`` being ``training``,
    ``held_out``, ``cross_validation`` or ``other``.
    """
    groups: dict[tuple[str, str], dict[str, float]] = {(TRAINING_GROUP, "training"): {}}
    groups.update({(name, "held_out"): {} for name in held_out})
    groups[CROSS_VALIDATION_GROUP, "cross_validation"] = {}
    groups[OTHER_GROUP, "other"] = {}
    for key in sorted(metrics):
        if key.startswith(f"{TRAINING_GROUP}_"):
            group = (TRAINING_GROUP, "training")
        elif (name := _prefix(key, held_out)) is not None:
            group = (name, "held_out")
        elif key.startswith(f"{CROSS_VALIDATION_GROUP}_"):
            group = (CROSS_VALIDATION_GROUP, "cross_validation")
        else:
            group = (OTHER_GROUP, "other")
        groups[group][key] = metrics[key]
    return [
        {"name": name, "kind": kind, "metrics": values}
        for (name, kind), values in groups.items()
        if values
    ]


def file_entry(item: FileInfo | None) -> dict[str, Any] | None:
    """Return ``{"path", "file_size"}`` of a file, or None."""
    return None if item is None else {"path": item.path, "file_size": item.file_size}


def plot_pairs(
    files: Mapping[str, FileInfo], datasets: Sequence[str]
) -> list[dict[str, Any]]:
    """Pair each plot's PNG with the JSON of its data, by file stem.

    ``files`` maps run-relative paths to files; ``datasets`` are the names that
    prefix plot names (``training``, ``test``, ...). Each plot is
    ``{"dataset", "plot", "png", "json"}``.
    """
    stems = sorted(
        {
            path.rsplit(".", 1)[0]
            for path in files
            if path.startswith(PLOT_DIRECTORY) and path.endswith((".png", ".json"))
        }
    )
    plots = []
    for stem in stems:
        name = stem.removeprefix(PLOT_DIRECTORY)
        dataset = _prefix(name, datasets)
        plots.append(
            {
                "dataset": dataset,
                "plot": name if dataset is None else name[len(dataset) + 1 :],
                "png": file_entry(files.get(f"{stem}.png")),
                "json": file_entry(files.get(f"{stem}.json")),
            }
        )
    return plots


def dataset_summary(item: DatasetInput) -> dict[str, Any]:
    """Summarise one dataset input: shape, dtypes, nulls, target and split."""
    dataset = item.dataset
    profile = json_value(dataset.profile)
    if not isinstance(profile, dict):
        profile = {}
    columns = profile.get("columns")
    columns = (
        [c for c in columns if isinstance(c, dict)] if isinstance(columns, list) else []
    )
    dtypes: dict[str, int] = {}
    for column in columns:
        dtype = str(column.get("dtype"))
        dtypes[dtype] = dtypes.get(dtype, 0) + 1
    nulls = [c["null_count"] for c in columns if isinstance(c.get("null_count"), int)]
    shape = profile.get("shape")
    target = profile.get("target")
    split = profile.get("split")
    return {
        "name": dataset.name,
        "context": next(
            (t.value for t in item.tags if t.key == DATASET_CONTEXT_TAG), None
        ),
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "shape": shape if isinstance(shape, list) else None,
        "dtypes": dtypes,
        "null_count": sum(nulls) if nulls else None,
        "target": target if isinstance(target, dict) else None,
        "split": split if isinstance(split, dict) else None,
    }


def code_state(
    tags: Mapping[str, str], files: Mapping[str, FileInfo]
) -> dict[str, Any]:
    """Collect the source and git tags, and the files under ``code/``."""
    code: dict[str, Any] = {key: tags.get(tag) for key, tag in CODE_TAGS.items()}
    dirty = tags.get(GIT_DIRTY_TAG)
    code["is_git_dirty"] = None if dirty is None else dirty == "true"
    code["artifacts"] = [
        file_entry(files[path])
        for path in sorted(files)
        if path.startswith(CODE_DIRECTORY)
    ]
    return code
