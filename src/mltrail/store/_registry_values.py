"""Validation of what callers pass to the registry, with MLflow's rules and limits.

Every check raises ``InvalidValueError`` naming the value, what was expected and a
hint, before anything is written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from mltrail._errors import InvalidValueError
from mltrail._registry_entities import ModelVersionStage
from mltrail.store._limits import MAX_ALIAS_LENGTH, MAX_NAME_LENGTH
from mltrail.store._values import check_encodable, check_str

__all__ = [
    "MAX_TAG_KEY_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "check_alias",
    "check_description",
    "check_model_name",
    "check_model_tags",
    "check_optional_str",
    "check_registry_stage",
    "check_tag",
    "check_version",
    "filter_literal",
    "is_reserved_alias",
]

# MLflow's limits for registry tags (mlflow/utils/validation.py).
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000
MAX_VERSION = 2**31 - 1
ALIAS_PATTERN = re.compile(r"^[\w\-]+$")
VERSION_ALIAS_PATTERN = re.compile(r"^[vV]\d+$")
LATEST_ALIAS = "latest"


def filter_literal(text: str) -> str:
    """Return ``text`` as a quoted string of the search grammar, for filters.

    Quotes are doubled and backslashes escaped, so any model name or run id reads
    back as itself: ``name = {filter_literal(name)}`` finds exactly that model.
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def check_model_name(name: object, what: str = "registered model name") -> str:
    """Return ``name`` if it is a valid model name: no ``/``, ``:`` or ``..``."""
    hint = "Use a name such as 'wine-classifier'."
    checked = check_str(what, name, MAX_NAME_LENGTH, hint)
    if not checked.strip():
        raise InvalidValueError(what, checked, "a name that is not only spaces", hint)
    if "/" in checked or ":" in checked:
        raise InvalidValueError(
            what,
            checked,
            "a name without '/' or ':'",
            "These characters separate the parts of a models:/ URI.",
        )
    normal = posixpath.normpath(checked)
    if normal != checked or normal == "." or normal.startswith(".."):
        raise InvalidValueError(
            what, checked, "a name that is not a relative path", hint
        )
    return checked


def check_version(version: object) -> int:
    """Return a version number given as an int or a str of digits."""
    number: int | None = None
    if isinstance(version, int) and not isinstance(version, bool):
        number = version
    elif isinstance(version, str) and version.isascii() and version.isdigit():
        number = int(version)
    if number is None or not 1 <= number <= MAX_VERSION:
        raise InvalidValueError(
            "model version",
            version,
            "a positive integer such as 3 (or '3')",
            "Versions are numbered from 1; see search_model_versions().",
        )
    return number


def is_reserved_alias(alias: str) -> bool:
    """Tell whether ``alias`` is reserved: ``latest`` (any case) or ``v<digits>``."""
    return alias.lower() == LATEST_ALIAS or bool(VERSION_ALIAS_PATTERN.match(alias))


def check_alias(alias: object, *, allow_reserved: bool = False) -> str:
    """Return ``alias`` if it is letters, digits, ``_`` and ``-``, and not reserved."""
    hint = "Use a name such as 'champion' or 'challenger'."
    checked = check_str("alias", alias, MAX_ALIAS_LENGTH, hint)
    if not ALIAS_PATTERN.match(checked):
        raise InvalidValueError(
            "alias", checked, "letters, digits, '_' and '-' only", hint
        )
    if not allow_reserved and is_reserved_alias(checked):
        raise InvalidValueError(
            "alias",
            checked,
            "a name other than 'latest' and 'v<digits>'",
            "These are reserved: models:/name@latest and models:/name/3 name "
            "versions already. " + hint,
        )
    return checked


def check_tag(key: object, value: object) -> tuple[str, str]:
    """Return a registry tag's key and value, within MLflow's limits."""
    checked_key = check_str(
        "tag key", key, MAX_TAG_KEY_LENGTH, "Use a name such as 'team'."
    )
    if not isinstance(value, str):
        raise InvalidValueError(
            f"the value of tag {checked_key!r}",
            value,
            "a str",
            "Convert it with str() first.",
        )
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise InvalidValueError(
            f"the value of tag {checked_key!r}",
            value[:77] + "...",
            f"at most {MAX_TAG_VALUE_LENGTH:,} characters long (got {len(value):,})",
            "Keep long text in the model's description or an artifact.",
        )
    check_encodable(f"the value of tag {checked_key!r}", value)
    return checked_key, value


def check_model_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """Return tags as a dict after checking every key and value."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidValueError(
            "tags", tags, "a mapping of str to str", "Pass {'team': 'risk'}."
        )
    return dict(check_tag(key, value) for key, value in tags.items())


def check_optional_str(name: str, value: object) -> str | None:
    """Return a str or None; anything else is an error."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValueError(name, value, "a str or None")
    check_encodable(name, value)
    return value


def check_description(description: object) -> str | None:
    """Return a description: a str (possibly empty) or None."""
    return check_optional_str("description", description)


def check_registry_stage(stage: object) -> str:
    """Return the canonical name of one of MLflow's model version stages."""
    found = ModelVersionStage.from_name(stage) if isinstance(stage, str) else None
    if found is None:
        names = ", ".join(s.value for s in ModelVersionStage)
        raise InvalidValueError(
            "stage",
            stage,
            f"one of {names}",
            "Stages are deprecated in favour of aliases: "
            "set_registered_model_alias(name, 'champion', version).",
        )
    return found.value
