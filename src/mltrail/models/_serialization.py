"""Writing and reading the serialized estimator: skops (default), cloudpickle, pickle.

skops files load without executing code. The types trusted by default are decided
here, from the module of each type (scikit-learn, numpy, scipy), never from a list
stored beside the model; pickle formats load only when the caller trusts the file.
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal
from zipfile import ZIP_STORED, ZipFile

from mltrail._errors import InvalidValueError, MltrailError

__all__ = [
    "FORMATS",
    "MODEL_FILES",
    "TRUSTED_MODULES",
    "SerializationFormat",
    "UntrustedModelError",
    "dump_model",
    "load_model_file",
    "untrusted_types",
]

SerializationFormat = Literal["skops", "cloudpickle", "pickle"]
FORMATS: tuple[SerializationFormat, ...] = ("skops", "cloudpickle", "pickle")
MODEL_FILES: dict[str, str] = {
    "skops": "model.skops",
    "cloudpickle": "model.pkl",
    "pickle": "model.pkl",
}
# Classes from these packages are trusted by default: they hold fitted arrays and
# parameters, and skops rebuilds them without running code from the file. Functions
# are not (a function reference could be called on data at predict time), and
# builtins are left to skops, which trusts the harmless ones itself.
TRUSTED_MODULES = ("sklearn", "numpy", "scipy")

# skops flags this type because scikit-learn follows its node indices without bounds
# checks at predict time; mltrail trusts it after checking every index on load.
TREE_TYPE = "sklearn.tree._tree.Tree"

# Untrusted types by the set of (loader, module, class) triples of a skops state, so
# that a second save of the same kind of estimator does not audit the file again.
_UNTRUSTED_BY_KEY: dict[frozenset[tuple[str, ...]], list[str]] = {}
# Node kinds whose state holds nothing skops audits: a JSON literal, a type named by
# its module and class, and (with ``"type": "numpy"``) an array kept as a .npy file.
# Checked against skops's protocol 2; any other protocol gets the full walk.
_LEAF_LOADERS = frozenset({"JsonNode", "TypeNode"})
_LEAF_LOADERS_PROTOCOL = 2
# Node kinds that skops audits by a name inside their content as well.
_NAMED_CONTENT = frozenset({"MethodNode", "RandomGeneratorNode"})


class UntrustedModelError(MltrailError):
    """A model file would load types, or run code, that the caller has not trusted.

    Parameters
    ----------
    path : str
        The model file.
    types : list of str
        The fully qualified names of the untrusted types; empty for a pickle file.
    serialization_format : str
        ``"skops"``, ``"cloudpickle"`` or ``"pickle"``.

    Examples
    --------
    >>> from mltrail.models import UntrustedModelError
    >>> error = UntrustedModelError("model.skops", ["my.Scaler"], "skops")
    >>> error.types
    ['my.Scaler']
    """

    def __init__(self, path: str, types: list[str], serialization_format: str) -> None:
        self.path = path
        self.types = types
        self.serialization_format = serialization_format
        if serialization_format == "skops":
            message = (
                f"model file {path!r} contains types that are not trusted by default: "
                f"{types}. Pass trusted={types!r} to load_model if you trust them."
            )
        else:
            message = (
                f"model file {path!r} is in {serialization_format} format, and loading "
                "it can run any code it contains. Pass trusted=True to load_model "
                "only if you trust where the file comes from."
            )
        super().__init__(message)


@functools.cache
def _is_trusted_by_default(type_name: str) -> bool:
    """Whether the name is a class defined in scikit-learn, numpy or scipy."""
    module_name, _, attribute = type_name.rpartition(".")
    if module_name.partition(".")[0] not in TRUSTED_MODULES:
        return False
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    value = getattr(module, attribute, None)
    return isinstance(value, type) and value.__module__.partition(".")[0] in (
        TRUSTED_MODULES
    )


def _state_key(state: Any, *, pruned: bool = False) -> frozenset[tuple[str, ...]]:
    """Collect what skops audits in a state: (loader, module, class) per node.

    skops decides trust from these names alone, plus the function of a bound method
    and the bit generator of a ``Generator``, which the key adds; so two states with
    the same key have the same untrusted types. ``pruned`` skips the inside of the
    node kinds whose inside skops never audits (see ``_LEAF_LOADERS``), most of a
    fitted model's nodes; without it every dict, list and tuple is visited.
    """
    found: set[tuple[str, ...]] = set()
    stack = [state]
    push, pop, add = stack.append, stack.pop, found.add
    while stack:
        node = pop()
        loader = node.get("__loader__")
        if type(loader) is str:  # else a dict of the user's whose key is __loader__
            # skops writes both names as str; no str() here, it is the hot loop.
            module, name = node.get("__module__"), node.get("__class__")
            if loader in _NAMED_CONTENT:
                add((loader, module, name, _content_name(node)))
            else:
                add((loader, module, name))
            if pruned and (
                loader in _LEAF_LOADERS
                or (loader == "NdArrayNode" and node.get("type") == "numpy")
            ):
                continue
        for value in node.values():
            kind = type(value)
            if kind is dict:
                push(value)
            elif kind is list or kind is tuple:
                for item in value:
                    if type(item) is dict:
                        push(item)
                    elif type(item) is list or type(item) is tuple:
                        push({"": item})
    return frozenset(found)


def _content_name(node: dict[str, Any]) -> str:
    """Return the name inside a node's content that skops audits too."""
    content: Any = node.get("content")
    try:
        if node["__loader__"] == "MethodNode":
            return str(content["func"])
        return str(content["bit_generator"]["content"]["bit_generator"]["content"])
    except (KeyError, TypeError):
        # skops refuses this shape when it audits the file, so the key is never stored.
        return ""


def _untrusted_key(state: dict[str, Any]) -> frozenset[tuple[str, ...]]:
    """Key the state for ``_UNTRUSTED_BY_KEY``, pruned when the protocol is known."""
    return _state_key(state, pruned=state.get("protocol") == _LEAF_LOADERS_PROTOCOL)


class _Archive(ZipFile):
    """A zip being written whose ``namelist`` is a view of its names.

    skops checks ``name not in zip_file.namelist()`` before writing each array, and
    ``ZipFile.namelist`` builds a new list of every name so far: quadratic for the
    hundreds of arrays of a forest. The view answers ``in`` in constant time.
    """

    def namelist(self) -> list[str]:
        return self.NameToInfo.keys()  # type: ignore[return-value]  # read-only view


def _dump_skops(estimator: Any, path: Path) -> list[str]:
    """Write the skops file and return the types that skops does not trust itself."""
    import skops.io

    try:
        # skops's own dump pretty-prints schema.json with the pure-Python JSON
        # encoder, half of its time for a forest; the compact form loads the same.
        import skops
        from skops.io._utils import SaveContext, get_state
    except ImportError:  # pragma: no cover - only with a skops that moved its helpers
        skops.io.dump(estimator, path)
        return skops.io.get_untrusted_types(file=path)  # type: ignore[no-any-return]

    # In memory first: ZipFile seeks back to each member's header after writing it,
    # and on a file every seek flushes, a few system calls per array of a forest.
    buffer = io.BytesIO()
    with _Archive(buffer, "w", compression=ZIP_STORED) as zip_file:
        context = SaveContext(zip_file=zip_file)
        state = get_state(estimator, context)
        context.clear_memo()
        state["protocol"] = context.protocol
        state["_skops_version"] = skops.__version__
        # A state is a tree of new dicts and lists, so the cycle check is not needed.
        zip_file.writestr("schema.json", json.dumps(state, check_circular=False))
    with open(path, "wb") as file:
        file.write(buffer.getbuffer())
    key = _untrusted_key(state)
    if key not in _UNTRUSTED_BY_KEY:
        _UNTRUSTED_BY_KEY[key] = skops.io.get_untrusted_types(data=buffer.getvalue())
    return list(_UNTRUSTED_BY_KEY[key])


def _trees(value: Any) -> list[Any]:
    """Find every fitted ``Tree`` inside a loaded estimator."""
    import numpy as np
    from sklearn.tree._tree import Tree

    found: list[Any] = []
    visited: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in visited or isinstance(item, str | bytes | int | float):
            continue
        visited.add(id(item))
        if isinstance(item, Tree):
            found.append(item)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, np.ndarray):
            if item.dtype == object:
                stack.extend(item.ravel().tolist())
        elif isinstance(getattr(item, "__dict__", None), dict):
            stack.extend(vars(item).values())
    return found


def _check_trees(estimator: Any, path: Path) -> None:
    """Refuse trees whose node indices would make predict read outside its arrays.

    Children must be -1 (a leaf) or a later node (so there is no cycle), both or
    neither -1, and split features within ``n_features``.
    """
    import numpy as np

    for tree in _trees(estimator):
        count = int(tree.node_count)
        left = np.asarray(tree.children_left)
        right = np.asarray(tree.children_right)
        feature = np.asarray(tree.feature)
        index = np.arange(count)
        is_leaf = left == -1
        ok = (
            len(left) == len(right) == len(feature) == count
            and tree.value.shape[0] == count
            and bool(np.all(is_leaf == (right == -1)))
            and bool(np.all(is_leaf | ((left > index) & (left < count))))
            and bool(np.all(is_leaf | ((right > index) & (right < count))))
            and bool(np.all(is_leaf | ((feature >= 0) & (feature < tree.n_features))))
        )
        if not ok:
            raise InvalidValueError(
                f"the trees in model file {str(path)!r}",
                "node indices out of range",
                "children and features within the tree's own arrays",
                "The file is corrupt or crafted; do not load it.",
            )


def dump_model(
    estimator: Any, directory: Path, serialization_format: str
) -> tuple[str, list[str] | None]:
    """Serialize the estimator into ``directory``.

    Returns the file name and, for skops, every type in the file that skops does not
    trust by itself (what MLflow's loader needs as ``skops_trusted_types``).
    """
    if serialization_format not in FORMATS:
        raise InvalidValueError(
            "serialization_format",
            serialization_format,
            f"one of {', '.join(map(repr, FORMATS))}",
            "Use 'skops' (the default): it loads without running code.",
        )
    file_name = MODEL_FILES[serialization_format]
    path = directory / file_name
    if serialization_format == "skops":
        return file_name, _dump_skops(estimator, path)
    with open(path, "wb") as file:
        if serialization_format == "cloudpickle":
            import cloudpickle

            cloudpickle.dump(estimator, file, protocol=pickle.DEFAULT_PROTOCOL)
        else:
            pickle.dump(estimator, file, protocol=pickle.DEFAULT_PROTOCOL)
    return file_name, None


def untrusted_types(path: Path, trusted: Iterable[str] = ()) -> list[str]:
    """Return the types in a skops file trusted neither by default nor by the caller."""
    import skops.io

    allowed = set(trusted)
    return [
        name
        for name in skops.io.get_untrusted_types(file=path)
        if not _is_trusted_by_default(name) and name not in allowed
    ]


def load_model_file(
    path: Path,
    serialization_format: str,
    trusted: bool | Iterable[str] | None = None,
) -> Any:
    """Load a serialized estimator, refusing what the caller has not trusted.

    ``trusted=True`` trusts everything (required for pickle formats); a list of type
    names adds to the skops types trusted by default.
    """
    if serialization_format not in FORMATS:
        raise InvalidValueError(
            "serialization_format",
            serialization_format,
            f"one of {', '.join(map(repr, FORMATS))}",
        )
    if serialization_format == "skops":
        import skops.io

        found = skops.io.get_untrusted_types(file=path)
        if trusted is not True:
            if isinstance(trusted, str):
                trusted = [trusted]  # one type name, not its characters
            extra = set() if trusted is None or trusted is False else set(trusted)
            refused = [
                name
                for name in found
                if not _is_trusted_by_default(name) and name not in extra
            ]
            if refused:
                raise UntrustedModelError(str(path), refused, "skops")
        estimator = skops.io.load(path, trusted=found)
        if TREE_TYPE in found:
            _check_trees(estimator, path)
        return estimator
    if trusted is not True:
        raise UntrustedModelError(str(path), [], serialization_format)
    with open(path, "rb") as file:
        if serialization_format == "cloudpickle":
            import cloudpickle

            return cloudpickle.load(file)
        return pickle.load(file)  # noqa: S301 - the caller passed trusted=True
