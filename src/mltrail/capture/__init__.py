"""Pure functions that read the world: environment and packages, git, source, datasets.

Each function is fast, has no side effects and imports heavy libraries only when
called.
"""

from mltrail.capture._datasets import (
    DatasetDescription,
    SplitLineage,
    count_shared_rows,
    dataset_digest,
    describe_dataset,
    locate_rows,
    row_hashes,
    write_parquet,
)
from mltrail.capture._environment import (
    distribution_of_module,
    installed_packages,
    pinned_requirement,
    python_version,
    requirements_for,
)
from mltrail.capture._git import (
    GitChanges,
    GitState,
    git_changes,
    git_state,
    git_user_name,
)
from mltrail.capture._pipeline import (
    estimator_html,
    pipeline_structure,
    pipeline_summary,
)
from mltrail.capture._source import SourceInfo, script_source
from mltrail.capture._tags import automatic_tags, business_tags

__all__ = [
    "DatasetDescription",
    "GitChanges",
    "GitState",
    "SourceInfo",
    "SplitLineage",
    "automatic_tags",
    "business_tags",
    "count_shared_rows",
    "dataset_digest",
    "describe_dataset",
    "distribution_of_module",
    "estimator_html",
    "git_changes",
    "git_state",
    "git_user_name",
    "installed_packages",
    "locate_rows",
    "pinned_requirement",
    "pipeline_structure",
    "pipeline_summary",
    "python_version",
    "requirements_for",
    "row_hashes",
    "script_source",
    "write_parquet",
]
