"""``TrackingClient`` methods for artifacts: log, list and download a run's files."""

from __future__ import annotations

import io
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mltrail._entities import (
    FileInfo,
)
from mltrail._errors import InvalidValueError
from mltrail.tracking import _pending
from mltrail.tracking._client_base import ClientBase, to_str

if TYPE_CHECKING:
    from mltrail.store._base import ArtifactStore

_YAML_SUFFIXES = (".yaml", ".yml")


class ArtifactsMixin(ClientBase):
    """The artifact methods of ``TrackingClient``."""

    def _artifacts(self, run_id: str) -> tuple[ArtifactStore, str]:
        from mltrail.store._artifacts import open_artifact_store

        uri = self._artifact_uris.get(run_id)
        if uri is None:
            uri = self._artifact_uris[run_id] = self._store.get_run(
                run_id
            ).info.artifact_uri
        return open_artifact_store(uri, root=self._store.artifact_root), uri

    def log_artifact(
        self,
        run_id: str,
        local_path: str | os.PathLike[str],
        artifact_path: str | None = None,
    ) -> None:
        """Copy a local file into the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        local_path : str or os.PathLike
            The file to copy.
        artifact_path : str or None, default=None
            The run-relative directory to put it in; None for the root.

        Raises
        ------
        NotFoundError
            If ``local_path`` is not an existing file.
        InvalidValueError
            If ``artifact_path`` would leave the run's artifact directory.

        Examples
        --------
        >>> from pathlib import Path
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> _ = Path("notes.txt").write_text("hello")
        >>> client.log_artifact(run_id, "notes.txt", artifact_path="docs")
        >>> [f.path for f in client.list_artifacts(run_id, "docs")]
        ['docs/notes.txt']
        """
        store, uri = self._artifacts(run_id)
        store.log_file(uri, Path(local_path), artifact_path)

    def log_artifacts(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
    ) -> None:
        """Copy a local directory's contents into the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        local_dir : str or os.PathLike
            The directory whose contents are copied.
        artifact_path : str or None, default=None
            The run-relative directory to put them in; None for the root.

        Raises
        ------
        NotFoundError
            If ``local_dir`` is not an existing directory.
        InvalidValueError
            If ``artifact_path`` would leave the run's artifact directory.

        Examples
        --------
        >>> from pathlib import Path
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> Path("out").mkdir()
        >>> _ = Path("out/a.txt").write_text("a")
        >>> client.log_artifacts(run_id, "out", artifact_path="results")
        >>> [f.path for f in client.list_artifacts(run_id, "results")]
        ['results/a.txt']
        """
        store, uri = self._artifacts(run_id)
        store.log_dir(uri, Path(local_dir), artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write text, UTF-8 encoded, to a file of the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        text : str
            The content.
        artifact_file : str
            The run-relative file path, such as ``"notes/summary.txt"``.

        Raises
        ------
        InvalidValueError
            If ``artifact_file`` is empty or would leave the run's artifact directory.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_text(run_id, "all good", "summary.txt")
        >>> [f.path for f in client.list_artifacts(run_id)]
        ['summary.txt']
        """
        to_str("text", text, "Pass text; write bytes with log_artifact from a file.")
        store, uri = self._artifacts(run_id)
        store.write_bytes(uri, artifact_file, text.encode("utf-8"))

    def log_dict(self, run_id: str, dictionary: object, artifact_file: str) -> None:
        """Write a dict to the run's artifacts as YAML (``.yaml``, ``.yml``) or JSON.

        Parameters
        ----------
        run_id : str
            The run's id.
        dictionary : object
            A JSON-serializable value, usually a dict.
        artifact_file : str
            The run-relative file path; its suffix picks the format.

        Raises
        ------
        InvalidValueError
            If ``dictionary`` cannot be serialized, or ``artifact_file`` is unsafe.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_dict(run_id, {"classes": [0, 1]}, "meta/classes.yaml")
        >>> [f.path for f in client.list_artifacts(run_id, "meta")]
        ['meta/classes.yaml']
        """
        import json

        to_str("artifact_file", artifact_file, "Use a file path such as 'meta.json'.")
        store, uri = self._artifacts(run_id)
        try:
            if artifact_file.lower().endswith(_YAML_SUFFIXES):
                import yaml

                text = yaml.safe_dump(dictionary, default_flow_style=False)
            else:
                text = json.dumps(dictionary, indent=2)
        except (TypeError, ValueError) as error:
            raise InvalidValueError(
                "dictionary",
                dictionary,
                "a value made of dicts, lists, str, numbers, bools and None",
                f"Convert other objects first ({error}).",
            ) from error
        store.write_bytes(uri, artifact_file, text.encode("utf-8"))

    def log_figure(self, run_id: str, figure: object, artifact_file: str) -> None:
        """Save a matplotlib figure to the run's artifacts, in the suffix's format.

        The figure is saved with its own ``savefig``; pyplot is never imported.

        Parameters
        ----------
        run_id : str
            The run's id.
        figure : matplotlib.figure.Figure
            The figure.
        artifact_file : str
            The run-relative file path, such as ``"plots/roc.png"``.

        Raises
        ------
        InvalidValueError
            If ``figure`` has no ``savefig``, or the suffix is not an image format.

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> figure = Figure()
        >>> _ = figure.subplots().plot([0, 1], [1, 0])
        >>> client.log_figure(run_id, figure, "plots/line.png")
        >>> [f.path for f in client.list_artifacts(run_id, "plots")]
        ['plots/line.png']
        """
        savefig = getattr(figure, "savefig", None)
        if not callable(savefig):
            raise InvalidValueError(
                "figure",
                figure,
                "a matplotlib Figure",
                "Pass the Figure (fig from fig, ax = plt.subplots()), not an Axes.",
            )
        to_str("artifact_file", artifact_file, "Use a file path such as 'roc.png'.")
        suffix = PurePosixPath(artifact_file).suffix.lstrip(".").lower()
        data = io.BytesIO()
        try:
            savefig(data, format=suffix or None)
        except ValueError as error:
            raise InvalidValueError(
                "figure file",
                artifact_file,
                "a name ending in an image format such as .png, .svg or .pdf",
                str(error),
            ) from error
        store, uri = self._artifacts(run_id)
        store.write_bytes(uri, artifact_file, data.getvalue())

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """List one directory level of the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        path : str or None, default=None
            The run-relative directory; None for the root.

        Returns
        -------
        list of FileInfo
            Files and directories with run-relative paths, sorted.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_text(run_id, "x", "a/b.txt")
        >>> client.list_artifacts(run_id)
        [FileInfo(path='a', is_dir=True, file_size=None)]
        """
        _pending.wait(run_id)
        store, uri = self._artifacts(run_id)
        return store.list(uri, path)

    def download_artifacts(
        self, run_id: str, path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy an artifact file or directory to the local disk.

        Parameters
        ----------
        run_id : str
            The run's id.
        path : str
            The run-relative path; ``""`` for all of the run's artifacts.
        dst_path : str or os.PathLike or None, default=None
            The local directory to copy into; None for a new temporary directory.

        Returns
        -------
        str
            The local path of the copy.

        Raises
        ------
        NotFoundError
            If the run has no artifact at ``path``.

        Examples
        --------
        >>> from pathlib import Path
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_text(run_id, "hello", "notes/a.txt")
        >>> Path(client.download_artifacts(run_id, "notes/a.txt", "copy")).read_text()
        'hello'
        """
        import tempfile

        _pending.wait(run_id)
        store, uri = self._artifacts(run_id)
        target = Path(tempfile.mkdtemp() if dst_path is None else dst_path)
        return str(store.download(uri, path, target))
