"""The ``MLmodel`` file as an object: ``mltrail.models.Model``, MLflow's ``Model``.

It reads and writes the YAML that names a model directory's flavors, signature and
metadata, keeping every key it does not know, so a file written by MLflow reads
back and writes out the same.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.models._signature import ModelSignature, Schema

__all__ = ["MLMODEL_FILE", "Model", "read_mlmodel", "read_text"]

MLMODEL_FILE = "MLmodel"
# Keys written only when set, as MLflow leaves them out when they are unknown.
_OPTIONAL_KEYS = (
    "artifact_path",
    "run_id",
    "mlflow_version",
    "metadata",
    "model_size_bytes",
    "model_id",
    "saved_input_example_info",
)
_NEW_UUID: Any = object()


def read_text(path: Path) -> str:
    """Read a model file as UTF-8, with mltrail's error when it cannot be read."""
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidValueError(
            "model file", str(path), "UTF-8 text", "The file is corrupt."
        ) from error
    except OSError as error:
        raise InvalidValueError(
            "model file",
            str(path),
            "a file this process can read",
            f"Reading it failed: {error.strerror or error}.",
        ) from error


def read_mlmodel(path: Path, shown: str = "") -> dict[str, Any]:
    """Parse an ``MLmodel`` file into a dict whose ``flavors`` map to dicts."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        content = yaml.load(read_text(path), Loader=loader)  # noqa: S506 - safe
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        content = f"text that is not YAML{where}"
    flavors = content.get("flavors") if isinstance(content, Mapping) else None
    if not isinstance(flavors, Mapping) or not all(
        value is None or isinstance(value, Mapping) for value in flavors.values()
    ):
        raise InvalidValueError(
            f"{MLMODEL_FILE} of {shown or str(path.parent)!r}",
            content,
            "a YAML mapping with a 'flavors' mapping of mappings",
        )
    result = {str(key): value for key, value in dict(content).items()}
    result["flavors"] = {str(k): dict(v or {}) for k, v in flavors.items()}
    return result


class Model:
    """An ``MLmodel`` file: the flavors, signature and metadata of a model directory.

    The same class as MLflow's ``mlflow.models.Model``: ``Model.load`` reads the
    file of a model directory (or a ``runs:/`` or ``models:/`` URI), ``save``
    writes it, and keys that mltrail does not use are kept as attributes.

    Parameters
    ----------
    artifact_path : str or None, default=None
        Where the model is in its run's artifacts.
    run_id : str or None, default=None
        The run the model was logged to.
    utc_time_created : str or None, default=None
        When it was saved, naive UTC; now when None.
    flavors : dict or None, default=None
        The flavors, by name (``python_function``, ``sklearn``).
    signature : ModelSignature or None, default=None
        The input and output schemas.
    saved_input_example_info : dict or None, default=None
        Where the input example is, and its type.
    model_uuid : str or None, default=a new random hex id
        The model's id in the file.
    mlflow_version : str or None, default=None
        The MLflow version that wrote the file; None for mltrail's own.
    metadata : dict or None, default=None
        Free-form metadata.
    model_size_bytes : int or None, default=None
        The size of the serialized model and example files.
    model_id : str or None, default=None
        The logged model (``m-<hex>``) this directory belongs to.
    **kwargs
        Other keys of the file, kept as attributes (``mltrail_version``...).

    Examples
    --------
    >>> from mltrail.models import Model
    >>> model = Model(run_id="a" * 32, artifact_path="model").add_flavor(
    ...     "sklearn", pickled_model="model.skops", serialization_format="skops"
    ... )
    >>> model.save("MLmodel")
    >>> Model.load("MLmodel").flavors["sklearn"]["serialization_format"]
    'skops'
    """

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, dict[str, Any]] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | None = _NEW_UUID,
        mlflow_version: str | None = None,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        model_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = str(
            utc_time_created or datetime.now(UTC).replace(tzinfo=None)
        )
        self.flavors: dict[str, dict[str, Any]] = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = uuid.uuid4().hex if model_uuid is _NEW_UUID else model_uuid
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.model_id = model_id
        self.__dict__.update(kwargs)
        self._kept_nulls: frozenset[str] = frozenset()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self._public() == other._public()

    def __getattr__(self, name: str) -> Any:
        # Only reached for a missing attribute: the keys of a file are attributes
        # (``mltrail_version``), so type checkers must accept any name.
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def _public(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def __repr__(self) -> str:
        flavors = ", ".join(self.flavors)
        return f"Model(flavors=[{flavors}], run_id={self.run_id!r})"

    def add_flavor(self, name: str, **params: Any) -> Model:
        """Add or replace a flavor and return the model, as MLflow does.

        Parameters
        ----------
        name : str
            The flavor name, such as ``"sklearn"``.
        **params
            The flavor's configuration.

        Returns
        -------
        Model
            This model.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model().add_flavor("sklearn", pickled_model="model.pkl").flavors
        {'sklearn': {'pickled_model': 'model.pkl'}}
        """
        self.flavors[name] = params
        return self

    def get_input_schema(self) -> Schema | None:
        """Return the input schema, or None without a signature.

        Returns
        -------
        Schema or None
            ``signature.inputs``.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model().get_input_schema() is None
        True
        """
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Schema | None:
        """Return the output schema, or None without a signature.

        Returns
        -------
        Schema or None
            ``signature.outputs``.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model().get_output_schema() is None
        True
        """
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> None:
        """Return the inference params schema: scikit-learn models have none.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model().get_params_schema() is None
        True
        """
        return None

    def load_input_example(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Return the saved input example as a DataFrame or an array, or None.

        Parameters
        ----------
        path : str or path or None, default=None
            The model directory or URI; None for this model's ``models:/`` or
            ``runs:/`` URI.

        Returns
        -------
        DataFrame, ndarray or None
            The example; None when the model was saved without one.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> import mltrail
        >>> from mltrail.models import Model
        >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
        >>> estimator = LinearRegression().fit(X, [0, 1, 2])
        >>> _ = mltrail.sklearn.save_model(estimator, "line", input_example=X)
        >>> Model.load("line").load_input_example("line")["x"].tolist()
        [0.0, 1.0, 2.0]
        """
        from mltrail.models._example import load_input_example
        from mltrail.models._model import resolve_model_uri

        if self.saved_input_example_info is None:
            return None
        if path is None:
            path = (
                f"models:/{self.model_id}"
                if self.model_id
                else f"runs:/{self.run_id}/{self.artifact_path}"
            )
        return load_input_example(
            resolve_model_uri(path), self.saved_input_example_info
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the content of the ``MLmodel`` file.

        Returns
        -------
        dict
            MLflow's keys, unset optional ones left out, the signature as JSON
            strings, and every other key the model holds.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> sorted(Model(model_uuid="a" * 32, utc_time_created="now").to_dict())
        ['flavors', 'model_uuid', 'utc_time_created']
        """
        kept = self._kept_nulls
        result = {
            key: value
            for key, value in self._public().items()
            if not (key in _OPTIONAL_KEYS and value is None and key not in kept)
        }
        if self.signature is not None:
            result["signature"] = self.signature.to_dict()
            result.setdefault("is_signature_from_type_hint", False)
            result.setdefault("type_hint_from_example", False)
        else:
            result.pop("signature", None)
        return dict(sorted(result.items()))

    def to_yaml(self, stream: IO[str] | None = None) -> str:
        """Return the ``MLmodel`` YAML, and write it to ``stream`` when given.

        Parameters
        ----------
        stream : text file or None, default=None
            Where to write it as well.

        Returns
        -------
        str
            The YAML text.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> print(Model(model_uuid="a" * 32, utc_time_created="now").to_yaml())
        flavors: {}
        model_uuid: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        utc_time_created: now
        <BLANKLINE>
        """
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text: str = yaml.dump(
            self.to_dict(), Dumper=dumper, default_flow_style=False, sort_keys=True
        )
        if stream is not None:
            stream.write(text)
        return text

    def to_json(self) -> str:
        """Return the ``MLmodel`` content as JSON.

        Returns
        -------
        str
            ``to_dict()`` as JSON.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model(model_uuid="a" * 32, utc_time_created="now").to_json()[:14]
        '{"flavors": {}'
        """
        return json.dumps(self.to_dict())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the YAML to ``path`` (the ``MLmodel`` file itself).

        Parameters
        ----------
        path : str or path
            The file to write, usually ``<model directory>/MLmodel``.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model().save("MLmodel")
        """
        with open(path, "w", encoding="utf-8") as file:
            self.to_yaml(file)

    @classmethod
    def from_dict(cls, model_dict: Mapping[str, Any]) -> Model:
        """Build a model from the content of an ``MLmodel`` file.

        Parameters
        ----------
        model_dict : mapping
            As ``to_dict`` returns it, or as read from YAML.

        Returns
        -------
        Model
            The model; unknown keys become attributes.

        Raises
        ------
        InvalidValueError
            If the signature does not parse.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model.from_dict({"flavors": {}, "run_id": "r"}).run_id
        'r'
        """
        content = {str(key): value for key, value in model_dict.items()}
        signature = content.get("signature")
        content["signature"] = (
            ModelSignature.from_dict(signature)
            if isinstance(signature, Mapping)
            else None
        )
        content.setdefault("model_uuid", None)
        content.setdefault("flavors", {})
        model = cls(**content)
        # A null the file holds (MLflow writes model_id: null) is written back.
        model._kept_nulls = frozenset(
            key for key in _OPTIONAL_KEYS if key in content and content[key] is None
        )
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read the ``MLmodel`` of a model directory, a model URI or the file itself.

        Parameters
        ----------
        path : str or path
            A model directory, its ``MLmodel`` file, a ``file://``, ``runs:/`` or
            ``models:/`` URI.

        Returns
        -------
        Model
            What the file says.

        Raises
        ------
        NotFoundError
            If there is no ``MLmodel`` there.
        InvalidValueError
            If the file is not a valid ``MLmodel``.

        Examples
        --------
        >>> from mltrail.models import Model
        >>> Model().add_flavor("sklearn").save("MLmodel")
        >>> list(Model.load(".").flavors)
        ['sklearn']
        """
        from mltrail.models._model import resolve_model_uri

        text = os.fspath(path) if isinstance(path, str | os.PathLike) else path
        if isinstance(text, str) and Path(text).name == MLMODEL_FILE:
            file = Path(text)
        else:
            file = resolve_model_uri(path) / MLMODEL_FILE
        if not file.is_file():
            raise NotFoundError(
                "model",
                str(path),
                f"No {MLMODEL_FILE} file there. Pass a directory written by "
                "save_model, or a runs:/ or models:/ URI.",
            )
        return cls.from_dict(read_mlmodel(file, str(path)))
