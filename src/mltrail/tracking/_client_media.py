"""``TrackingClient`` methods for tables and images, in MLflow's artifact formats.

A table is a JSON artifact in pandas' ``split`` orientation (``{"columns": [...],
"data": [[...]]}``) listed in the run's ``mlflow.loggedArtifacts`` tag, so MLflow's
``load_table`` reads it. An image is a PNG file; an image logged under a key and
step gets MLflow 3's file names under ``images/`` and the ``mlflow.loggedImages``
tag. pandas, numpy and Pillow load inside the methods.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import warnings
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mltrail._errors import InvalidValueError, MltrailWarning, NotFoundError
from mltrail.tracking._client_base import ClientBase, now_ms, to_str

if TYPE_CHECKING:
    import pandas

    from mltrail.store._base import ArtifactStore

__all__ = ["LOGGED_ARTIFACTS_TAG", "LOGGED_IMAGES_TAG", "MediaMixin"]

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
LOGGED_IMAGES_TAG = "mlflow.loggedImages"
# MLflow refuses these in a table's file name: they would break its tag search.
_TABLE_FORBIDDEN = ('"', "'", ",", ":", "[", "]", "{", "}")
_IMAGE_KEY = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")
_COMPRESSED_SIZE = 256  # MLflow's thumbnail: the longer side, in pixels
_IMAGE_KINDS = {"b": "bool", "i": "int", "u": "uint", "f": "float"}


class MediaMixin(ClientBase):
    """The table and image methods of ``TrackingClient``."""

    if TYPE_CHECKING:  # defined by ArtifactsMixin and RunsMixin

        def _artifacts(self, run_id: str) -> tuple[ArtifactStore, str]: ...

        def set_tag(self, run_id: str, key: str, value: object) -> None: ...

    def log_table(
        self,
        run_id: str,
        data: Mapping[str, Any] | pandas.DataFrame,
        artifact_file: str,
    ) -> None:
        """Log a table as a JSON artifact, appending to the file if it exists.

        The file is what MLflow's ``log_table`` writes, pandas' ``split``
        orientation without the index, and the run's ``mlflow.loggedArtifacts``
        tag lists it, so ``load_table`` of mltrail or MLflow finds it.

        Parameters
        ----------
        run_id : str
            The run's id.
        data : dict or pandas.DataFrame
            The table: a DataFrame, or a dict of columns (lists, or one value each
            for a one-row table).
        artifact_file : str
            The run-relative file path, ending in ``.json``.

        Raises
        ------
        InvalidValueError
            If ``data`` is not a dict or DataFrame, or ``artifact_file`` does not
            end in ``.json`` or holds a character MLflow refuses.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_table(run_id, {"inputs": ["a"], "outputs": ["b"]}, "eval.json")
        >>> client.log_table(run_id, {"inputs": ["c"], "outputs": ["d"]}, "eval.json")
        >>> client.load_table("0", "eval.json", run_ids=[run_id])["inputs"].tolist()
        ['a', 'c']
        """
        import pandas

        _check_table_file(artifact_file)
        if isinstance(data, Mapping):
            try:
                frame = pandas.DataFrame(dict(data))
            except ValueError:  # only scalars: one row, as MLflow does
                frame = pandas.DataFrame([dict(data)])
        elif isinstance(data, pandas.DataFrame):
            frame = data
        else:
            raise InvalidValueError(
                "data",
                data,
                "a dict of columns or a pandas DataFrame",
                "Pass {'column': [values, ...]}.",
            )
        store, uri = self._artifacts(run_id)
        existing = _read_table(store, uri, artifact_file)
        if existing is not None:
            frame = pandas.concat([existing, frame], ignore_index=True)
        try:
            text = frame.to_json(orient="split", index=False, date_format="iso")
        except (TypeError, ValueError, OverflowError) as error:
            raise InvalidValueError(
                "data",
                data,
                "a table of JSON-serializable values",
                f"Convert other objects to str first ({error}).",
            ) from error
        store.write_bytes(uri, artifact_file, text.encode("utf-8"))
        run = self._store.get_run(run_id)
        listed = json.loads(run.data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
        entry = {"path": artifact_file, "type": "table"}
        if entry not in listed:
            listed.append(entry)
            self.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps(listed))

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> pandas.DataFrame:
        """Load a table logged with ``log_table`` from runs of an experiment.

        Parameters
        ----------
        experiment_id : str
            The experiment whose runs are read.
        artifact_file : str
            The run-relative file path given to ``log_table``.
        run_ids : sequence of str or None, default=None
            Read only these runs; None for every run that logged the table.
        extra_columns : sequence of str or None, default=None
            Columns of ``search_runs``'s DataFrame (``"run_id"``,
            ``"params.alpha"``, ...) added to each run's rows; a name the table
            has already gets a trailing underscore.

        Returns
        -------
        pandas.DataFrame
            The rows of every run's table, one run after the other.

        Raises
        ------
        NotFoundError
            If no run of the experiment (among ``run_ids``) logged the table.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_table(run_id, {"score": [0.5]}, "scores.json")
        >>> table = client.load_table("0", "scores.json", extra_columns=["run_id"])
        >>> table["run_id"].tolist() == [run_id]
        True
        """
        import pandas

        from mltrail.tracking._fluent_search import _search_all, runs_to_frame

        _check_table_file(artifact_file)
        ids = list(run_ids or [])
        filter_string = (
            "attributes.run_id IN (" + ", ".join(repr(str(i)) for i in ids) + ")"
            if ids
            else ""
        )
        entry = {"path": artifact_file, "type": "table"}
        runs = [
            run
            for run in _search_all(
                self,  # type: ignore[arg-type]  # self is a TrackingClient
                [experiment_id],
                filter_string,
                "ACTIVE_ONLY",
                100_000,
                None,
                None,
            )
            if entry in json.loads(run.data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
        ]
        if ids and len(runs) != len(ids):
            warnings.warn(
                f"Not every run in run_ids logged the table {artifact_file!r}; "
                "the others are skipped.",
                MltrailWarning,
                stacklevel=2,
            )
        if not runs:
            raise NotFoundError(
                "table",
                artifact_file,
                f"No run of experiment {experiment_id!r} logged it with log_table.",
            )
        frame = runs_to_frame(runs)
        tables = []
        for index, run in enumerate(runs):
            store, uri = self._artifacts(run.info.run_id)
            table = _read_table(store, uri, artifact_file)
            if table is None:
                raise NotFoundError(
                    "table", artifact_file, f"Run {run.info.run_id} has no such file."
                )
            for column in extra_columns or ():
                name = f"{column}_" if column in table.columns else column
                table[name] = frame[column].iloc[index]
            tables.append(table)
        return pandas.concat(tables, ignore_index=True)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        *,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Log an image as a PNG file, at a path or under a key and step.

        With ``artifact_file`` the PNG is written there. With ``key`` it is
        written as MLflow 3 does for image charts: under ``images/`` as
        ``<key>+step+<step>+timestamp+<ms>+<uuid>.png`` (a ``/`` in the key
        becomes ``~``) with a WebP thumbnail, and the run gets the
        ``mlflow.loggedImages`` tag.

        Parameters
        ----------
        run_id : str
            The run's id.
        image : numpy.ndarray or PIL.Image.Image
            An array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4): integers
            in [0, 255], floats in [0, 1] (others are rescaled, with a warning, as
            MLflow does) or booleans; or a PIL image.
        artifact_file : str or None, default=None
            The run-relative file path, such as ``"plots/sample.png"``.
        key : str or None, default=None
            The name of an image series (letters, digits, ``_-./`` and spaces),
            instead of ``artifact_file``.
        step : int or None, default=None
            The step of a keyed image; None for 0.
        timestamp : int or None, default=None
            The time of a keyed image, in milliseconds since the epoch; None for now.

        Raises
        ------
        InvalidValueError
            If the image is not an array or PIL image, has another shape or type,
            has integers outside [0, 255], or the arguments do not name exactly
            one of ``artifact_file`` and ``key``.

        Examples
        --------
        >>> import numpy as np
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_image(run_id, np.zeros((8, 8, 3), dtype=np.uint8), "img.png")
        >>> [f.path for f in client.list_artifacts(run_id)]
        ['img.png']
        """
        if artifact_file is not None and (key, step, timestamp) != (None,) * 3:
            raise InvalidValueError(
                "artifact_file",
                artifact_file,
                "None when key, step or timestamp is given",
                "Pass artifact_file alone, or key with step and timestamp.",
            )
        if artifact_file is None and key is None:
            raise InvalidValueError(
                "key",
                key,
                "a str when artifact_file is None",
                "Pass artifact_file='image.png', or key='samples' with a step.",
            )
        picture = to_pil_image(image)
        store, uri = self._artifacts(run_id)
        if artifact_file is not None:
            to_str("artifact_file", artifact_file, "Use a path such as 'image.png'.")
            suffix = PurePosixPath(artifact_file).suffix.lstrip(".") or "png"
            store.write_bytes(uri, artifact_file, _encode(picture, suffix))
            return
        if not isinstance(key, str) or not _IMAGE_KEY.match(key):
            raise InvalidValueError(
                "key",
                key,
                "letters, digits, '_', '-', '.', '/' and spaces",
                "Use a key such as 'samples/train'.",
            )
        name = (
            f"images/{key.replace('/', '~')}+step+{step or 0}"
            f"+timestamp+{timestamp or now_ms()}+{uuid.uuid4()}"
        )
        store.write_bytes(uri, f"{name}.png", _encode(picture, "png"))
        width, height = picture.size
        scale = _COMPRESSED_SIZE / max(width, height)
        thumbnail = picture.resize(
            (max(int(width * scale), 1), max(int(height * scale), 1))
        )
        store.write_bytes(uri, f"{name}+compressed.webp", _encode(thumbnail, "webp"))
        self.set_tag(run_id, LOGGED_IMAGES_TAG, True)


def _check_table_file(artifact_file: object) -> None:
    text = to_str("artifact_file", artifact_file, "Use a path such as 'eval.json'.")
    forbidden = [char for char in _TABLE_FORBIDDEN if char in text]
    if not text.endswith(".json") or forbidden:
        raise InvalidValueError(
            "table file",
            text,
            "a path ending in '.json' without any of " + " ".join(_TABLE_FORBIDDEN),
            "Use a path such as 'eval/results.json'.",
        )


def _read_table(
    store: ArtifactStore, uri: str, artifact_file: str
) -> pandas.DataFrame | None:
    """Return the table in a run's file, or None when the run has no such file."""
    import pandas

    parent = str(PurePosixPath(artifact_file).parent)
    listed = store.list(uri, None if parent == "." else parent)
    if not any(f.path == artifact_file and not f.is_dir for f in listed):
        return None
    content = store.read_bytes(uri, artifact_file).decode("utf-8")
    return pandas.read_json(io.StringIO(content), orient="split")


def to_pil_image(image: object) -> Any:
    """Return a PIL image of an array as MLflow converts it, or the PIL image given."""
    import numpy
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    if not isinstance(image, numpy.ndarray):
        raise InvalidValueError(
            "image",
            type(image).__name__,
            "a numpy array or a PIL image",
            "Convert the image with numpy.asarray first.",
        )
    array: numpy.ndarray[Any, Any] = image
    if array.dtype.kind not in _IMAGE_KINDS:
        raise InvalidValueError(
            "image dtype", str(array.dtype), "bool, int, uint or float"
        )
    if array.ndim not in (2, 3) or (
        array.ndim == 3 and array.shape[2] not in (1, 3, 4)
    ):
        raise InvalidValueError(
            "image shape",
            array.shape,
            "(H, W), (H, W, 1), (H, W, 3) or (H, W, 4)",
            "Put the channels last.",
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    is_int = array.dtype.kind in "iu"
    high = 255 if is_int else 1
    if array.size and (array.min() < 0 or array.max() > high):
        if is_int:
            raise InvalidValueError(
                "image values",
                f"[{array.min()}, {array.max()}]",
                "integers in [0, 255]",
                "Scale the array, or pass floats in [0, 1].",
            )
        warnings.warn(
            f"image values [{array.min()}, {array.max()}] are outside [0, 1]; "
            "they are rescaled with their min and max, as MLflow does.",
            MltrailWarning,
            stacklevel=3,
        )
        span = array.max() - array.min()
        array = (array - array.min()) / span if span else numpy.zeros_like(array)
    if not is_int:
        array = array * 255
    return Image.fromarray(array.astype(numpy.uint8))


def _encode(picture: Any, suffix: str) -> bytes:
    data = io.BytesIO()
    try:
        picture.save(data, format=suffix.upper().replace("JPG", "JPEG"))
    except (KeyError, ValueError, OSError) as error:
        raise InvalidValueError(
            "image file suffix",
            suffix,
            "an image format such as png or jpeg",
            f"Use a name such as 'image.png' ({error}).",
        ) from error
    return data.getvalue()
