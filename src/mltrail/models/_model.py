"""The model directory in MLflow's format: ``MLmodel``, the estimator, its environment.

``save_model_directory`` writes it; ``read_model_info`` and ``resolve_model_uri``
read it back, from a local directory or from a run's artifacts.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail._version import __version__
from mltrail.models._example import example_as_data, make_input_example
from mltrail.models._mlmodel import MLMODEL_FILE, Model, read_mlmodel, read_text
from mltrail.models._model_files import (
    check_environment_arguments,
    copy_code_paths,
    copy_extra_files,
    pip_requirements_of,
    read_conda_env,
)
from mltrail.models._serialization import MODEL_FILES, dump_model
from mltrail.models._signature import ModelSignature, infer_signature
from mltrail.models._uris import local_artifact_directory, resolve_model_uri

__all__ = [
    "MLMODEL_FILE",
    "ModelInfo",
    "local_artifact_directory",
    "read_model_info",
    "resolve_model_uri",
    "save_model_directory",
    "write_model_files",
]

LOADER_MODULE = "mlflow.sklearn"
PREDICT_FUNCTIONS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "predict_joint_log_proba",
    "score",
)
BUILD_PACKAGES = ("pip", "setuptools", "wheel")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a model directory's ``MLmodel`` file says about the model.

    Parameters
    ----------
    model_uri : str
        Where the model is: ``runs:/<run_id>/<artifact_path>`` or a local directory.
    flavors : dict
        The ``flavors`` section (``python_function`` and ``sklearn``).
    model_uuid : str
        A random 32-character hex id of this model.
    utc_time_created : str
        When the model was saved, as ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC.
    signature : ModelSignature or None, default=None
        The input and output schemas.
    saved_input_example_info : dict or None, default=None
        Where the input example is and its type.
    run_id : str or None, default=None
        The run the model was logged to.
    artifact_path : str or None, default=None
        The run-relative path of the model directory.
    model_size_bytes : int or None, default=None
        The size of the serialized estimator and the example files.
    mlflow_version : str or None, default=None
        The MLflow version that saved the model; None if mltrail saved it.
    mltrail_version : str or None, default=None
        The mltrail version that saved the model; None if MLflow saved it.
    requirements : list of str, default=[]
        The lines of ``requirements.txt``: the pinned distributions it needs.
    model_id : str or None, default=None
        The logged model (``m-<32 hex>``) that ``log_model`` created; its URI is
        ``models:/<model_id>``.
    name : str or None, default=None
        The logged model's name, such as ``"model"``.
    params : dict, default={}
        The logged model's params: its run's, and those passed to ``log_model``.
    tags : dict, default={}
        The logged model's tags.
    registered_model_version : int or None, default=None
        The version ``log_model(registered_model_name=...)`` registered.
    metadata : dict or None, default=None
        Free-form metadata written in ``MLmodel``.

    Examples
    --------
    >>> from mltrail.models import ModelInfo
    >>> info = ModelInfo("models/wine", {"sklearn": {"serialization_format": "skops"}},
    ...                  "a" * 32, "2026-01-01 00:00:00.000000")
    >>> info.serialization_format
    'skops'
    """

    model_uri: str
    flavors: dict[str, dict[str, Any]]
    model_uuid: str
    utc_time_created: str
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    run_id: str | None = None
    artifact_path: str | None = None
    model_size_bytes: int | None = None
    mlflow_version: str | None = None
    mltrail_version: str | None = None
    requirements: list[str] = field(default_factory=list)
    model_id: str | None = None
    name: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    registered_model_version: int | None = None
    metadata: dict[str, Any] | None = None

    @property
    def serialization_format(self) -> str:
        """The format of the serialized estimator; ``pickle`` when not recorded."""
        return str(
            self.flavors.get("sklearn", {}).get("serialization_format", "pickle")
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the content of the ``MLmodel`` file.

        Returns
        -------
        dict
            MLflow's keys; ``run_id`` and ``artifact_path`` only when set.

        Examples
        --------
        >>> from mltrail.models import ModelInfo
        >>> ModelInfo("m", {}, "a" * 32, "2026-01-01 00:00:00").to_dict()["model_uuid"]
        'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
        """
        result: dict[str, Any] = {}
        if self.artifact_path is not None:
            result["artifact_path"] = self.artifact_path
        result["flavors"] = self.flavors
        if self.signature is not None:
            result["signature"] = self.signature.to_dict()
            result["is_signature_from_type_hint"] = False
            result["type_hint_from_example"] = False
        if self.saved_input_example_info is not None:
            result["saved_input_example_info"] = self.saved_input_example_info
        if self.metadata is not None:
            result["metadata"] = self.metadata
        if self.mlflow_version is not None:
            result["mlflow_version"] = self.mlflow_version
        if self.mltrail_version is not None:
            result["mltrail_version"] = self.mltrail_version
        if self.model_size_bytes is not None:
            result["model_size_bytes"] = self.model_size_bytes
        if self.model_id is not None:
            result["model_id"] = self.model_id
        result["model_uuid"] = self.model_uuid
        if self.run_id is not None:
            result["run_id"] = self.run_id
        result["utc_time_created"] = self.utc_time_created
        return result


def _yaml_dump(data: Any, path: Path, *, sort_keys: bool = True) -> None:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with open(path, "w", encoding="utf-8") as file:
        yaml.dump(
            data, file, Dumper=dumper, default_flow_style=False, sort_keys=sort_keys
        )


def _build_requirements() -> list[str]:
    from mltrail.capture import pinned_requirement

    return [pinned_requirement(name) or name for name in BUILD_PACKAGES]


def _write_environment(
    directory: Path,
    requirements: list[str],
    python_version: str,
    conda_env: Mapping[str, Any] | None = None,
) -> None:
    (directory / "requirements.txt").write_text(
        "\n".join(requirements), encoding="utf-8"
    )
    _yaml_dump(
        {
            "python": python_version,
            "build_dependencies": _build_requirements(),
            "dependencies": ["-r requirements.txt"],
        },
        directory / "python_env.yaml",
        sort_keys=False,
    )
    if conda_env is not None:  # the caller's, as MLflow writes it
        _yaml_dump(dict(conda_env), directory / "conda.yaml")
        return
    from mltrail.capture import pinned_requirement

    pip = pinned_requirement("pip")
    _yaml_dump(
        {
            "name": "mlflow-env",
            "channels": ["conda-forge"],
            "dependencies": [
                f"python={python_version}",
                pip.replace("==", "<=") if pip else "pip",
                {"pip": requirements},
            ],
        },
        directory / "conda.yaml",
    )


def _prepare_directory(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidValueError(
            "path",
            str(path),
            "a directory that does not exist yet, or an empty one",
            "Choose a new path; mltrail never overwrites a saved model.",
        )
    path.mkdir(parents=True, exist_ok=True)


def save_model_directory(
    estimator: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = "skops",
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] = (),
    pyfunc_predict_fn: str = "predict",
    run_id: str | None = None,
    artifact_path: str | None = None,
    model_uri: str | None = None,
    model_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    skops_trusted_types: Iterable[str] | None = None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Iterable[str | os.PathLike[str]] | None = None,
    extra_files: Iterable[str | os.PathLike[str]] | None = None,
) -> ModelInfo:
    """Write the model directory; see ``mltrail.sklearn.save_model`` for the arguments.

    ``signature=None`` infers one from ``input_example`` when there is one;
    ``signature=False`` writes none.
    """
    if pyfunc_predict_fn not in PREDICT_FUNCTIONS:
        raise InvalidValueError(
            "pyfunc_predict_fn",
            pyfunc_predict_fn,
            f"one of {', '.join(PREDICT_FUNCTIONS)}",
        )
    input_example = example_as_data(input_example)
    if signature is None and input_example is not None:
        signature = _infer_from_example(estimator, input_example, pyfunc_predict_fn)

    def write_flavors(directory: Path) -> dict[str, dict[str, Any]]:
        import sklearn

        from mltrail.capture import python_version

        code = copy_code_paths(code_paths, directory)
        model_file, skops_types = dump_model(estimator, directory, serialization_format)
        listed_files = copy_extra_files(extra_files, directory)
        flavors: dict[str, dict[str, Any]] = {}
        if hasattr(estimator, pyfunc_predict_fn):
            flavors["python_function"] = {
                "loader_module": LOADER_MODULE,
                "model_path": model_file,
                **({"code": code} if code else {}),
                "predict_fn": pyfunc_predict_fn,
                "python_version": python_version(),
            }
        flavors["sklearn"] = {
            "code": code,
            "pickled_model": model_file,
            "serialization_format": serialization_format,
            "sklearn_version": sklearn.__version__,
            # For MLflow's loader, which trusts this list; mltrail's never reads it.
            "skops_trusted_types": sorted(
                {*(skops_types or ()), *(skops_trusted_types or ())}
            )
            or None,
            **({"extra_files": listed_files} if listed_files else {}),
        }
        return flavors

    return write_model_files(
        estimator,
        Path(path),
        write_flavors,
        model_file=MODEL_FILES.get(serialization_format, ""),
        serialization_format=serialization_format,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        run_id=run_id,
        artifact_path=artifact_path,
        model_uri=model_uri,
        model_id=model_id,
        conda_env=conda_env,
    )


def write_model_files(
    obj: Any,
    directory: Path,
    write_flavors: Callable[[Path], dict[str, dict[str, Any]]],
    *,
    model_file: str,
    serialization_format: str = "cloudpickle",
    base_requirements: Iterable[str] | None = None,
    signature: ModelSignature | bool | None,
    input_example: Any,
    pip_requirements: Iterable[str] | None,
    extra_pip_requirements: Iterable[str],
    metadata: Mapping[str, Any] | None,
    run_id: str | None,
    artifact_path: str | None,
    model_uri: str | None,
    model_id: str | None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> ModelInfo:
    """Write a model directory: the flavors' files, example, environment, MLmodel.

    ``write_flavors(directory)`` writes the serialized model and returns the
    flavors; this writes the rest. The directory must be new or empty; a failure
    removes what was written, so a half-written model never looks like one.
    ``conda_env`` replaces the inferred environment: its pip section is the
    requirements, as in MLflow.
    """
    input_example = example_as_data(input_example)
    extra_pip_requirements = list(extra_pip_requirements)
    check_environment_arguments(conda_env, pip_requirements, extra_pip_requirements)
    environment = read_conda_env(conda_env) if conda_env is not None else None
    _prepare_directory(directory)
    try:
        return _write_files(
            obj,
            directory,
            write_flavors,
            model_file=model_file,
            serialization_format=serialization_format,
            base_requirements=base_requirements,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            run_id=run_id,
            artifact_path=artifact_path,
            model_uri=model_uri or str(directory),
            model_id=model_id,
            conda_env=environment,
        )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _write_files(
    obj: Any,
    directory: Path,
    write_flavors: Callable[[Path], dict[str, dict[str, Any]]],
    *,
    model_file: str,
    serialization_format: str,
    base_requirements: Iterable[str] | None,
    signature: ModelSignature | bool | None,
    input_example: Any,
    pip_requirements: Iterable[str] | None,
    extra_pip_requirements: Iterable[str],
    metadata: Mapping[str, Any] | None,
    run_id: str | None,
    artifact_path: str | None,
    model_uri: str,
    model_id: str | None,
    conda_env: Mapping[str, Any] | None,
) -> ModelInfo:
    from mltrail.capture import python_version, requirements_for

    flavors = write_flavors(directory)
    if "python_function" in flavors:
        flavors["python_function"] = {
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            **flavors["python_function"],
            "python_version": python_version(),
        }
    size = (directory / model_file).stat().st_size if model_file else 0
    example_info = None
    if input_example is not None:
        example = make_input_example(input_example)
        example.save(directory)
        example_info = example.info
        for name in ("artifact_path", "serving_input_path"):
            size += (directory / example.info[name]).stat().st_size
        if signature is None:
            signature = infer_signature(input_example)
    if conda_env is not None:
        requirements = pip_requirements_of(conda_env)
    elif pip_requirements is not None:
        requirements = [str(line) for line in pip_requirements]
    else:
        options: dict[str, Any] = {}
        if base_requirements is not None:
            options["base"] = base_requirements
        requirements = requirements_for(
            obj,
            serialization_format=serialization_format,
            is_pandas=_is_pandas(input_example),
            **options,
        )
    requirements += [str(line) for line in extra_pip_requirements]
    _write_environment(directory, requirements, python_version(), conda_env)
    info = ModelInfo(
        model_uri=model_uri,
        flavors=flavors,
        # As MLflow 3: a logged model's directory carries its id as model_uuid.
        model_uuid=model_id or uuid.uuid4().hex,
        utc_time_created=str(datetime.now(UTC).replace(tzinfo=None)),
        signature=signature if isinstance(signature, ModelSignature) else None,
        saved_input_example_info=example_info,
        run_id=run_id,
        artifact_path=artifact_path,
        model_size_bytes=size,
        # No mlflow_version: MLflow did not write this model, and MLflow's own
        # Model.to_dict leaves the key out when it is unknown.
        mltrail_version=__version__,
        requirements=requirements,
        model_id=model_id,
        metadata=dict(metadata) if metadata is not None else None,
    )
    Model.from_dict(info.to_dict()).save(directory / MLMODEL_FILE)
    return info


def _is_pandas(data: Any) -> bool:
    module = type(data).__module__
    return module == "pandas" or module.startswith("pandas.")


def _infer_from_example(
    estimator: Any, example: Any, predict_fn: str
) -> ModelSignature:
    """Infer the signature from the example and the output on its first rows."""
    from mltrail.models._example import EXAMPLE_ROWS

    head = (
        example.iloc[:EXAMPLE_ROWS] if _is_pandas(example) else example[:EXAMPLE_ROWS]
    )
    # The output comes from the predict function, or from transform for a
    # transformer, as MLflow's autolog does; score returns one number, not rows.
    method = getattr(estimator, predict_fn, None) if predict_fn != "score" else None
    if method is None and predict_fn == "predict":
        method = getattr(estimator, "transform", None)
    output = method(head) if method is not None else None
    if isinstance(output, list):
        # A multi-output predict_proba: one array per output, which no MLflow
        # output schema describes; the input schema is what enforcement needs.
        output = None
    return infer_signature(example, output)


def read_model_info(
    directory: str | os.PathLike[str], model_uri: str = ""
) -> ModelInfo:
    """Read the ``MLmodel`` file of a model directory, written by mltrail or MLflow."""
    path = Path(directory) / MLMODEL_FILE
    if not path.is_file():
        raise NotFoundError(
            "model",
            str(directory),
            f"No {MLMODEL_FILE} file there. Pass a directory written by save_model.",
        )
    content = read_mlmodel(path, str(directory))
    signature = content.get("signature")
    requirements_file = Path(directory) / "requirements.txt"
    lines = (
        read_text(requirements_file).splitlines() if requirements_file.is_file() else []
    )
    requirements = [
        line.strip() for line in lines if line.strip() and not line.startswith("#")
    ]
    return ModelInfo(
        model_uri=model_uri or str(directory),
        flavors=content["flavors"],
        model_uuid=str(content.get("model_uuid") or ""),
        utc_time_created=str(content.get("utc_time_created") or ""),
        signature=ModelSignature.from_dict(signature)
        if isinstance(signature, Mapping)
        else None,
        saved_input_example_info=content.get("saved_input_example_info"),
        run_id=content.get("run_id"),
        artifact_path=content.get("artifact_path"),
        model_size_bytes=content.get("model_size_bytes"),
        mlflow_version=content.get("mlflow_version"),
        mltrail_version=content.get("mltrail_version"),
        requirements=requirements,
    )
