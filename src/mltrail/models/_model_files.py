"""What a caller adds to a model directory, as MLflow's ``save_model`` takes it.

``conda_env`` (a dict or a YAML file) becomes ``conda.yaml`` and its pip section
``requirements.txt``; ``code_paths`` are copied into ``code/``; ``extra_files``
into ``extra_files/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mltrail._errors import InvalidValueError, NotFoundError

__all__ = [
    "CODE_DIRECTORY",
    "EXTRA_FILES_DIRECTORY",
    "check_environment_arguments",
    "copy_code_paths",
    "copy_extra_files",
    "mapping_or_yaml_file",
    "pip_requirements_of",
    "read_conda_env",
]

CODE_DIRECTORY = "code"
EXTRA_FILES_DIRECTORY = "extra_files"

Paths = Iterable[str | os.PathLike[str]]


def check_environment_arguments(
    conda_env: object,
    pip_requirements: Iterable[str] | None,
    extra_pip_requirements: Iterable[str],
) -> None:
    """Refuse ``conda_env`` with requirements, as MLflow does: one source only."""
    if conda_env is not None and (
        pip_requirements is not None or list(extra_pip_requirements)
    ):
        raise InvalidValueError(
            "conda_env",
            "given with pip_requirements or extra_pip_requirements",
            "the only environment argument when given",
            "Put the requirements in the conda env's pip section, or drop conda_env.",
        )


def mapping_or_yaml_file(value: object, name: str) -> Mapping[str, Any] | None:
    """Return ``value`` if a mapping, the mapping in the YAML file it names, or None.

    None when ``value`` is neither a mapping nor a path, or the file holds no
    mapping: the caller refuses it with its own hint.
    """
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str | os.PathLike):
        return None
    import yaml

    path = Path(value)
    if not path.is_file():
        raise NotFoundError(f"{name} file", str(path))
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    return content if isinstance(content, Mapping) else None


def read_conda_env(
    conda_env: Mapping[str, Any] | str | os.PathLike[str],
) -> dict[str, Any]:
    """Return a conda env from a mapping or a YAML file, checked as MLflow reads it."""
    content = mapping_or_yaml_file(conda_env, "conda env")
    if content is None or not isinstance(content.get("dependencies", []), list):
        raise InvalidValueError(
            "conda_env",
            conda_env,
            "a dict, or a YAML file, with a 'dependencies' list",
            "For example {'dependencies': ['python=3.11', {'pip': ['scikit-learn']}]}.",
        )
    return dict(content)


def pip_requirements_of(conda_env: Mapping[str, Any]) -> list[str]:
    """Return the lines of the conda env's pip section (empty when it has none)."""
    for dependency in conda_env.get("dependencies", []):
        if isinstance(dependency, Mapping) and "pip" in dependency:
            return [str(line) for line in dependency["pip"] or ()]
    return []


def _sources(name: str, paths: object) -> list[Path]:
    if isinstance(paths, str | bytes | os.PathLike) or not isinstance(paths, Iterable):
        raise InvalidValueError(
            name, paths, "a list of file or directory paths", f"Pass {name}=['...']."
        )
    sources = [Path(path) for path in paths]
    for source in sources:
        if not source.exists():
            raise NotFoundError("file", str(source), f"Check the paths in {name}.")
    return sources


def copy_code_paths(code_paths: Paths | None, directory: Path) -> str | None:
    """Copy files and directories into ``code/``; return its name, None for none."""
    if code_paths is None:
        return None
    target = directory / CODE_DIRECTORY
    target.mkdir(exist_ok=True)
    for source in _sources("code_paths", code_paths):
        destination = target / source.resolve().name
        if destination.exists():
            raise InvalidValueError(
                "code_paths entry",
                str(source),
                "a file or folder whose name no other entry has",
                "Both would be copied to code/ under one name; rename one.",
            )
        if source.is_dir():
            shutil.copytree(
                source, destination, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(source, destination)
    return CODE_DIRECTORY


def copy_extra_files(
    extra_files: Paths | None, directory: Path
) -> list[dict[str, str]] | None:
    """Copy files into ``extra_files/``; return the flavor's list, None for none."""
    if not extra_files:
        return None
    target = directory / EXTRA_FILES_DIRECTORY
    target.mkdir(exist_ok=True)
    listed = []
    for source in _sources("extra_files", extra_files):
        shutil.copy(source, target / source.name)
        listed.append({"path": f"{EXTRA_FILES_DIRECTORY}/{source.name}"})
    return listed
