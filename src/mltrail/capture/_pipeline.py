"""The structure of an estimator: its tree of steps, what each one changes and sees.

Reads ``get_params``, fitted attributes and ``get_feature_names_out`` only; it never
fits an estimator. ``estimator_html`` renders a copy of the estimator objects (the
arrays are shared), never the caller's objects.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["estimator_html", "pipeline_structure", "pipeline_summary"]

MAX_NAMES = 1000
MAX_VALUE_LENGTH = 200
MAX_SUMMARY_LENGTH = 1000
# scikit-learn's table shows this many fitted attributes, then "...".
MAX_FITTED_ATTRIBUTES = 100
# Parameters that hold sub-estimators in scikit-learn's meta-estimators.
_ESTIMATOR_PARAMS = ("estimator", "base_estimator", "final_estimator", "estimator_")
_LIST_PARAMS = ("steps", "transformer_list", "transformers", "estimators")
# get_feature_names_out fails with these when the estimator is not fitted or does
# not support it (NotFittedError derives from ValueError and AttributeError).
_FEATURE_NAME_ERRORS = (AttributeError, ValueError, TypeError, IndexError, KeyError)


def pipeline_structure(estimator: object) -> dict[str, object]:
    """Describe an estimator as a JSON-ready tree.

    Each node holds the estimator's ``class`` (``module.Name``), its ``name`` in the
    parent (step or transformer name, else None), the ``params`` that differ from
    the class defaults, the ``input_columns`` it receives, the ``output_features``
    it produces (from ``get_feature_names_out``, when available) and its
    ``children``: the steps of a ``Pipeline``, the transformers of a
    ``ColumnTransformer`` or ``FeatureUnion``, the sub-estimators of
    meta-estimators, and the refitted ``best_estimator_`` of a search.

    Parameters
    ----------
    estimator : estimator
        A scikit-learn estimator, fitted or not.

    Returns
    -------
    dict
        The root node.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mltrail.capture._pipeline import pipeline_structure
    >>> model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    >>> tree = pipeline_structure(model)
    >>> tree["class"]
    'sklearn.pipeline.Pipeline'
    >>> tree["children"][1]["params"]
    {'C': 0.5}
    """
    return _node(estimator, None, _input_names(estimator))


def pipeline_summary(estimator: object) -> str:
    """Summarize an estimator's structure on one line, for the pipeline tag.

    Pipeline steps are joined with ``→``; the parts of a ``ColumnTransformer``,
    ``FeatureUnion`` or meta-estimator go in parentheses after its name.

    Parameters
    ----------
    estimator : estimator
        A scikit-learn estimator, fitted or not.

    Returns
    -------
    str
        Such as ``ColumnTransformer(StandardScaler, OneHotEncoder) →
        LogisticRegression``; cut at 1000 characters.

    Examples
    --------
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> from mltrail.capture._pipeline import pipeline_summary
    >>> columns = make_column_transformer(
    ...     (StandardScaler(), ["age"]), (OneHotEncoder(), ["city"]))
    >>> pipeline_summary(make_pipeline(columns, LogisticRegression()))
    'ColumnTransformer(StandardScaler, OneHotEncoder) → LogisticRegression'
    """
    text = _summary(estimator)
    if len(text) > MAX_SUMMARY_LENGTH:
        text = text[: MAX_SUMMARY_LENGTH - 1] + "…"
    return text


def estimator_html(estimator: object) -> str:
    """Render scikit-learn's interactive diagram of an estimator as an HTML page.

    Parameters
    ----------
    estimator : estimator
        A scikit-learn estimator.

    Returns
    -------
    str
        A complete UTF-8 HTML document, as MLflow's ``estimator.html``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mltrail.capture._pipeline import estimator_html
    >>> estimator_html(LogisticRegression()).startswith("<!DOCTYPE html>")
    True
    """
    from sklearn.utils import estimator_html_repr

    body = None
    try:
        copy = _rendering_copy(estimator)
        if copy is not None:
            body = estimator_html_repr(copy)
    except Exception:
        # The copy relies on scikit-learn's private AttrsDict and on how its diagram
        # reads an estimator; should they change, the public path below still
        # renders (or raises) as before.
        body = None
    if body is None:
        body = estimator_html_repr(estimator)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{type(estimator).__name__}</title>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def _rendering_copy(estimator: object) -> object | None:
    """Copy the estimator objects the diagram shows, each listing stored attributes.

    scikit-learn's own fitted-attribute table calls ``inspect.getmembers``, which
    evaluates every property (a forest's ``estimators_samples_`` draws all bootstrap
    samples again) under ``warnings.catch_warnings``, which is not thread-safe. Each
    copy gets an instance attribute that shadows that method and reads ``vars()``.
    Returns None when scikit-learn lacks the pieces this relies on.
    """
    try:
        from sklearn.base import BaseEstimator
        from sklearn.utils._repr_html.fitted_attributes import AttrsDict
    except ImportError:
        return None
    if not hasattr(BaseEstimator, "_get_fitted_attr_html"):
        return None
    memo: dict[int, object] = {}

    def copied(value: Any) -> Any:
        if id(value) in memo:
            return memo[id(value)]
        kind = type(value)
        if isinstance(value, BaseEstimator) and hasattr(value, "__dict__"):
            new = object.__new__(kind)
            memo[id(value)] = new
            stored = {name: copied(item) for name, item in vars(value).items()}
            table = functools.partial(_stored_attributes, stored, kind, AttrsDict)
            # An instance attribute shadows the method of the class, on our copy only.
            vars(new).update(stored, _get_fitted_attr_html=table)
            return new
        if kind is list:
            # The diagram shows the estimators of (name, estimator, ...) tuples, never
            # the bare ones of a list such as a forest's trees: those stay shared.
            return [copied(item) if type(item) is tuple else item for item in value]
        if kind is tuple:
            return tuple(copied(item) for item in value)
        if kind is dict:
            return {name: copied(item) for name, item in value.items()}
        return value

    copy: object = copied(estimator)
    return copy


def _stored_attributes(
    stored: dict[str, object], cls: type, table: Any, doc_link: str = ""
) -> Any:
    """Build scikit-learn's fitted-attribute table from the attributes stored."""
    rows: dict[str, dict[str, object]] = {}
    for name in sorted(stored):
        if len(rows) > MAX_FITTED_ATTRIBUTES:
            rows["..."] = {"type_name": "...", "value": ""}
            break
        if name.startswith("_") or not name.endswith("_"):
            continue
        value = stored[name]
        row: dict[str, object] = {"type_name": type(value).__name__}
        if (
            hasattr(value, "shape")
            and hasattr(value, "dtype")
            and not isinstance(value, numbers.Number)
        ):
            row["shape"] = value.shape
            row["dtype"] = value.dtype
        row["value"] = value
        rows[name] = row
    return table(fitted_attrs=rows, estimator_class=cls, doc_link=doc_link)


def _node(
    estimator: object, name: str | None, inputs: list[str] | None
) -> dict[str, object]:
    """Describe one estimator (or ``"passthrough"``/``"drop"``) and its children."""
    if isinstance(estimator, str) or estimator is None:
        return {
            "class": str(estimator),
            "name": name,
            "params": {},
            "input_columns": _capped(inputs),
            "output_features": _capped(inputs) if estimator == "passthrough" else None,
            "children": [],
        }
    own_inputs = _input_names(estimator) or inputs
    return {
        "class": _class_path(type(estimator)),
        "name": name,
        "params": _changed_params(estimator),
        "input_columns": _capped(own_inputs),
        "output_features": _capped(_output_names(estimator, own_inputs)),
        "children": _children(estimator, own_inputs),
    }


def _class_path(cls: type) -> str:
    """Return ``module.Name`` by the shortest public module that exports the class."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts)):
        if parts[end - 1].startswith("_"):
            break
        module = sys.modules.get(".".join(parts[:end]))
        if module is not None and getattr(module, cls.__name__, None) is cls:
            return f"{module.__name__}.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _children(estimator: object, inputs: list[str] | None) -> list[dict[str, object]]:
    """Describe the sub-estimators of a composite or meta-estimator."""
    params = _params(estimator)
    children: list[dict[str, object]] = []
    fitted_transformers = getattr(estimator, "transformers_", None)
    if isinstance(fitted_transformers, list) and "transformers" in params:
        # A fitted ColumnTransformer: the fitted copies, with resolved columns.
        for name, transformer, columns in fitted_transformers:
            children.append(_node(transformer, name, _resolve_columns(columns, inputs)))
    elif "transformers" in params and isinstance(params["transformers"], list):
        for name, transformer, columns in params["transformers"]:
            children.append(_node(transformer, name, _resolve_columns(columns, inputs)))
    if "steps" in params and isinstance(params["steps"], list):
        step_inputs = inputs
        for name, step in params["steps"]:
            child = _node(step, name, step_inputs)
            children.append(child)
            outputs = child["output_features"]
            step_inputs = outputs if isinstance(outputs, list) else None
    for key in ("transformer_list", "estimators"):
        items = params.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, tuple) and len(item) >= 2:
                    children.append(_node(item[1], str(item[0]), inputs))
                elif _is_estimator(item):
                    children.append(_node(item, None, inputs))
    for key in _ESTIMATOR_PARAMS:
        value = params.get(key)
        if _is_estimator(value):
            children.append(_node(value, key, inputs))
    best = getattr(estimator, "best_estimator_", None)
    if _is_estimator(best):
        children.append(_node(best, "best_estimator_", inputs))
    return children


def _summary(estimator: object) -> str:
    """Summarize one node; see :func:`pipeline_summary`."""
    if isinstance(estimator, str) or estimator is None:
        return str(estimator)
    params = _params(estimator)
    name = type(estimator).__name__
    steps = params.get("steps")
    if isinstance(steps, list):
        parts = [_summary(step) for _, step in steps if step not in ("drop", None)]
        return " → ".join(parts)
    parts = []
    transformers = getattr(estimator, "transformers_", None)
    if not isinstance(transformers, list):
        transformers = params.get("transformers")
    if isinstance(transformers, list):
        parts = [_summary(t) for _, t, _ in transformers if t != "drop"]
    for key in ("transformer_list", "estimators"):
        items = params.get(key)
        if isinstance(items, list):
            parts += [
                _summary(item[1] if isinstance(item, tuple) else item)
                for item in items
                if not (isinstance(item, tuple) and item[1] == "drop")
            ]
    parts += [
        _summary(params[key])
        for key in _ESTIMATOR_PARAMS
        if _is_estimator(params.get(key))
    ]
    return f"{name}({', '.join(parts)})" if parts else name


def _is_estimator(value: object) -> bool:
    """Tell whether ``value`` looks like a scikit-learn estimator instance."""
    return hasattr(value, "get_params") and not isinstance(value, type)


def _params(estimator: object) -> dict[str, Any]:
    """Return ``get_params(deep=False)``, or an empty dict when it fails."""
    get_params = getattr(estimator, "get_params", None)
    if get_params is None or isinstance(estimator, type):
        return {}
    try:
        params = get_params(deep=False)
    except (AttributeError, TypeError):  # an estimator with a broken get_params
        return {}
    return dict(params) if isinstance(params, dict) else {}


def _changed_params(estimator: object) -> dict[str, object]:
    """Return the params whose values differ from the ``__init__`` defaults."""
    try:
        signature = inspect.signature(type(estimator).__init__)
    except (TypeError, ValueError):
        signature = None
    defaults = {}
    if signature is not None:
        defaults = {
            name: parameter.default
            for name, parameter in signature.parameters.items()
            if parameter.default is not inspect.Parameter.empty
        }
    changed: dict[str, object] = {}
    for key, value in _params(estimator).items():
        if key in _LIST_PARAMS and isinstance(value, list):
            continue  # the children show these
        if key in defaults and _same(value, defaults[key]):
            continue
        changed[key] = _json_value(value)
    return changed


def _same(value: object, default: object) -> bool:
    """Compare a param with its default: identity, NaN, equality, then repr."""
    if value is default:
        return True
    if isinstance(value, float) and isinstance(default, float):
        return value == default or (math.isnan(value) and math.isnan(default))
    if type(value) is not type(default):
        return False
    try:
        equal: object = value == default
    except (TypeError, ValueError):  # types whose == raises
        equal = None
    # numpy arrays and the like answer == with an array, not a bool
    return equal if isinstance(equal, bool) else repr(value) == repr(default)


def _json_value(value: object) -> object:
    """Turn a param value into JSON: scalars as is, estimators by class, else repr."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if _is_estimator(value):
        return type(value).__name__
    if isinstance(value, list | tuple) and len(value) <= 100:
        return [_json_value(item) for item in value]
    if isinstance(value, dict) and len(value) <= 100:
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, type) or callable(value):
        return getattr(value, "__qualname__", None) or repr(value)
    text = repr(value)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def _input_names(estimator: object) -> list[str] | None:
    """Return ``feature_names_in_`` (set when fitted on a DataFrame)."""
    names = getattr(estimator, "feature_names_in_", None)
    return None if names is None else [str(name) for name in names]


def _output_names(estimator: object, inputs: list[str] | None) -> list[str] | None:
    """Return ``get_feature_names_out()``, or None when the estimator cannot tell."""
    method = getattr(estimator, "get_feature_names_out", None)
    if method is None:
        return None
    try:
        names = method() if inputs is None else method(inputs)
    except _FEATURE_NAME_ERRORS:
        try:
            names = method()
        except _FEATURE_NAME_ERRORS:
            return None
    return [str(name) for name in names]


def _resolve_columns(columns: object, inputs: list[str] | None) -> list[str] | None:
    """Turn a ColumnTransformer column spec into column names, when possible."""
    if isinstance(columns, str):
        return [columns]
    if isinstance(columns, slice):
        if inputs is None:
            return None
        return inputs[columns]
    if callable(columns):
        return [f"<{getattr(columns, '__name__', type(columns).__name__)}>"]
    if isinstance(columns, int):
        columns = [columns]
    tolist = getattr(columns, "tolist", None)
    if callable(tolist):
        items = list(tolist())
    elif isinstance(columns, Sequence):
        items = list(columns)
    else:
        return None
    if items and all(isinstance(item, bool) for item in items):
        if inputs is None:
            return [str(i) for i, keep in enumerate(items) if keep]
        return [name for name, keep in zip(inputs, items, strict=False) if keep]
    names: list[str] = []
    for item in items:
        if (
            isinstance(item, int)
            and inputs is not None
            and -len(inputs) <= item < len(inputs)
        ):
            names.append(inputs[item])
        else:
            names.append(str(item))
    return names


def _capped(names: list[str] | None) -> list[str] | None:
    """Keep at most ``MAX_NAMES`` names."""
    return None if names is None else names[:MAX_NAMES]
