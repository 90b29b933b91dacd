"""``PandasDataset`` and ``NumpyDataset``: a dataset, its fingerprint and profile.

Both describe their data with ``capture._datasets.describe_dataset``, the function
autolog uses, so the digest, schema and profile of a dataset logged by hand equal
those autolog logs for the same ``X`` and ``y``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mltrail._entities import Dataset, DatasetInput, InputTag
from mltrail._errors import InvalidValueError
from mltrail._system_tags import DATASET_CONTEXT_TAG

if TYPE_CHECKING:
    from mltrail.capture._datasets import DatasetDescription
    from mltrail.models import Schema

__all__ = ["NumpyDataset", "PandasDataset", "from_numpy", "from_pandas"]

DEFAULT_NAME = "dataset"
CODE_SOURCE_TYPE = "code"


class _TrackedDataset:
    """What both kinds of dataset share: the description and MLflow's fields."""

    _description: DatasetDescription
    _source_type: str
    _source: str

    def _describe(
        self,
        X: Any,
        y: Any,
        *,
        name: str | None,
        source: str | None,
        digest: str | None,
    ) -> None:
        from mltrail.capture._datasets import describe_dataset
        from mltrail.tracking._context import system_tags

        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidValueError(
                "dataset name", name, "a non-empty str", "Pass name='train'."
            )
        if source is not None and not isinstance(source, str):
            raise InvalidValueError(
                "dataset source",
                source,
                "a path or URI (str)",
                "Pass source='data/train.csv', or omit it.",
            )
        # Without a source, MLflow records the code that built the dataset.
        description = describe_dataset(
            X,
            y,
            name=name or DEFAULT_NAME,
            context="",
            source_tags=system_tags() if source is None else None,
        )
        if digest is not None:
            from dataclasses import replace

            description = replace(description, digest=str(digest))
        self._description = description
        if source is None:
            self._source_type, self._source = CODE_SOURCE_TYPE, description.source
        else:
            self._source_type = _source_type(source)
            # MLflow's HTTP source names its location "url", the others "uri".
            key = "url" if self._source_type == "http" else "uri"
            self._source = json.dumps({key: source})

    @property
    def name(self) -> str:
        """The dataset's name, such as ``"train"``; ``"dataset"`` when not given."""
        return self._description.name

    @property
    def digest(self) -> str:
        """A fingerprint of the whole content (32 hexadecimal characters)."""
        return self._description.digest

    @property
    def source_type(self) -> str:
        """``"code"`` without a source, else ``"local"``, ``"http"``, ``"s3"``..."""
        return self._source_type

    @property
    def source(self) -> dict[str, Any]:
        """Where the data comes from, as MLflow stores it: ``{"uri": ...}``.

        An HTTP source is ``{"url": ...}``, code is ``{"tags": {...}}``.
        """
        value: dict[str, Any] = json.loads(self._source)
        return value

    @property
    def profile(self) -> dict[str, Any]:
        """The counts MLflow records (``num_rows``...), plus per-column statistics."""
        value: dict[str, Any] = json.loads(self._description.profile)
        return value

    def to_dict(self) -> dict[str, str]:
        """Return MLflow's dict form: every field as a str, JSON where structured.

        Returns
        -------
        dict of str to str
            ``name``, ``digest``, ``source``, ``source_type``, ``schema``,
            ``profile``.
        """
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self._source,
            "source_type": self._source_type,
            "schema": self._description.schema,
            "profile": self._description.profile,
        }

    def to_json(self) -> str:
        """Return ``to_dict()`` as JSON.

        Returns
        -------
        str
            The JSON text.
        """
        return json.dumps(self.to_dict())

    def _to_mlflow_entity(self) -> Dataset:
        """Return the record a run stores, as MLflow's method of this name does."""
        return Dataset(
            name=self.name,
            digest=self.digest,
            source_type=self._source_type,
            source=self._source,
            schema=self._description.schema,
            profile=self._description.profile,
        )

    def to_dataset_input(
        self, context: str | None = None, tags: dict[str, str] | None = None
    ) -> DatasetInput:
        """Return the run input that ``log_input`` records.

        Parameters
        ----------
        context : str or None, default=None
            How the run uses the dataset, such as ``"training"``; stored as the
            input tag ``mlflow.data.context``.
        tags : dict of str to str or None, default=None
            More input tags.

        Returns
        -------
        DatasetInput
            The dataset with its input tags.
        """
        input_tags = [InputTag(str(k), str(v)) for k, v in (tags or {}).items()]
        if context is not None:
            input_tags.append(InputTag(DATASET_CONTEXT_TAG, str(context)))
        return DatasetInput(self._to_mlflow_entity(), input_tags)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, digest={self.digest!r}, "
            f"source_type={self._source_type!r})"
        )


class PandasDataset(_TrackedDataset):
    """A DataFrame as a dataset, with its target and prediction columns named.

    Build it with ``from_pandas``.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    targets : str or None, default=None
        The column that holds the labels.
    predictions : str or None, default=None
        The column that holds a model's predictions.
    name : str or None, default=None
        The dataset's name; None for ``"dataset"``.
    source : str or None, default=None
        Where the data comes from (a path or URI); None records the code.
    digest : str or None, default=None
        A fingerprint to use instead of the computed one.

    Examples
    --------
    >>> import pandas as pd
    >>> from mltrail.data import PandasDataset
    >>> df = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    >>> PandasDataset(df, targets="y", name="train").targets
    'y'
    """

    def __init__(
        self,
        df: Any,
        targets: str | None = None,
        predictions: str | None = None,
        name: str | None = None,
        source: str | None = None,
        digest: str | None = None,
    ) -> None:
        import pandas as pd

        if not isinstance(df, pd.DataFrame):
            raise InvalidValueError(
                "df", df, "a pandas DataFrame", "Use from_numpy for arrays."
            )
        for role, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in df.columns:
                raise InvalidValueError(
                    role,
                    column,
                    f"a column of the DataFrame ({', '.join(map(str, df.columns))})",
                    f"Pass {role}= one of the DataFrame's columns.",
                )
        self.df = df
        self.targets = targets
        self.predictions = predictions
        X = df.drop(columns=[c for c in (targets, predictions) if c is not None])
        self._describe(
            X,
            None if targets is None else df[targets],
            name=name,
            source=source,
            digest=digest,
        )

    @property
    def features(self) -> Any:
        """The DataFrame without its target and prediction columns."""
        return self.df.drop(
            columns=[c for c in (self.targets, self.predictions) if c is not None]
        )

    @property
    def schema(self) -> Schema:
        """The schema of the DataFrame's columns, as a model signature has it."""
        from mltrail.models import infer_schema

        return infer_schema(self.df)


class NumpyDataset(_TrackedDataset):
    """An array of features, and optionally of targets, as a dataset.

    Build it with ``from_numpy``.

    Parameters
    ----------
    features : numpy.ndarray
        The features.
    targets : numpy.ndarray or None, default=None
        The labels.
    name : str or None, default=None
        The dataset's name; None for ``"dataset"``.
    source : str or None, default=None
        Where the data comes from (a path or URI); None records the code.
    digest : str or None, default=None
        A fingerprint to use instead of the computed one.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.data import NumpyDataset
    >>> NumpyDataset(np.zeros((3, 2)), name="eval").profile["features_shape"]
    [3, 2]
    """

    def __init__(
        self,
        features: Any,
        targets: Any = None,
        name: str | None = None,
        source: str | None = None,
        digest: str | None = None,
    ) -> None:
        import numpy as np

        self.features = np.asarray(features)
        self.targets = None if targets is None else np.asarray(targets)
        self._describe(
            self.features, self.targets, name=name, source=source, digest=digest
        )

    @property
    def schema(self) -> Schema:
        """The schema of the features, as a model signature has it."""
        from mltrail.models import infer_schema

        return infer_schema(self.features)


def from_pandas(
    df: Any,
    source: str | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """Describe a DataFrame as a dataset, as ``mlflow.data.from_pandas`` does.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    source : str or None, default=None
        Where the data comes from (a path or URI); None records the code that
        built it, as MLflow does.
    targets : str or None, default=None
        The column that holds the labels.
    name : str or None, default=None
        The dataset's name; None for ``"dataset"``.
    digest : str or None, default=None
        A fingerprint to use instead of the computed one.
    predictions : str or None, default=None
        The column that holds a model's predictions.

    Returns
    -------
    PandasDataset
        The dataset; log it with ``mltrail.log_input(dataset, context=...)``.

    Raises
    ------
    InvalidValueError
        If ``df`` is not a DataFrame or ``targets`` is not one of its columns.

    Examples
    --------
    >>> import mltrail
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 1]})
    >>> dataset = mltrail.data.from_pandas(df, targets="label", name="train")
    >>> dataset.name, dataset.profile["num_rows"]
    ('train', 3)
    """
    return PandasDataset(
        df,
        targets=targets,
        predictions=predictions,
        name=name,
        source=source,
        digest=digest,
    )


def from_numpy(
    features: Any,
    source: str | None = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """Describe arrays as a dataset, as ``mlflow.data.from_numpy`` does.

    Parameters
    ----------
    features : array-like
        The features.
    source : str or None, default=None
        Where the data comes from (a path or URI); None records the code that
        built it, as MLflow does.
    targets : array-like or None, default=None
        The labels.
    name : str or None, default=None
        The dataset's name; None for ``"dataset"``.
    digest : str or None, default=None
        A fingerprint to use instead of the computed one.

    Returns
    -------
    NumpyDataset
        The dataset; log it with ``mltrail.log_input(dataset, context=...)``.

    Examples
    --------
    >>> import mltrail
    >>> import numpy as np
    >>> dataset = mltrail.data.from_numpy(np.ones((4, 2)), targets=np.arange(4),
    ...                                   source="data/train.npy")
    >>> dataset.source, dataset.source_type
    ({'uri': 'data/train.npy'}, 'local')
    """
    return NumpyDataset(
        features, targets=targets, name=name, source=source, digest=digest
    )


def _source_type(uri: str) -> str:
    """Return MLflow's source type for a path or URI: ``local``, ``http``, ``s3``..."""
    scheme = urlparse(uri).scheme
    if scheme in ("", "file") or len(scheme) == 1:  # one letter: a Windows drive
        return "local"
    return "http" if scheme in ("http", "https") else scheme
