"""Check the state of the types mltrail trusts beyond skops, before any object exists.

scikit-learn's tree code follows indices stored in the model without bounds checks,
so a crafted file can make ``predict`` read or write outside its arrays. These
checks read only JSON values and ``.npy`` arrays of the parsed file and refuse
anything that native code would follow out of bounds:

- ``Tree`` (every tree model): children after their parent and inside the node
  array, each node the child of at most one node, split features below the
  tree's ``n_features`` and the ``n_features_in_`` of the estimators that give it
  ``X``, values shaped ``(node_count, n_outputs, max(n_classes))``; a gradient
  boosting model's trees per stage no more than its raw predictions' columns.
- ``TreePredictor`` (HistGradientBoosting): the same for its nodes; categorical
  splits only when the caller trusts the type by name.
- ``KDTree`` and ``BallTree`` (nearest neighbors, KernelDensity): the index array a
  permutation of the rows, each inner node's rows split exactly between its two
  children, bounds and weights shaped by the nodes and the data; their distance
  metric one whose weights, if any, match the data's columns.
- ``numpy.dtype``: read from an ``.npy`` header, so never an object dtype.
- MLP optimizers and calibrations: numbers and arrays only; a calibrated
  classifier: its four attributes, the method a string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mltrail.models._allowed_types import SPLITTERS
from mltrail.models._skops_reader import Node, build, nodes

__all__ = ["CraftedStateError", "check_state"]

TREE = "sklearn.tree._tree.Tree"
TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
_TREE_ESTIMATORS = frozenset(
    f"sklearn.tree._classes.{name}"
    for name in (
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
    )
)
# Ensembles that hand their own validated X to their trees without the trees
# checking it again (``check_input=False`` or ``predict_stages``).
_FOREST = "sklearn.ensemble._forest"
_GRADIENT_BOOSTING = frozenset(
    f"sklearn.ensemble._gb.{name}"
    for name in ("GradientBoostingClassifier", "GradientBoostingRegressor")
)
_TREE_ENSEMBLES = (
    frozenset(
        f"{_FOREST}.{name}"
        for name in (
            "RandomForestClassifier",
            "RandomForestRegressor",
            "ExtraTreesClassifier",
            "ExtraTreesRegressor",
            "RandomTreesEmbedding",
        )
    )
    | _GRADIENT_BOOSTING
    | {"sklearn.ensemble._iforest.IsolationForest"}
)
_HIST_GRADIENT_BOOSTING = frozenset(
    f"sklearn.ensemble._hist_gradient_boosting.gradient_boosting.{name}"
    for name in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")
)
_MULTINOMIAL_LOSS = "sklearn._loss.loss.HalfMultinomialLoss"
_DUMMY_CLASSIFIER = "sklearn.dummy.DummyClassifier"
_LITERAL_KINDS = frozenset(
    {"JsonNode", "NdArrayNode", "ListNode", "TupleNode", "DictNode", "TypeNode"}
)


class CraftedStateError(Exception):
    """A trusted type's state would make native code leave its arrays."""

    def __init__(self, node: Node, found: str, expected: str) -> None:
        super().__init__(f"{node.full_name} at {node.path()}: {found}")
        self.where = f"the {node.name} at {node.path()}"
        self.found = found
        self.expected = expected


def _literal(node: Node | None) -> Any:
    """Build a node made only of JSON values, ``.npy`` arrays and builtin types."""
    if node is None:
        return None
    for part in nodes(node):
        if part.loader not in _LITERAL_KINDS or (
            part.loader == "NdArrayNode" and part.parts["type"] != "numpy"
        ):
            raise CraftedStateError(node, f"a {part.full_name}", "numbers and arrays")
    return build(node)


def _attributes(owner: Node) -> dict[str, Node]:
    """Return the attribute nodes of an object by name (empty if it has none)."""
    content = owner.parts.get("content")
    if isinstance(content, Node) and content.loader == "DictNode":
        attributes: dict[str, Node] = content.parts["content"]
        return attributes
    return {}


def _owners(node: Node) -> list[tuple[Node, str]]:
    """Return the objects holding a node as an attribute, through lists and arrays."""
    found: list[tuple[Node, str]] = []
    stack = list(node.parents)
    seen: set[int] = set()
    while stack:
        parent, label = stack.pop()
        if id(parent) in seen:
            continue
        seen.add(id(parent))
        if parent.loader == "DictNode" and label:
            found.extend((holder, label) for holder, _ in parent.parents)
        elif parent.loader in ("ListNode", "TupleNode", "NdArrayNode"):
            stack.extend(parent.parents)
    return found


def _integer(node: Node, value: Any, what: str, *, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise CraftedStateError(node, f"{what} {value!r}", f"an int >= {minimum}")
    return value


def _array(node: Node, value: Any, what: str, ndim: int) -> Any:
    import numpy as np

    if not isinstance(value, np.ndarray) or value.ndim != ndim:
        raise CraftedStateError(node, f"{what} {value!r:.80}", f"a {ndim}-D array")
    return value


def _field(node: Node, nodes_array: Any, name: str) -> Any:
    import numpy as np

    try:
        return nodes_array[name].astype(np.int64)
    except (KeyError, IndexError, ValueError, TypeError) as error:
        raise CraftedStateError(
            node, f"a node array without an integer {name!r}", "sklearn's node dtype"
        ) from error


def _check_children(
    node: Node, left: Any, right: Any, is_internal: Any, count: int
) -> None:
    """Children of internal nodes come after them, inside the array, once each."""
    import numpy as np

    index = np.arange(count)
    children = np.concatenate([left[is_internal], right[is_internal]])
    ok = (
        bool(np.all(left[is_internal] > index[is_internal]))
        and bool(np.all(right[is_internal] > index[is_internal]))
        and bool(np.all(children < count))
        and len(np.unique(children)) == len(children)
    )
    if not ok:
        raise CraftedStateError(
            node,
            "node indices out of range",
            f"children after their parent and below {count}, each node reached once",
        )


def _check_features(node: Node, feature: Any, is_internal: Any, limit: int) -> None:
    import numpy as np

    used = feature[is_internal]
    if len(used) and not (bool(np.all(used >= 0)) and int(used.max()) < limit):
        raise CraftedStateError(
            node,
            f"split feature {int(used.max())} or {int(used.min())}",
            f"feature indices in [0, {limit})",
        )


def _n_features_in(node: Node, owner: Node) -> int:
    value = _literal(_attributes(owner).get("n_features_in_"))
    return _integer(node, value, f"n_features_in_ of {owner.name}", minimum=1)


def _check_tree(node: Node, trusted_by_name: bool) -> None:
    import numpy as np

    args = _literal(node.parts["args"])
    if not isinstance(args, tuple | list) or len(args) != 3:
        raise CraftedStateError(node, f"arguments {args!r:.80}", "3 arguments")
    n_features = _integer(node, args[0], "n_features", minimum=1)
    n_outputs = _integer(node, args[2], "n_outputs", minimum=1)
    n_classes = _array(node, args[1], "n_classes", 1)
    if (
        n_classes.dtype.kind not in "iu"
        or n_classes.shape != (n_outputs,)
        or int(n_classes.min()) < 1
    ):
        raise CraftedStateError(node, "n_classes", f"{n_outputs} class counts >= 1")
    state = _literal(node.parts["content"])
    if not isinstance(state, dict):
        raise CraftedStateError(node, "a state that is not a dict", "a dict")
    node_array = _array(node, state.get("nodes"), "nodes", 1)
    count = len(node_array)
    _integer(node, state.get("node_count"), "node_count", minimum=count)
    if state["node_count"] != count or count == 0:
        raise CraftedStateError(node, f"node_count {count}", "the nodes' length")
    _integer(node, state.get("max_depth"), "max_depth")
    values = _array(node, state.get("values"), "values", 3)
    expected = (count, n_outputs, int(n_classes.max()))
    if values.shape != expected or values.dtype.kind != "f":
        raise CraftedStateError(node, f"values of shape {values.shape}", str(expected))
    left = _field(node, node_array, "left_child")
    right = _field(node, node_array, "right_child")
    is_leaf = left == -1
    if not bool(np.all(is_leaf == (right == -1))):
        raise CraftedStateError(node, "a node with one child", "zero or two children")
    is_internal = ~is_leaf
    _check_children(node, left, right, is_internal, count)
    feature = _field(node, node_array, "feature")
    limit = n_features
    owners = [owner for owner, name in _owners(node) if name == "tree_"]
    known = [owner for owner in owners if owner.full_name in _TREE_ESTIMATORS]
    if not trusted_by_name and (not owners or len(known) != len(owners)):
        raise CraftedStateError(
            node, "a Tree outside a scikit-learn tree estimator", "a tree_"
        )
    for owner in known:
        limit = min(limit, _n_features_in(node, owner))
        for ensemble, name in _owners(owner):
            if name == "estimators_" and ensemble.full_name in _TREE_ENSEMBLES:
                limit = min(limit, _check_ensemble(node, ensemble))
    _check_features(node, feature, is_internal, limit)


def _check_ensemble(node: Node, ensemble: Node) -> int:
    """Return the narrowest X an ensemble gives its trees; check its stage width."""
    limit = _n_features_in(node, ensemble)
    attributes = _attributes(ensemble)
    if "estimators_features_" in attributes:  # IsolationForest subsamples columns
        subsets = _literal(attributes["estimators_features_"])
        if not isinstance(subsets, list) or not subsets:
            raise CraftedStateError(node, "estimators_features_", "one array per tree")
        limit = min(limit, *(len(subset) for subset in subsets))
    if ensemble.full_name in _GRADIENT_BOOSTING:
        _check_stages(node, ensemble, attributes)
    return limit


def _check_stages(node: Node, ensemble: Node, attributes: dict[str, Node]) -> None:
    """``predict_stages`` writes column k < K of the init's raw predictions."""
    # The tree sits in estimators_, a list or an array of rows, and numpy builds
    # the 2-D array from the rows (not from the stored shape): K is a row's length.
    # Ragged rows make no 2-D array, and deeper nesting no 2-D memoryview.
    rows = attributes["estimators_"].parts["content"]
    widths = {
        len(row.parts["content"]) if isinstance(row.parts.get("content"), list) else 1
        for row in rows
    }
    stages = max(widths)
    if stages == 1:
        return
    init = attributes.get("init_")
    per_iteration = _literal(attributes.get("n_trees_per_iteration_"))
    if init is not None and init.loader == "JsonNode":
        if _literal(init) == "zero" and per_iteration == stages:
            return
    elif init is not None and init.full_name == _DUMMY_CLASSIFIER:
        prior = _literal(_attributes(init).get("class_prior_"))
        n_classes = _literal(_attributes(init).get("n_classes_"))
        loss = attributes.get("_loss")
        if (
            getattr(prior, "shape", None) == (stages,)
            and n_classes == stages
            and loss is not None
            and loss.full_name == _MULTINOMIAL_LOSS
        ):
            return
    raise CraftedStateError(
        node,
        f"{stages} trees per stage",
        "as many columns as the init estimator predicts",
    )


def _check_tree_predictor(node: Node, trusted_by_name: bool) -> None:
    import numpy as np

    attributes = _attributes(node)
    node_array = _array(node, _literal(attributes.get("nodes")), "nodes", 1)
    count = len(node_array)
    if count == 0:
        raise CraftedStateError(node, "no nodes", "at least one node")
    bitsets = [
        _array(node, _literal(attributes.get(name)), name, 2)
        for name in ("binned_left_cat_bitsets", "raw_left_cat_bitsets")
    ]
    if any(b.shape[1:] != (8,) or b.dtype != np.uint32 for b in bitsets) or (
        bitsets[0].shape != bitsets[1].shape
    ):
        raise CraftedStateError(node, "bitsets", "two uint32 arrays of shape (k, 8)")
    is_internal = _field(node, node_array, "is_leaf") == 0
    left = _field(node, node_array, "left")
    right = _field(node, node_array, "right")
    _check_children(node, left, right, is_internal, count)
    is_categorical = is_internal & (_field(node, node_array, "is_categorical") != 0)
    feature = _field(node, node_array, "feature_idx")
    owners = [owner for owner, name in _owners(node) if name == "_predictors"]
    known = [owner for owner in owners if owner.full_name in _HIST_GRADIENT_BOOSTING]
    if not trusted_by_name:
        if not owners or len(known) != len(owners):
            raise CraftedStateError(
                node, "a TreePredictor outside HistGradientBoosting", "_predictors"
            )
        if bool(is_categorical.any()) or any(
            _literal_or_none(_attributes(owner).get("_preprocessor")) is not None
            for owner in known
        ):
            # Categorical splits read bitsets built from the bin mapper, and a
            # preprocessor decides the width of X: trusted only by name.
            raise CraftedStateError(
                node,
                "categorical features",
                "numeric features only, unless the caller trusts TreePredictor",
            )
    bitset_index = _field(node, node_array, "bitset_idx")[is_categorical]
    if len(bitset_index) and int(bitset_index.max()) >= len(bitsets[0]):
        raise CraftedStateError(node, "a bitset index", f"below {len(bitsets[0])}")
    limits = [_n_features(node, owner) for owner in known]
    if not trusted_by_name:
        limits += [_n_features_in(node, owner) for owner in known]
    if limits:
        _check_features(node, feature, is_internal, min(limits))


def _n_features(node: Node, owner: Node) -> int:
    value = _literal(_attributes(owner).get("_n_features"))
    return _integer(node, value, f"_n_features of {owner.name}", minimum=1)


_METRICS = frozenset(
    f"sklearn.metrics._dist_metrics.{name}Distance64"
    for name in ("Euclidean", "Manhattan", "Chebyshev", "Minkowski")
)
# BinaryTree.__getstate__: data, idx_array, node_data, node_bounds, leaf_size,
# n_levels, n_nodes, n_trims, n_leaves, n_splits, n_calls, dist_metric, weights.
_TREE_STATE_LENGTH = 13
_BOUNDS_ROWS = {
    "sklearn.neighbors._kd_tree.KDTree": 2,  # lower and upper corners
    "sklearn.neighbors._ball_tree.BallTree": 1,  # centroids
}


def _check_binary_tree(node: Node, trusted_by_name: bool) -> None:
    import numpy as np

    content = node.parts["content"]
    items = content.parts.get("content") if content is not None else None
    if not isinstance(items, list) or len(items) != _TREE_STATE_LENGTH:
        raise CraftedStateError(node, "a state of another shape", "13 values")
    metric = items[11]
    if metric.full_name not in _METRICS:
        raise CraftedStateError(
            node, f"a {metric.full_name}", "a distance metric without matrices"
        )
    data = _array(node, _literal(items[0]), "data", 2)
    n_samples, n_features = data.shape
    index = _array(node, _literal(items[1]), "idx_array", 1)
    if index.dtype.kind not in "iu" or not np.array_equal(
        np.sort(index), np.arange(n_samples)
    ):
        raise CraftedStateError(node, "idx_array", "a permutation of the data rows")
    nodes_array = _array(node, _literal(items[2]), "node_data", 1)
    count = _integer(node, _literal(items[6]), "n_nodes", minimum=1)
    bounds = _array(node, _literal(items[3]), "node_bounds", 3)
    if len(nodes_array) != count or bounds.shape != (
        _BOUNDS_ROWS[node.full_name],
        count,
        n_features,
    ):
        raise CraftedStateError(
            node, f"n_nodes {count}", "as many as the node data and bounds hold"
        )
    start = _field(node, nodes_array, "idx_start")
    end = _field(node, nodes_array, "idx_end")
    inner = np.flatnonzero(_field(node, nodes_array, "is_leaf") == 0)
    left, right = 2 * inner + 1, 2 * inner + 2
    ok = (
        start[0] == 0
        and end[0] == n_samples
        and bool(np.all((start >= 0) & (start <= end) & (end <= n_samples)))
        and bool(np.all(right < count))
    )
    if ok and len(inner):
        ok = (
            bool(np.all(start[left] == start[inner]))
            and bool(np.all(end[left] == start[right]))
            and bool(np.all(end[right] == end[inner]))
        )
    if not ok:
        raise CraftedStateError(
            node,
            "node ranges out of order",
            "each inner node's rows split between its two children",
        )
    weights = _literal(items[12])
    if weights is not None and getattr(weights, "shape", None) != (n_samples,):
        raise CraftedStateError(node, "sample weights", f"{n_samples} weights")
    _check_metric(metric, n_features)


def _check_metric(node: Node, n_features: int | None) -> None:
    """Check that a metric's weights (Minkowski's ``w``) cover the data's columns."""
    content = node.parts["content"]
    state = _literal(content) if content is not None else None
    if not isinstance(state, tuple | list) or len(state) != 3:
        raise CraftedStateError(node, "a state of another shape", "(p, vec, mat)")
    p, vec, _ = state
    if not isinstance(p, float | int) or not p >= 1:
        raise CraftedStateError(node, f"p {p!r}", "a number >= 1")
    vec = _array(node, vec, "vec", 1)
    weighted = node.name == "MinkowskiDistance64" and len(vec) > 0
    if weighted and n_features is not None and len(vec) != n_features:
        raise CraftedStateError(node, f"{len(vec)} weights", f"{n_features}")


def _check_metric_alone(node: Node, trusted_by_name: bool) -> None:
    # Inside a search tree, the tree's check knows the data's columns as well.
    _check_metric(node, None)


def _literal_or_none(node: Node | None) -> Any:
    """``None`` for a missing or null attribute, else the node itself."""
    if node is None or (node.loader == "JsonNode" and node.parts["literal"] == "null"):
        return None
    return node


def _check_dtype(node: Node, trusted_by_name: bool) -> None:
    content = node.parts["content"]
    if content.loader != "NdArrayNode" or content.parts["type"] != "numpy":
        raise CraftedStateError(node, f"a {content.full_name}", "an .npy array")


def _check_numbers_and_arrays(node: Node, trusted_by_name: bool) -> None:
    content = node.parts["content"]
    if content is not None:
        _literal(content)


_CALIBRATED_ATTRIBUTES = frozenset({"estimator", "calibrators", "classes", "method"})


def _check_calibrated_classifier(node: Node, trusted_by_name: bool) -> None:
    attributes = _attributes(node)
    method = _literal(attributes.get("method"))
    if not set(attributes) <= _CALIBRATED_ATTRIBUTES or not isinstance(method, str):
        raise CraftedStateError(
            node,
            f"attributes {sorted(attributes)}",
            "estimator, calibrators, classes and a method name",
        )
    _literal(attributes.get("classes"))


def _check_passthrough_scorer(node: Node, trusted_by_name: bool) -> None:
    attributes = _attributes(node)
    estimator = attributes.get("_estimator")
    if estimator is None or set(attributes) != {"_estimator"}:
        raise CraftedStateError(
            node, f"attributes {sorted(attributes)}", "the one attribute _estimator"
        )
    if estimator.loader != "ObjectNode":
        raise CraftedStateError(
            node, f"a {estimator.full_name} as _estimator", "an estimator"
        )


_CHECKS: dict[tuple[str, str], Callable[[Node, bool], None]] = {
    ("TreeNode", TREE): _check_tree,
    **{("ObjectNode", name): _check_binary_tree for name in _BOUNDS_ROWS},
    **{("ObjectNode", name): _check_metric_alone for name in _METRICS},
    ("ObjectNode", TREE_PREDICTOR): _check_tree_predictor,
    ("DTypeNode", "numpy.dtype"): _check_dtype,
    (
        "ObjectNode",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    ): _check_numbers_and_arrays,
    (
        "ObjectNode",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    ): _check_numbers_and_arrays,
    (
        "ObjectNode",
        "sklearn.calibration._SigmoidCalibration",
    ): _check_numbers_and_arrays,
    (
        "ObjectNode",
        "sklearn.calibration._TemperatureScaling",
    ): _check_numbers_and_arrays,
    (
        "ObjectNode",
        "sklearn.calibration._CalibratedClassifier",
    ): _check_calibrated_classifier,
    **{
        ("ObjectNode", f"sklearn.model_selection._split.{name}"): (
            _check_numbers_and_arrays
        )
        for name in SPLITTERS
    },
    ("ObjectNode", "sklearn.metrics._scorer._PassthroughScorer"): (
        _check_passthrough_scorer
    ),
}


def check_state(root: Node, trusted_names: frozenset[str] | bool) -> None:
    """Check every node of a type mltrail trusts beyond skops.

    ``trusted_names`` is what the caller trusted (``True`` for everything): a type
    named there still gets the checks of its own arrays, but not the rules about
    where it may sit in the model.
    """
    for node in nodes(root):
        check = _CHECKS.get((node.loader, node.full_name))
        if check is not None:
            trusted_by_name = trusted_names is True or (
                not isinstance(trusted_names, bool) and node.full_name in trusted_names
            )
            check(node, trusted_by_name)
