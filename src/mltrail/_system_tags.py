"""Names of the system tags that mltrail writes on runs: one place for all of them.

Every system tag starts with ``mlflow.``, so that code written for MLflow, which tells
system tags from user tags with ``key.startswith("mlflow.")``, sees only the user's
own tags as user tags. Where MLflow has the same concept, the tag has MLflow's name
(``mlflow.user``, ``mlflow.source.git.commit``, ``mlflow.autologging``); everything
mltrail records beyond MLflow lives in one namespace, ``mlflow.mltrail.``.
"""

from __future__ import annotations

__all__ = [
    "AUTHOR_TAG",
    "AUTOLOGGING_TAG",
    "BEST_CANDIDATE_TAG",
    "BEST_CHILD_RUN_ID_TAG",
    "CROSS_VALIDATION_TAG",
    "DATASET_CONTEXT_TAG",
    "ERROR_MESSAGE_TAG",
    "ERROR_TRACEBACK_TAG",
    "ERROR_TYPE_TAG",
    "EVALUATION_TAG",
    "GIT_BRANCH_TAG",
    "GIT_COMMIT_TAG",
    "GIT_DIRTY_TAG",
    "GIT_REPO_URL_TAG",
    "HOST_TAG",
    "MLTRAIL_PREFIX",
    "MLTRAIL_VERSION_TAG",
    "MODEL_ARTIFACT_PATH_TAG",
    "NOTE_TAG",
    "PARENT_RUN_ID_TAG",
    "PARTIAL_FIT_CALLS_TAG",
    "PIPELINE_TAG",
    "PREPROCESSING_TAG",
    "PROJECT_TAG",
    "PYTHON_VERSION_TAG",
    "RUN_NAME_TAG",
    "SKLEARN_VERSION_TAG",
    "SOURCE_KIND_TAG",
    "SOURCE_NAME_TAG",
    "SOURCE_PATH_TAG",
    "SOURCE_TYPE_TAG",
    "SYSTEM_PREFIX",
    "USER_TAG",
]

SYSTEM_PREFIX = "mlflow."
MLTRAIL_PREFIX = "mlflow.mltrail."

# MLflow's own names, for the concepts MLflow has too.
USER_TAG = "mlflow.user"
RUN_NAME_TAG = "mlflow.runName"
PARENT_RUN_ID_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"
SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_BRANCH_TAG = "mlflow.source.git.branch"
GIT_REPO_URL_TAG = "mlflow.source.git.repoURL"
AUTOLOGGING_TAG = "mlflow.autologging"
DATASET_CONTEXT_TAG = "mlflow.data.context"

# What mltrail records beyond MLflow.
AUTHOR_TAG = MLTRAIL_PREFIX + "author"
PROJECT_TAG = MLTRAIL_PREFIX + "project"
HOST_TAG = MLTRAIL_PREFIX + "host"
PYTHON_VERSION_TAG = MLTRAIL_PREFIX + "python_version"
SKLEARN_VERSION_TAG = MLTRAIL_PREFIX + "sklearn_version"
MLTRAIL_VERSION_TAG = MLTRAIL_PREFIX + "version"
GIT_DIRTY_TAG = MLTRAIL_PREFIX + "git.dirty"
SOURCE_PATH_TAG = MLTRAIL_PREFIX + "source.path"
SOURCE_KIND_TAG = MLTRAIL_PREFIX + "source.kind"
ERROR_TYPE_TAG = MLTRAIL_PREFIX + "error.type"
ERROR_MESSAGE_TAG = MLTRAIL_PREFIX + "error.message"
ERROR_TRACEBACK_TAG = MLTRAIL_PREFIX + "error.traceback"
PIPELINE_TAG = MLTRAIL_PREFIX + "pipeline"
PREPROCESSING_TAG = MLTRAIL_PREFIX + "preprocessing"
EVALUATION_TAG = MLTRAIL_PREFIX + "evaluation"
CROSS_VALIDATION_TAG = MLTRAIL_PREFIX + "cross_validation"
BEST_CANDIDATE_TAG = MLTRAIL_PREFIX + "best_candidate"
BEST_CHILD_RUN_ID_TAG = MLTRAIL_PREFIX + "best_child_run_id"
PARTIAL_FIT_CALLS_TAG = MLTRAIL_PREFIX + "partial_fit_calls"
# On a logged model: the folder of its source run's artifacts that holds its files.
MODEL_ARTIFACT_PATH_TAG = MLTRAIL_PREFIX + "artifact_path"
