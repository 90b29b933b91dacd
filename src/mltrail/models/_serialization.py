"""Writing and reading the serialized estimator: skops (default), cloudpickle, pickle.

skops files load without executing code (``_skops_reader``): each type the file
names is trusted by its name alone, from skops's own list plus the few types
``_allowed_types.ADDED`` names, whose state is checked before anything is built
(``_skops_checks``); anything else needs the caller's ``trusted=``. The list
stored beside the model is never used. Pickle formats load only with
``trusted=True``.
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal
from zipfile import ZIP_STORED, BadZipFile, ZipFile

from mltrail._errors import InvalidValueError, MltrailError

__all__ = [
    "FORMATS",
    "MODEL_FILES",
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
    from mltrail.models._skops import (  # skops_io: without scikit-learn's walk
        recall_untrusted,
        remember_untrusted,
        skops_io,
    )

    try:
        # skops's own dump pretty-prints schema.json with the pure-Python JSON
        # encoder, half of its time for a forest; the compact form loads the same.
        import skops
        from skops.io._utils import SaveContext, get_state
    except ImportError:  # pragma: no cover - only with a skops that moved its helpers
        skops_io.dump(estimator, path)
        return skops_io.get_untrusted_types(file=path)  # type: ignore[no-any-return]

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
    types = _UNTRUSTED_BY_KEY.get(key)
    if types is None:
        # A one-shot script saves one model: an earlier run of it has the answer.
        types = recall_untrusted(key)
        if types is None:
            types = skops_io.get_untrusted_types(data=buffer.getvalue())
            remember_untrusted(key, types)
        _UNTRUSTED_BY_KEY[key] = types
    return list(types)


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


Trusted = bool | Iterable[str] | None
_CORRUPT_HINT = (
    "The file is corrupt or was crafted to attack the loader; do not load it."
)


def _trusted_names(trusted: Trusted) -> frozenset[str] | Literal[True]:
    """Return ``True`` or the type names the caller trusts, refusing anything else."""
    if trusted is True:
        return True
    if trusted is None or trusted is False:
        return frozenset()
    if isinstance(trusted, str):
        return frozenset({trusted})  # one type name, not its characters
    names: frozenset[object] = frozenset()
    if isinstance(trusted, Iterable):
        names = frozenset(trusted)
    if (not names and not isinstance(trusted, Iterable)) or not all(
        isinstance(name, str) for name in names
    ):
        raise InvalidValueError(
            "trusted",
            trusted,
            "True, None or a list of fully qualified type names",
            "For example trusted=['mypackage.MyTransformer'].",
        )
    return frozenset(str(name) for name in names)


def _refuse_corrupt(path: Path, what: str) -> InvalidValueError:
    return InvalidValueError(
        f"model file {str(path)!r}",
        what,
        "a skops file mltrail can read",
        _CORRUPT_HINT,
    )


def _open_skops(path: Path) -> ZipFile:
    try:
        return ZipFile(path)
    except BadZipFile as error:
        with open(path, "rb") as file:
            head = file.read(2)
        found = "a pickle" if head[:1] == b"\x80" else "not a zip archive"
        raise InvalidValueError(
            f"model file {str(path)!r}",
            found,
            "a skops file (a zip archive), as MLmodel's serialization_format says",
            "The MLmodel file does not match the model file: save the model again, "
            "or set serialization_format to what the file is.",
        ) from error


def untrusted_types(path: Path, trusted: Iterable[str] = ()) -> list[str]:
    """Return the types in a skops file trusted neither by default nor by the caller."""
    from mltrail.models._allowed_types import is_allowed
    from mltrail.models._skops_reader import parse, untrusted_names

    with _open_skops(path) as archive:
        return untrusted_names(parse(archive), is_allowed, frozenset(trusted))


def _load_with_skops(path: Path, trusted: frozenset[str] | Literal[True]) -> Any:
    """Load with skops itself, under skops's own policy and the caller's names."""
    from mltrail.models._skops import skops_io  # without scikit-learn's walk

    try:
        found = skops_io.get_untrusted_types(file=path)
    except Exception as error:  # translated: skops's own errors on a bad file
        raise _refuse_corrupt(path, f"skops could not load it: {error}") from error
    refused = [] if trusted is True else [n for n in found if n not in trusted]
    if refused:
        raise UntrustedModelError(str(path), refused, "skops")
    try:
        return skops_io.load(path, trusted=found)
    except Exception as error:  # translated, as above
        raise _refuse_corrupt(path, f"skops could not load it: {error}") from error


def _load_skops(path: Path, trusted: Trusted) -> Any:
    from mltrail.models._allowed_types import is_allowed
    from mltrail.models._skops_checks import CraftedStateError, check_state
    from mltrail.models._skops_reader import (
        PROTOCOL,
        CorruptFileError,
        UnknownNodeKindError,
        UnsupportedProtocolError,
        build,
        parse,
        untrusted_names,
    )

    names = _trusted_names(trusted)
    archive = _open_skops(path)
    try:
        with archive:
            root = parse(archive)
    except UnsupportedProtocolError as error:
        protocol = error.protocol
        if type(protocol) is int and 0 <= protocol < PROTOCOL:
            return _load_with_skops(path, names)  # written by skops before 0.10
        newer = type(protocol) is int and protocol > PROTOCOL
        raise InvalidValueError(
            f"the skops protocol of {str(path)!r}",
            protocol,
            f"an integer from 0 to {PROTOCOL}",
            "The file was written by a newer skops: upgrade skops and mltrail."
            if newer
            else _CORRUPT_HINT,
        ) from error
    except UnknownNodeKindError as error:
        if names is True:
            return _load_with_skops(path, names)
        raise InvalidValueError(
            f"model file {str(path)!r}",
            error.what,
            "the node kinds skops writes for scikit-learn, numpy and scipy",
            "Pass trusted=True to let skops load it, if you trust the file.",
        ) from error
    except (CorruptFileError, BadZipFile, ValueError) as error:
        raise _refuse_corrupt(path, str(error)) from error
    if names is not True:
        refused = untrusted_names(root, is_allowed, names)
        if refused:
            raise UntrustedModelError(str(path), refused, "skops")
    try:
        check_state(root, names)
    except CraftedStateError as error:
        raise InvalidValueError(
            f"{error.where} in model file {str(path)!r}",
            error.found,
            error.expected,
            _CORRUPT_HINT,
        ) from error
    try:
        return build(root)
    except Exception as error:
        # Every type here passed the audit, so this is a malformed state (a wrong
        # shape, a missing attribute): say so in mltrail's words, with the cause.
        raise _refuse_corrupt(path, f"{type(error).__name__}: {error}") from error


def load_model_file(
    path: Path,
    serialization_format: str,
    trusted: Trusted = None,
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
        return _load_skops(path, trusted)
    if trusted is not True:
        raise UntrustedModelError(str(path), [], serialization_format)
    try:
        with open(path, "rb") as file:
            if serialization_format == "cloudpickle":
                import cloudpickle

                return cloudpickle.load(file)
            return pickle.load(file)  # noqa: S301 - the caller passed trusted=True
    except ImportError as error:
        raise InvalidValueError(
            f"the modules that model file {str(path)!r} needs",
            error.name or str(error),
            "installed",
            f"Install it ({error}), or the environment in requirements.txt.",
        ) from error
    except Exception as error:  # a truncated or foreign file: the cause is kept
        raise InvalidValueError(
            f"model file {str(path)!r}",
            f"{type(error).__name__}: {error}",
            f"a {serialization_format} file that loads",
            "The file is corrupt, or was written for other versions of its modules.",
        ) from error
