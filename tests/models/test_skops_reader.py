"""mltrail's skops reader builds what skops builds, audits what skops audits, and
turns every malformed file into a clear mltrail error."""

from __future__ import annotations

import functools
import json
import operator
import pickle
import warnings
import zoneinfo
from collections import OrderedDict, defaultdict, namedtuple
from pathlib import Path
from typing import Any
from zipfile import ZipFile

import numpy as np
import pytest
import scipy.sparse
import skops.io
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import all_estimators

import mltrail
from mltrail._errors import InvalidValueError
from mltrail.models import UntrustedModelError
from mltrail.models._allowed_types import ADDED
from mltrail.models._serialization import load_model_file, untrusted_types
from tests.models._compare import same_structure
from tests.models._crafted import craft, find, walk

X, y = load_iris(return_X_y=True)
ADDED_NAMES = {name for names in ADDED.values() for name in names}
Point = namedtuple("Point", ["x", "y"])


def _load(path: Path, trusted: Any = None) -> Any:
    return load_model_file(path, "skops", trusted)


def _assert_like_skops(path: Path) -> None:
    """Build and audit like skops: same object, same untrusted names (but ADDED)."""
    theirs_untrusted = skops.io.get_untrusted_types(file=path)
    theirs = skops.io.load(path, trusted=theirs_untrusted)
    assert same_structure(_load(path, trusted=True), theirs)
    expected = [name for name in theirs_untrusted if name not in ADDED_NAMES]
    assert untrusted_types(path) == expected


def _fitted(estimator_class: type) -> Any:
    estimator = estimator_class()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return estimator.fit(np.abs(X), y)
        except (TypeError, ValueError):
            return estimator.fit(np.abs(X))


def _all_fitted_estimators() -> list[tuple[str, Any]]:
    found = []
    for name, estimator_class in all_estimators():
        try:
            found.append((name, _fitted(estimator_class)))
        except Exception:  # noqa: S112 - estimators that need other data
            continue
    return found


@pytest.mark.slow
def test_every_scikit_learn_estimator_loads_like_skops(tmp_path):
    checked = 0
    for name, estimator in _all_fitted_estimators():
        path = tmp_path / f"{name}.skops"
        try:
            skops.io.dump(estimator, path)
        except Exception:  # noqa: S112 - types skops cannot save (Birch)
            continue
        _assert_like_skops(path)
        checked += 1
    assert checked > 150


def _partial_with_attributes() -> Any:
    partial = functools.partial(np.multiply, 2)
    partial.note = "doubles"  # type: ignore[attr-defined]  # partials take attributes
    return partial


def _method() -> Any:
    return StandardScaler().fit(X).transform


OBJECTS: dict[str, Any] = {
    "generator": lambda: np.random.default_rng(7),
    "random state": lambda: np.random.RandomState(7),
    "masked array": lambda: np.ma.MaskedArray([1.0, 2.0], mask=[False, True]),
    "sparse matrix": lambda: scipy.sparse.csr_matrix(np.eye(3)),
    "bytes": lambda: [b"abc", bytearray(b"xyz")],
    "slice": lambda: slice(1, 9, 2),
    "partial": lambda: [functools.partial(np.add, 1), _partial_with_attributes()],
    "bound method": _method,
    "operators": lambda: [
        operator.itemgetter(1),
        operator.attrgetter("a"),
        operator.methodcaller("m", 1),
    ],
    "containers": lambda: {
        "ordered": OrderedDict(a=1),
        "default": defaultdict(list, {"k": [1]}),
        "set": {1, 2},
        "tuple": (1, "a", None),
        "int keys": {1: "one", 2.5: "half"},
        "point": Point(1, 2),
    },
    "zone": lambda: zoneinfo.ZoneInfo("UTC"),
    "numpy scalars and types": lambda: [
        np.float64(1.5),
        np.int32(3),
        np.dtype("float32"),
        np.float32,
        int,
    ],
    "object arrays": lambda: [
        np.array(["a", None], dtype=object),
        np.array([[1, "a"], [2, "b"]], dtype=object),
    ],
    "ufunc": lambda: [np.log1p, np.add],
}


@pytest.mark.parametrize("make", OBJECTS.values(), ids=OBJECTS.keys())
def test_objects_load_and_audit_like_skops(tmp_path, make):
    path = tmp_path / "object.skops"
    skops.io.dump(make(), path)
    _assert_like_skops(path)


def test_a_shared_array_stays_shared(tmp_path):
    shared = np.arange(3.0)
    path = tmp_path / "object.skops"
    skops.io.dump([shared, shared], path)
    first, second = _load(path)
    assert first is second


def test_trusted_types_from_numpy_and_builtins_load_by_default(tmp_path):
    path = tmp_path / "object.skops"
    skops.io.dump([np.random.default_rng(7), OrderedDict(a=np.ones(2)), (1, 2)], path)
    assert _load(path)[0].integers(10) == np.random.default_rng(7).integers(10)


def test_estimator_round_trip_predicts_the_same(tmp_path):
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    path = craft(tmp_path / "model.skops", model)
    np.testing.assert_array_equal(_load(path).predict(X), model.predict(X))


def _write(path: Path, members: dict[str, bytes]) -> Path:
    with ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _schema(tmp_path: Path, schema: Any) -> Path:
    return _write(
        tmp_path / "model.skops", {"schema.json": json.dumps(schema).encode()}
    )


def _node(
    loader: str, module: str = "builtins", name: str = "list", **extra: Any
) -> dict[str, Any]:
    return {"__loader__": loader, "__module__": module, "__class__": name, **extra}


def test_a_pickle_under_a_skops_name_gets_a_clear_error(tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(LogisticRegression()))
    with pytest.raises(InvalidValueError, match=r"got 'a pickle'.*MLmodel"):
        _load(path)


def test_a_file_that_is_not_a_zip_gets_a_clear_error(tmp_path):
    path = tmp_path / "model.skops"
    path.write_text("hello")
    with pytest.raises(InvalidValueError, match="not a zip archive"):
        _load(path)


def test_the_error_for_a_file_that_is_not_a_zip_is_not_wrapped_again(tmp_path):
    # Wrapped in a second InvalidValueError, its message was cut at 200
    # characters, and the cut fell at another place for a longer tmp path.
    folder = tmp_path.joinpath(*["a-rather-long-folder-name"] * 8)
    folder.mkdir(parents=True)
    path = folder / "model.skops"
    path.write_bytes(pickle.dumps(LogisticRegression()))
    with pytest.raises(InvalidValueError) as caught:
        _load(path)
    assert str(caught.value).count(" must be ") == 1
    assert caught.value.value == "a pickle"


def test_mlmodel_saying_skops_over_a_pickle_file_gets_a_clear_error(tmp_path):
    model = LogisticRegression(max_iter=500).fit(X, y)
    mltrail.sklearn.save_model(model, tmp_path / "m", serialization_format="pickle")
    mlmodel = tmp_path / "m" / "MLmodel"
    mlmodel.write_text(
        mlmodel.read_text().replace(
            "serialization_format: pickle", "serialization_format: skops"
        )
    )
    with pytest.raises(InvalidValueError, match=r"model\.pkl.*got 'a pickle'"):
        mltrail.pyfunc.load_model(tmp_path / "m")


MALFORMED: dict[str, tuple[Any, str]] = {
    "not an object": ([1, 2], "not a JSON object"),
    "no protocol": ({"__loader__": "ListNode"}, "protocol of .* got None"),
    "newer protocol": ({**_node("ListNode", content=[]), "protocol": 3}, "protocol"),
    "protocol as text": (
        {**_node("ListNode", content=[]), "protocol": "2"},
        "protocol",
    ),
    "node not an object": ({**_node("ListNode", content=[5]), "protocol": 2}, "JSON"),
    "id not an integer": (
        {**_node("ListNode", content=[], __id__=[1]), "protocol": 2},
        "not an integer",
    ),
    "no loader": ({"content": [], "protocol": 2}, "__loader__"),
    "no content": ({**_node("ListNode"), "protocol": 2}, "'content'"),
    "missing member": (
        {
            **_node("NdArrayNode", "numpy", "ndarray", type="numpy", file="a.npy"),
            "protocol": 2,
        },
        "not in the file",
    ),
    "array of unknown type": (
        {**_node("NdArrayNode", "numpy", "ndarray", type="pickle"), "protocol": 2},
        "unknown type",
    ),
    "operator from elsewhere": (
        {**_node("OperatorFuncNode", "os", "system", attrs={}), "protocol": 2},
        "operator function from 'os'",
    ),
    "list content not a list": (
        {**_node("ListNode", content=5), "protocol": 2},
        "content that is not a list",
    ),
    "dict content not an object": (
        {
            **_node("DictNode", "builtins", "dict", content=[], key_types={}),
            "protocol": 2,
        },
        "DictNode content that is not an object",
    ),
    "json content not a string": (
        {**_node("JsonNode", content=5), "protocol": 2},
        "JsonNode content that is not a string",
    ),
    "slice content not an object": (
        {**_node("SliceNode", content=5), "protocol": 2},
        "SliceNode content that is not an object",
    ),
    "sparse matrix not from scipy": (
        {**_node("SparseMatrixNode", type="pickle"), "protocol": 2},
        "sparse matrix not saved by scipy",
    ),
    "reduce without arguments": (
        {**_node("LossNode", __reduce__=5, content={}), "protocol": 2},
        "without its constructor arguments",
    ),
    "tree naming another class": (
        {
            **_node("TreeNode", "os", "system", __reduce__={"args": {}}, content={}),
            "protocol": 2,
        },
        "tree node that names 'os.system'",
    ),
}


@pytest.mark.parametrize(
    ("schema", "message"), MALFORMED.values(), ids=MALFORMED.keys()
)
def test_malformed_schema_gets_a_clear_error(tmp_path, schema, message):
    with pytest.raises(InvalidValueError, match=message):
        _load(_schema(tmp_path, schema), trusted=True)


def test_a_zip_without_schema_gets_a_clear_error(tmp_path):
    path = _write(tmp_path / "model.skops", {"other.txt": b"x"})
    with pytest.raises(InvalidValueError, match=r"without schema\.json"):
        _load(path)


def test_schema_that_does_not_parse_gets_a_clear_error(tmp_path):
    path = _write(tmp_path / "model.skops", {"schema.json": b"{not json"})
    with pytest.raises(InvalidValueError, match="does not parse"):
        _load(path)


@pytest.mark.parametrize("depth", [400, 100_000], ids=["parser", "json"])
def test_deep_nesting_gets_a_clear_error(tmp_path, depth):
    opening = '{"__loader__": "ListNode", "__module__": "builtins", '
    opening += '"__class__": "list", "content": ['
    text = '{"protocol": 2, ' + opening[1:] + opening * depth + "]}" * (depth + 1)
    path = _write(tmp_path / "model.skops", {"schema.json": text.encode()})
    with pytest.raises(InvalidValueError, match=r"nested too deeply|does not parse"):
        _load(path, trusted=True)


def test_a_node_that_contains_itself_gets_a_clear_error(tmp_path):
    inner = _node("ListNode", content=[], __id__=7)
    schema = {**_node("ListNode", content=[inner], __id__=7), "protocol": 2}
    with pytest.raises(InvalidValueError, match="contains itself"):
        _load(_schema(tmp_path, schema), trusted=True)


def _bad_key(schema: dict[str, Any]) -> None:
    """Make the first attribute name a float that cannot be parsed."""
    content = schema["content"]["content"]
    key_types = schema["content"]["key_types"]["content"]
    first = next(iter(content))
    key_types[0] = {**key_types[0], "__class__": "float"}
    key_types[0].pop("__id__", None)
    content[f"x{first}"] = content.pop(first)


def test_a_state_that_does_not_build_gets_a_clear_error(tmp_path):
    path = craft(tmp_path / "model.skops", LogisticRegression(), _bad_key)
    with pytest.raises(InvalidValueError, match="ValueError: could not convert"):
        _load(path)


def test_a_bound_method_of_another_type_is_refused(tmp_path):
    def other_owner(schema):
        find(schema, __loader__="MethodNode")["__class__"] = "LogisticRegression"

    path = craft(tmp_path / "model.skops", [_method()], other_owner)
    with pytest.raises(InvalidValueError, match="bound method whose owner"):
        _load(path, trusted=True)


def _generator_named(tmp_path: Path, name: Any) -> Path:
    def rename(schema):
        generator = find(schema, __loader__="RandomGeneratorNode")
        state = generator["content"]["bit_generator"]["content"]["bit_generator"]
        state["content"] = json.dumps(name)
        state.pop("__id__", None)

    return craft(tmp_path / "model.skops", [np.random.default_rng(0)], rename)


def test_a_generator_naming_a_function_is_refused(tmp_path):
    path = _generator_named(tmp_path, "seed")
    with pytest.raises(UntrustedModelError, match=r"numpy\.random\.seed"):
        _load(path)
    with pytest.raises(InvalidValueError, match="bit generator named 'seed'"):
        _load(path, trusted=True)


def test_a_generator_without_a_name_is_refused(tmp_path):
    with pytest.raises(InvalidValueError, match="bit generator has no name"):
        _load(_generator_named(tmp_path, 5), trusted=True)


def test_unknown_node_kind_needs_trusted_true(tmp_path):
    def unknown(schema):
        schema["__loader__"] = "QuantileForestNode"

    path = craft(tmp_path / "model.skops", [1], unknown)
    with pytest.raises(InvalidValueError, match=r"QuantileForestNode.*trusted=True"):
        _load(path)
    # skops itself does not know the kind either: its error, in mltrail's words.
    with pytest.raises(InvalidValueError, match="skops could not load it"):
        _load(path, trusted=True)


def _old_protocol(schema: dict[str, Any]) -> None:
    schema["protocol"] = 1


def test_older_protocol_loads_through_skops(tmp_path):
    model = LogisticRegression(max_iter=500).fit(X, y)
    path = craft(tmp_path / "model.skops", model, _old_protocol)
    np.testing.assert_array_equal(_load(path).predict(X), model.predict(X))


def test_older_protocol_follows_skops_policy(tmp_path):
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    path = craft(tmp_path / "model.skops", model, _old_protocol)
    with pytest.raises(UntrustedModelError, match=r"sklearn\.tree\._tree\.Tree"):
        _load(path)
    tree_name = "sklearn.tree._tree.Tree"
    np.testing.assert_array_equal(
        _load(path, trusted=[tree_name]).predict(X), model.predict(X)
    )


@pytest.mark.parametrize("trusted", [5, [1], [b"x"]], ids=["int", "ints", "bytes"])
def test_trusted_must_be_names(tmp_path, trusted):
    path = craft(tmp_path / "model.skops", [1])
    with pytest.raises(InvalidValueError, match="list of fully qualified type names"):
        _load(path, trusted=trusted)


def test_every_node_is_visited_once(tmp_path):
    from mltrail.models._skops_reader import nodes, parse

    shared = np.arange(3.0)
    path = tmp_path / "object.skops"
    skops.io.dump({"a": shared, "b": shared, "c": [shared]}, path)
    with ZipFile(path) as archive:
        found = nodes(parse(archive))
    arrays = [node for node in found if node.loader == "NdArrayNode"]
    assert len(arrays) == 1
    schema = json.loads(ZipFile(path).read("schema.json"))
    assert len([n for n in walk(schema) if n["__loader__"] == "NdArrayNode"]) == 3


def test_a_generator_with_a_malformed_state_is_refused(tmp_path):
    def break_state(schema):
        generator = find(schema, __loader__="RandomGeneratorNode")
        del generator["content"]["bit_generator"]["content"]["bit_generator"]

    path = craft(tmp_path / "model.skops", [np.random.default_rng(0)], break_state)
    with pytest.raises(InvalidValueError, match="bit generator has no name"):
        _load(path, trusted=True)


def test_an_object_without_state_is_built_empty(tmp_path):
    def drop_state(schema):
        del schema["content"]

    path = craft(tmp_path / "model.skops", LogisticRegression(), drop_state)
    assert isinstance(_load(path), LogisticRegression)


def test_a_loss_whose_state_it_cannot_take_is_refused(tmp_path):
    from sklearn.linear_model import SGDClassifier

    def tuple_state(schema):
        loss = next(node for node in walk(schema) if node["__loader__"] == "LossNode")
        loss["content"] = {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [{**_node("JsonNode", "builtins", "int"), "content": "1"}],
        }

    model = SGDClassifier(max_iter=5, tol=None).fit(X, y)
    path = craft(tmp_path / "model.skops", model, tuple_state)
    with pytest.raises(InvalidValueError, match="state that it cannot take"):
        _load(path)


def test_an_older_protocol_that_does_not_build_gets_a_clear_error(tmp_path):
    def bad_key_old(schema):
        _bad_key(schema)
        _old_protocol(schema)

    path = craft(tmp_path / "model.skops", LogisticRegression(), bad_key_old)
    with pytest.raises(InvalidValueError, match="skops could not load it"):
        _load(path)
