"""Read a skops file without running code: parse it, audit names, check, then build.

A skops file is a zip holding ``schema.json``, a tree of nodes that each name a
type, plus ``.npy`` and ``.npz`` members. This module reads skops's protocol 2
(skops 0.10 and later) in four steps, so that nothing the file names is imported
before it is trusted:

1. **parse** ``schema.json`` into ``Node`` objects (no import, no object);
2. **audit** every node by the name it carries against ``_allowed_types`` and the
   caller's list (no import: a lookup of strings);
3. **check** the state of the types mltrail trusts beyond skops
   (``_skops_checks``), reading only JSON values and ``.npy`` arrays;
4. **build** the objects, importing only the modules of names that passed.

Objects are built the way skops builds them, so a file loads the same with
``skops.io.load``; the tests compare the two on every scikit-learn estimator.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any
from zipfile import ZipFile

__all__ = [
    "PROTOCOL",
    "CorruptFileError",
    "Node",
    "UnknownNodeKindError",
    "UnsupportedProtocolError",
    "build",
    "parse",
    "untrusted_names",
]

PROTOCOL = 2
_UNBUILT: Any = object()


class CorruptFileError(Exception):
    """The file is not a skops file this reader can follow; ``what`` says why."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class UnknownNodeKindError(CorruptFileError):
    """A node kind this reader does not build (another library's, or a newer one)."""

    def __init__(self, loader: str, name: str) -> None:
        super().__init__(f"a node of kind {loader!r} for {name!r}")
        self.loader = loader
        self.name = name


class UnsupportedProtocolError(Exception):
    """The file's skops protocol is not ``PROTOCOL``; ``protocol`` is what it says."""

    def __init__(self, protocol: object) -> None:
        super().__init__(f"skops protocol {protocol!r}")
        self.protocol = protocol


class Node:
    """One node of ``schema.json``: its kind, the name it carries, its parts.

    ``parts`` holds child nodes (a ``Node``, a list or a dict of them) and raw
    values (a file name, a JSON literal) by the key skops uses; ``parents`` holds
    ``(parent, label)`` pairs, where a label is an attribute name, a dict key or
    a list position, for the checks that need a node's owner.
    """

    __slots__ = ("building", "loader", "module", "name", "parents", "parts", "value")

    def __init__(self, loader: str, module: str, name: str) -> None:
        self.loader = loader
        self.module = module
        self.name = name
        self.parts: dict[str, Any] = {}
        self.parents: list[tuple[Node, str]] = []
        self.value: Any = _UNBUILT
        self.building = False

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.name}"

    def children(self) -> Iterator[tuple[str, Node]]:
        """Yield ``(label, child)`` for every child node."""
        for key, part in self.parts.items():
            if isinstance(part, Node):
                yield key, part
            elif isinstance(part, list):
                for index, item in enumerate(part):
                    if isinstance(item, Node):
                        yield f"[{index}]", item
            elif isinstance(part, dict):  # a DictNode's content: only nodes
                yield from part.items()

    def path(self) -> str:
        """Where the node is, as attribute names and positions from the root."""
        labels: list[str] = []
        node: Node = self
        seen: set[int] = set()
        while node.parents and id(node) not in seen:
            seen.add(id(node))
            parent, label = node.parents[0]
            labels.append(label if label.startswith("[") or not label else f".{label}")
            node = parent
        return "".join(reversed(labels)).lstrip(".") or "the root"


class _Parser:
    """Turns ``schema.json`` into nodes, memoized by ``__id__`` as skops does."""

    def __init__(self, archive: ZipFile) -> None:
        self.archive = archive
        self.memo: dict[int, Node] = {}

    def node(self, state: Any, parent: Node | None = None, label: str = "") -> Node:
        if not isinstance(state, dict):
            raise CorruptFileError(f"a node that is not a JSON object: {state!r:.80}")
        saved_id = state.get("__id__")
        if saved_id is not None and (type(saved_id) is not int):
            raise CorruptFileError(f"a node id that is not an integer: {saved_id!r}")
        node = self.memo.get(saved_id) if saved_id else None
        if node is None:
            loader = state.get("__loader__")
            module = state.get("__module__")
            name = state.get("__class__")
            if not all(isinstance(value, str) for value in (loader, module, name)):
                raise CorruptFileError(
                    "a node without __loader__, __module__ and __class__ strings"
                )
            node = Node(str(loader), str(module), str(name))
            if saved_id:
                self.memo[saved_id] = node
            reader = _READERS.get(node.loader)
            if reader is None:
                raise UnknownNodeKindError(node.loader, node.full_name)
            reader(self, node, state)
        if parent is not None:
            node.parents.append((parent, label))
        return node

    def child(self, node: Node, key: str, state: Any) -> Node:
        """Parse a part that is not an attribute or an item: its label is empty."""
        return self.node(state, node, "")

    def items(self, node: Node, key: str, states: Any) -> list[Node]:
        if not isinstance(states, list):
            raise CorruptFileError(f"{node.loader} content that is not a list")
        return [self.node(item, node, f"[{i}]") for i, item in enumerate(states)]

    def member(self, state: dict[str, Any]) -> bytes:
        name = state.get("file")
        if not isinstance(name, str) or name not in self.archive.NameToInfo:
            raise CorruptFileError(f"a member {name!r} that is not in the file")
        return self.archive.read(name)


def _content(state: dict[str, Any], key: str = "content") -> Any:
    if key not in state:
        raise CorruptFileError(f"a node without its {key!r}")
    return state[key]


def _read_dict(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    if not isinstance(content, dict):
        raise CorruptFileError("DictNode content that is not an object")
    node.parts["key_types"] = parser.child(
        node, "key_types", _content(state, "key_types")
    )
    node.parts["content"] = {
        key: parser.node(value, node, key) for key, value in content.items()
    }


def _read_default_dict(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    node.parts["main"] = parser.child(node, "main", _content(content, "main"))
    node.parts["default_factory"] = parser.child(
        node, "default_factory", _content(content, "default_factory")
    )


def _read_sequence(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    node.parts["content"] = parser.items(node, "content", _content(state))


def _read_nothing(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    return None


def _read_json(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    if not isinstance(content, str):
        raise CorruptFileError("JsonNode content that is not a string")
    node.parts["literal"] = content


def _read_slice(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    if not isinstance(content, dict):
        raise CorruptFileError("SliceNode content that is not an object")
    node.parts["literal"] = [content.get(key) for key in ("start", "stop", "step")]


def _read_object(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = state.get("content")
    node.parts["content"] = (
        None if content is None else parser.child(node, "content", content)
    )


def _read_content(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    node.parts["content"] = parser.child(node, "content", _content(state))


def _read_method(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    owner = parser.child(node, "obj", _content(content, "obj"))
    function = _content(content, "func")
    if (owner.module, owner.name) != (node.module, node.name) or not isinstance(
        function, str
    ):
        raise CorruptFileError("a bound method whose owner is not the named type")
    node.parts["obj"] = owner
    node.parts["func"] = function


def _read_partial(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    for key in ("func", "args", "kwds", "namespace"):
        node.parts[key] = parser.child(node, key, _content(content, key))


def _read_operator(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    if node.module != "operator":
        raise CorruptFileError(f"an operator function from {node.module!r}")
    node.parts["attrs"] = parser.child(node, "attrs", _content(state, "attrs"))


def _read_file(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    node.parts["data"] = parser.member(state)


def _read_array(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    kind = state.get("type")
    node.parts["type"] = kind
    if kind == "numpy":
        node.parts["data"] = parser.member(state)
    elif kind == "json":
        node.parts["content"] = parser.items(node, "content", _content(state))
        node.parts["shape"] = parser.child(node, "shape", _content(state, "shape"))
    else:
        raise CorruptFileError(f"an array of unknown type {kind!r}")


def _read_masked_array(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    node.parts["data"] = parser.child(node, "data", _content(content, "data"))
    node.parts["mask"] = parser.child(node, "mask", _content(content, "mask"))


def _read_generator(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    content = _content(state)
    bit_generator = _content(content, "bit_generator")
    node.parts["bit_generator"] = parser.child(node, "bit_generator", bit_generator)
    node.parts["seed_seq"] = parser.child(
        node, "seed_seq", _content(content, "seed_seq")
    )
    # The bit generator's class is a string inside its state; skops audits it as
    # numpy.random.<name>, and so does ``untrusted_names``.
    try:
        name = json.loads(bit_generator["content"]["bit_generator"]["content"])
    except (KeyError, TypeError, ValueError):
        name = None
    if not isinstance(name, str):
        raise CorruptFileError("a Generator whose bit generator has no name")
    node.parts["bit_generator_name"] = name


def _read_sparse(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    if state.get("type") != "scipy":
        raise CorruptFileError("a sparse matrix not saved by scipy")
    node.parts["data"] = parser.member(state)


def _read_reduce(parser: _Parser, node: Node, state: dict[str, Any]) -> None:
    reduce = _content(state, "__reduce__")
    if not isinstance(reduce, dict):
        raise CorruptFileError(f"{node.loader} without its constructor arguments")
    if node.loader == "TreeNode" and node.full_name != "sklearn.tree._tree.Tree":
        # skops builds a Tree whatever the node names; only that name is honest.
        raise CorruptFileError(f"a tree node that names {node.full_name!r}")
    node.parts["args"] = parser.child(node, "args", _content(reduce, "args"))
    node.parts["content"] = parser.child(node, "content", _content(state))


_READERS: dict[str, Callable[[_Parser, Node, dict[str, Any]], None]] = {
    "DictNode": _read_dict,
    "DefaultDictNode": _read_default_dict,
    "ListNode": _read_sequence,
    "SetNode": _read_sequence,
    "TupleNode": _read_sequence,
    "BytesNode": _read_file,
    "BytearrayNode": _read_file,
    "SliceNode": _read_slice,
    "FunctionNode": _read_nothing,
    "TypeNode": _read_nothing,
    "MethodNode": _read_method,
    "PartialNode": _read_partial,
    "ConstructorFromReduceNode": _read_content,
    "ObjectNode": _read_object,
    "JsonNode": _read_json,
    "OperatorFuncNode": _read_operator,
    "NdArrayNode": _read_array,
    "MaskedArrayNode": _read_masked_array,
    "DTypeNode": _read_content,
    "RandomStateNode": _read_content,
    "RandomGeneratorNode": _read_generator,
    "SparseMatrixNode": _read_sparse,
    "TreeNode": _read_reduce,
    "LossNode": _read_reduce,
}


def parse(archive: ZipFile) -> Node:
    """Parse ``schema.json`` of an open skops archive into its root node.

    Raises ``CorruptFileError`` for a file this reader cannot follow, and
    ``UnsupportedProtocolError`` for another protocol (the caller decides).
    """
    try:
        schema = json.loads(archive.read("schema.json"))
    except KeyError as error:
        raise CorruptFileError("a zip without schema.json") from error
    except (ValueError, RecursionError) as error:
        raise CorruptFileError(
            f"a schema.json that does not parse ({error})"
        ) from error
    if not isinstance(schema, dict):
        raise CorruptFileError("a schema.json that is not a JSON object")
    protocol = schema.get("protocol")
    if type(protocol) is not int or protocol != PROTOCOL:
        raise UnsupportedProtocolError(protocol)
    try:
        return _Parser(archive).node(schema)
    except RecursionError as error:
        raise CorruptFileError("nodes nested too deeply") from error


def nodes(root: Node) -> list[Node]:
    """Every node reachable from the root, each once, parents before children."""
    found: list[Node] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        stack.extend(child for _, child in reversed(list(node.children())))
    return found


def untrusted_names(
    root: Node, is_allowed: Callable[[str, str], bool], trusted: frozenset[str]
) -> list[str]:
    """Return the sorted names that neither the allow-list nor ``trusted`` covers.

    Names are the ones skops audits: each node's ``module.class`` (JSON literals
    and slices carry none), a bound method's ``module.class.method``, and a
    ``Generator``'s bit generator as ``numpy.random.<name>``.
    """
    refused: set[str] = set()
    for node in nodes(root):
        names: list[tuple[str, str]] = []
        if node.loader not in ("JsonNode", "SliceNode"):
            names.append((node.loader, node.full_name))
        if node.loader == "MethodNode":
            names.append(("MethodNode", f"{node.full_name}.{node.parts['func']}"))
        if node.loader == "RandomGeneratorNode":
            bit_generator = f"numpy.random.{node.parts['bit_generator_name']}"
            names.append(("bit_generators", bit_generator))
        refused.update(
            name
            for loader, name in names
            if name not in trusted and not is_allowed(loader, name)
        )
    return sorted(refused)


def _import(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def build(node: Node) -> Any:
    """Build the node's object (once), importing only the names it carries."""
    if node.value is not _UNBUILT:
        return node.value
    if node.building:
        raise CorruptFileError(f"a node that contains itself at {node.path()}")
    node.building = True
    try:
        node.value = _BUILDERS[node.loader](node)
    finally:
        node.building = False
    return node.value


def _build_dict(node: Node) -> Any:
    result = _import(node.module, node.name)()
    key_types = build(node.parts["key_types"])
    for key_type, (key, value) in zip(
        key_types, node.parts["content"].items(), strict=False
    ):
        result[key_type(key)] = build(value)
    return result


def _build_default_dict(node: Node) -> Any:
    from collections import defaultdict

    result: defaultdict[Any, Any] = defaultdict(**build(node.parts["main"]))
    result.default_factory = build(node.parts["default_factory"])
    return result


def _build_list(node: Node) -> Any:
    return _import(node.module, node.name)(
        [build(item) for item in node.parts["content"]]
    )


def _build_tuple(node: Node) -> Any:
    kind = _import(node.module, node.name)
    content = tuple(build(item) for item in node.parts["content"])
    fields = getattr(kind, "_fields", None)
    if kind.__bases__ == (tuple,) and isinstance(fields, tuple):
        return kind(*content)  # a namedtuple
    return content


def _build_object(node: Node) -> Any:
    kind = _import(node.module, node.name)
    instance = kind.__new__(kind)
    if node.parts["content"] is not None:
        attributes = build(node.parts["content"])
        if attributes is not None:
            if hasattr(instance, "__setstate__"):
                instance.__setstate__(attributes)
            else:
                instance.__dict__.update(attributes)
    return instance


# The header of a .npy file (format 1.0 to 3.0) as numpy writes it for plain and
# record arrays: {'descr': ..., 'fortran_order': ..., 'shape': (...), }.
_NPY_TYPE = r"'[<>|=]?[A-Za-z][A-Za-z0-9]*'"
_NPY_HEADER = re.compile(
    r"\{'descr': (?:(?P<plain>" + _NPY_TYPE + r")"
    r"|\[(?P<fields>(?:\('[A-Za-z0-9_]*', " + _NPY_TYPE + r"\)(?:, )?)+)\]), "
    r"'fortran_order': (?P<fortran>True|False), "
    r"'shape': \((?P<shape>(?:\d+, )*(?:\d+,?)?)\), \} *\n"
)
_NPY_MAX_HEADER = 10_000  # np.load's own limit; a longer header goes to it
_NPY_FIELD = re.compile(r"\('([A-Za-z0-9_]*)', '([<>|=]?[A-Za-z][A-Za-z0-9]*)'\)")


def _load_npy(data: bytes) -> Any:
    """Return the array of a ``.npy`` file's bytes, as ``np.load`` would.

    ``np.load`` reads each header with ``ast.literal_eval``, a compile per array:
    27 ms of the 70 a 100-tree forest takes to load. The headers numpy writes for
    plain and record dtypes (padded ones included) are read here with a pattern and
    numpy's ``descr_to_dtype``; any other header, an object dtype or a short file
    goes to ``np.load`` (``allow_pickle=False``), which reads it or raises as
    before.
    """
    import numpy as np

    version = data[6:7]
    start = 10 if version == b"\x01" else 12
    size = int.from_bytes(data[8:start], "little")
    if (
        data[:6] == b"\x93NUMPY"
        and version in (b"\x01", b"\x02", b"\x03")
        and size <= _NPY_MAX_HEADER
    ):
        match = _NPY_HEADER.fullmatch(data[start : start + size].decode("latin-1"))
        try:
            array = None if match is None else _npy_body(match, data, start + size)
        except (TypeError, ValueError):  # a dtype numpy refuses: np.load says why
            array = None
        if array is not None:
            return array
    return np.load(io.BytesIO(data), allow_pickle=False)


def _npy_body(match: re.Match[str], data: bytes, body: int) -> Any:
    """Return the array after a header that ``_NPY_HEADER`` read; None if unsure."""
    import numpy as np

    fields = match["fields"]
    # numpy's own reading of a record descr: an unnamed field is padding (a tree's).
    dtype = (
        np.dtype(match["plain"][1:-1])
        if fields is None
        else np.lib.format.descr_to_dtype(_NPY_FIELD.findall(fields))
    )
    shape = tuple(int(part) for part in match["shape"].split(",") if part)
    count = math.prod(shape)
    if (
        dtype.hasobject
        or not dtype.itemsize
        or len(data) - body < count * dtype.itemsize
    ):
        return None
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=body)
    if match["fortran"] == "True":
        return flat.reshape(shape[::-1]).transpose().copy(order="F")
    return flat.reshape(shape).copy()


def _build_array(node: Node) -> Any:
    import numpy as np

    if node.parts["type"] == "numpy":
        content = _load_npy(node.parts["data"])
        if node.full_name != "numpy.ndarray":
            content = _import(node.module, node.name)(content)
        return content
    shape = build(node.parts["shape"])
    items = [build(item) for item in node.parts["content"]]
    if len(shape) == 1:
        array = np.ndarray(shape=len(items), dtype="O")
        for index, item in enumerate(items):
            array[index] = item
        return array
    return np.array(items, dtype="O")


def _build_generator(node: Node) -> Any:
    import numpy as np

    seed_sequence = np.random.SeedSequence(**build(node.parts["seed_seq"]))
    state = build(node.parts["bit_generator"])
    kind = getattr(np.random, state["bit_generator"], None)
    if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
        raise CorruptFileError(f"a bit generator named {state['bit_generator']!r}")
    bit_generator = kind(seed_sequence)
    bit_generator.state = state
    return _import(node.module, node.name)(bit_generator=bit_generator)


def _build_random_state(node: Node) -> Any:
    random_state = _import(node.module, node.name)()
    random_state.set_state(build(node.parts["content"]))
    return random_state


def _build_sparse(node: Node) -> Any:
    from scipy.sparse import load_npz

    # load_npz reads with allow_pickle=False.
    return load_npz(io.BytesIO(node.parts["data"]))


def _build_reduce(node: Node) -> Any:
    args = build(node.parts["args"])
    instance = _import(node.module, node.name)(*args)
    attributes = build(node.parts["content"])
    if attributes:
        if hasattr(instance, "__setstate__"):
            instance.__setstate__(attributes)
        elif isinstance(attributes, dict):
            instance.__dict__.update(attributes)
        else:
            raise CorruptFileError(f"{node.full_name} state that it cannot take")
    return instance


def _build_partial(node: Node) -> Any:
    from functools import partial

    instance = partial(
        build(node.parts["func"]),
        *build(node.parts["args"]),
        **build(node.parts["kwds"]),
    )
    namespace = build(node.parts["namespace"])
    if namespace:
        instance.__dict__.update(namespace)
    return instance


_BUILDERS: dict[str, Callable[[Node], Any]] = {
    "DictNode": _build_dict,
    "DefaultDictNode": _build_default_dict,
    "ListNode": _build_list,
    "SetNode": _build_list,
    "TupleNode": _build_tuple,
    "BytesNode": lambda node: node.parts["data"],
    "BytearrayNode": lambda node: bytearray(node.parts["data"]),
    "SliceNode": lambda node: slice(*node.parts["literal"]),
    "FunctionNode": lambda node: _import(node.module, node.name),
    "TypeNode": lambda node: _import(node.module, node.name),
    "MethodNode": lambda node: getattr(build(node.parts["obj"]), node.parts["func"]),
    "PartialNode": _build_partial,
    "ConstructorFromReduceNode": lambda node: _import(node.module, node.name)(
        *build(node.parts["content"])
    ),
    "ObjectNode": _build_object,
    "JsonNode": lambda node: json.loads(node.parts["literal"]),
    "OperatorFuncNode": lambda node: getattr(operator, node.name)(
        *build(node.parts["attrs"])
    ),
    "NdArrayNode": _build_array,
    "MaskedArrayNode": lambda node: _import("numpy.ma", "MaskedArray")(
        build(node.parts["data"]), build(node.parts["mask"])
    ),
    "DTypeNode": lambda node: build(node.parts["content"]).dtype,
    "RandomStateNode": _build_random_state,
    "RandomGeneratorNode": _build_generator,
    "SparseMatrixNode": _build_sparse,
    "TreeNode": _build_reduce,
    "LossNode": _build_reduce,
}
