"""The run tabs that read artifacts: plots, pipeline, model, the artifact browser.

Artifacts are read through the server's stores, resolved by the store's one path
resolver (never outside the artifact roots). Files served to the browser carry a
sandboxing CSP: an HTML or SVG artifact runs in an opaque origin, so its scripts
can neither read the UI's data nor act as the user; pages show HTML only inside
``<iframe sandbox>``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import mimetypes
import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import yaml

from mltrail._entities import FileInfo, Run
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail._run_sections import (
    CODE_DIRECTORY,
    PIPELINE_ARTIFACTS,
    PLOT_DIRECTORY,
    TRAINING_GROUP,
    dataset_summary,
    held_out_names,
    plot_pairs,
)
from mltrail._system_tags import PIPELINE_TAG
from mltrail.server._artifacts import run_artifacts
from mltrail.store._base import ArtifactStore
from mltrail.store._paths import check_relative_path
from mltrail.ui._plot_data import clean_plot
from mltrail.ui._run_header import run_header

if TYPE_CHECKING:
    from mltrail.server._context import ServerContext
    from mltrail.ui._routes import PageContext

__all__ = [
    "RunFiles",
    "code_files",
    "file_headers",
    "model_page",
    "open_file",
    "pipeline_page",
    "plots_page",
    "preview_kind",
    "read_json",
    "schema_rows",
]

MAX_TEXT_PREVIEW = 512 * 1024
MAX_JSON_READ = 4 * 1024 * 1024
MAX_PREVIEW_BYTES = 50 * 1024 * 1024  # larger files are offered for download only
MAX_TABLE_ROWS = 1000
DIFF_ARTIFACT = f"{CODE_DIRECTORY}uncommitted.diff"
MODEL_FILE = "MLmodel"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg")
TABLE_EXTENSIONS = (".csv", ".tsv")
HTML_EXTENSIONS = (".html", ".htm")
TEXT_EXTENSIONS = (
    ".txt", ".log", ".err", ".out", ".md", ".rst", ".py", ".r", ".sql", ".sh",
    ".ipynb", ".json", ".yaml", ".yml", ".toml", ".cfg", ".conf", ".ini",
    ".properties", ".xml", ".js", ".ts", ".css", ".diff", ".patch", ".c", ".h",
    ".cpp", ".java", ".scala", ".go", ".rs", ".jsonnet", ".csv", ".tsv",
)  # fmt: skip
TEXT_NAMES = ("MLmodel", "MLproject", "Dockerfile", "requirements.txt", "LICENSE")
# A file of the run served to the browser: no script of ours, nothing it can reach.
SANDBOX = (
    "sandbox allow-scripts; default-src 'none'; img-src 'self' data: blob:; "
    "style-src 'unsafe-inline' 'self'; script-src 'unsafe-inline'; font-src data:; "
    "media-src 'self'"
)
INLINE_TYPES = ("image/", "text/", "application/json")


class RunFiles:
    """One run's artifacts: list a folder, read a file, stream it.

    Paths are run-relative (``plots/test_roc_curve.json``).
    """

    def __init__(self, services: ServerContext, run: Run) -> None:
        self.store: ArtifactStore
        self.store, self.base, self.prefix = run_artifacts(
            services, run.info.artifact_uri
        )

    def list(self, path: str = "") -> list[FileInfo]:
        """List one folder; a missing folder is empty."""
        parts = check_relative_path(path) if path else []
        relative = self.prefix + "/".join(parts)
        try:
            found = self.store.list(self.base, relative.rstrip("/") or None)
        except NotFoundError:
            return []
        return [
            FileInfo(info.path[len(self.prefix) :], info.is_dir, info.file_size)
            for info in found
        ]

    def stream(self, path: str) -> tuple[int, Iterator[bytes]]:
        """Open one file: its size and its chunks."""
        parts = check_relative_path(path)
        return self.store.open_stream(self.base, self.prefix + "/".join(parts))

    def read(self, path: str, limit: int) -> tuple[bytes, bool] | None:
        """Return up to ``limit`` bytes, and whether there is more; None if absent."""
        try:
            size, chunks = self.stream(path)
        except NotFoundError:
            return None
        data = bytearray()
        try:
            for chunk in chunks:
                data += chunk
                if len(data) >= limit:
                    break
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return bytes(data[:limit]), size > limit


def read_json(context: PageContext, run: Run, path: str) -> object:
    """Return a JSON artifact parsed, or None if absent, too large or not JSON."""
    found = RunFiles(context.services, run).read(path, MAX_JSON_READ)
    if found is None or found[1]:
        return None
    try:
        return json.loads(found[0])
    except ValueError:
        return None


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def code_files(context: PageContext, run: Run) -> dict[str, Any]:
    """Return the files under ``code/`` and the uncommitted diff (up to 512 KiB)."""
    files = RunFiles(context.services, run)
    listed = [_file_json(f) for f in files.list(CODE_DIRECTORY.rstrip("/"))]
    diff = None
    if any(f["path"] == DIFF_ARTIFACT for f in listed):
        found = files.read(DIFF_ARTIFACT, MAX_TEXT_PREVIEW)
        if found is not None:
            diff = {"text": _text(found[0]), "is_truncated": found[1]}
    return {"code_files": listed, "diff": diff}


def _file_json(info: FileInfo) -> dict[str, Any]:
    return {
        "path": info.path,
        "name": posixpath.basename(info.path),
        "is_dir": info.is_dir,
        "file_size": info.file_size,
    }


def plots_page(context: PageContext) -> dict[str, Any]:
    """Return the plots, each with the JSON data its chart is drawn from."""
    run, _, data = run_header(context, "plots")
    files = RunFiles(context.services, run)
    listed = {f.path: f for f in files.list(PLOT_DIRECTORY.rstrip("/")) if not f.is_dir}
    datasets = [dataset_summary(item) for item in run.inputs.dataset_inputs]
    names = [TRAINING_GROUP, *held_out_names(run.data.tags, datasets)]
    plots = []
    for pair in plot_pairs(listed, names):
        plot_data = (
            None
            if pair["json"] is None
            else read_json(context, run, pair["json"]["path"])
        )
        plots.append({**pair, "data": clean_plot(plot_data)})
    order = {name: index for index, name in enumerate(names)}
    plots.sort(key=lambda p: (order.get(p["dataset"], -1), p["plot"]))
    data["plots"] = plots
    return data


def pipeline_page(context: PageContext) -> dict[str, Any]:
    """Return the estimator tree of ``pipeline.json`` and scikit-learn's HTML."""
    run, _, data = run_header(context, "pipeline")
    tree = read_json(context, run, PIPELINE_ARTIFACTS[0])
    root = {f.path for f in RunFiles(context.services, run).list()}
    data["pipeline"] = {
        "summary": run.data.tags.get(PIPELINE_TAG),
        "tree": tree if isinstance(tree, dict) else None,
        "html": PIPELINE_ARTIFACTS[1] if PIPELINE_ARTIFACTS[1] in root else None,
    }
    return data


def schema_rows(text: object) -> list[dict[str, Any]] | None:
    """Parse one side of an MLmodel signature (a JSON string of column specs)."""
    if not isinstance(text, str):
        return None
    try:
        specs = json.loads(text)
    except ValueError:
        return None
    if not isinstance(specs, list):
        return None
    rows = []
    for spec in specs:
        if not isinstance(spec, dict):
            continue
        tensor = spec.get("tensor-spec")
        kind = spec.get("type")
        if isinstance(tensor, dict):
            kind = f"tensor {tensor.get('dtype')} {tensor.get('shape')}"
        rows.append(
            {
                "name": spec.get("name"),
                "type": kind,
                "required": spec.get("required", True),
            }
        )
    return rows


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _model(files: RunFiles, directory: str, run_id: str) -> dict[str, Any] | None:
    found = files.read(f"{directory}/{MODEL_FILE}", MAX_TEXT_PREVIEW)
    if found is None:
        return None
    try:
        meta = yaml.safe_load(found[0])
    except yaml.YAMLError:
        meta = None
    meta = _mapping(meta)
    signature = _mapping(meta.get("signature"))
    flavors = _mapping(meta.get("flavors"))
    sklearn = _mapping(flavors.get("sklearn"))
    texts = {}
    for name in (
        "input_example.json",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
    ):
        text = files.read(f"{directory}/{name}", MAX_TEXT_PREVIEW)
        texts[name] = None if text is None else _text(text[0])
    uri = f"runs:/{run_id}/{directory}"
    return {
        "path": directory,
        "uri": uri,
        "flavors": sorted(flavors),
        "sklearn_version": sklearn.get("sklearn_version"),
        "serialization_format": sklearn.get("serialization_format"),
        "python_version": _mapping(flavors.get("python_function")).get(
            "python_version"
        ),
        "model_size_bytes": meta.get("model_size_bytes"),
        "inputs": schema_rows(signature.get("inputs")),
        "outputs": schema_rows(signature.get("outputs")),
        "files": texts,
        "snippets": {
            "load": (
                "import mltrail\n\n"
                f'model = mltrail.pyfunc.load_model("{uri}")\n'
                "predictions = model.predict(X)"
            ),
            "load_mlflow": (
                "import mlflow\n\n"
                f'model = mlflow.pyfunc.load_model("{uri}")\n'
                "predictions = model.predict(X)"
            ),
            "serve": f"mltrail models serve -m {uri} --port 5001",
            "serve_mlflow": (
                f"mlflow models serve -m {uri} --env-manager local --port 5001"
            ),
        },
    }


def model_page(context: PageContext) -> dict[str, Any]:
    """Return each model of the run: signature, example, environment, snippets."""
    run, _, data = run_header(context, "model")
    files = RunFiles(context.services, run)
    models = []
    for entry in files.list():
        if entry.is_dir:
            model = _model(files, entry.path, run.info.run_id)
            if model is not None:
                models.append(model)
    data["models"] = models
    return data


def preview_kind(path: str, size: int | None) -> str:
    """How the artifact browser shows a file: image, table, html, text or download."""
    name = posixpath.basename(path)
    lower = name.lower()
    if size is not None and size > MAX_PREVIEW_BYTES:
        return "download"
    if lower.endswith(IMAGE_EXTENSIONS):
        return "image"
    if lower.endswith(HTML_EXTENSIONS):
        return "html"
    if lower.endswith(TABLE_EXTENSIONS):
        return "table"
    if lower.endswith(TEXT_EXTENSIONS) or name in TEXT_NAMES:
        return "text"
    return "download"


def _table(data: bytes, path: str) -> dict[str, Any]:
    text = _text(data)
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append(row)
        if len(rows) > MAX_TABLE_ROWS:
            break
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {
        "header": header,
        "rows": body[:MAX_TABLE_ROWS],
        "is_truncated": len(body) > MAX_TABLE_ROWS,
    }


def _preview(files: RunFiles, path: str, size: int | None) -> dict[str, Any]:
    kind = preview_kind(path, size)
    preview: dict[str, Any] = {"path": path, "kind": kind, "file_size": size}
    if kind in ("text", "table"):
        found = files.read(path, MAX_TEXT_PREVIEW)
        if found is None:
            raise NotFoundError("artifact", path, "Pick a file from the tree.")
        data, is_truncated = found
        if kind == "table" and not is_truncated:
            preview["table"] = _table(data, path)
        else:
            preview["kind"] = "text"
            text = _text(data)
            if path.lower().endswith(".json") and not is_truncated:
                with contextlib.suppress(ValueError):
                    text = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
            preview["text"] = text
        preview["is_truncated"] = is_truncated
    return preview


def artifacts_page(context: PageContext) -> dict[str, Any]:
    """Return the artifact tree, opened down to ``path``, and that file's preview."""
    run, _, data = run_header(context, "artifacts")
    files = RunFiles(context.services, run)
    selected = context.text("path").strip("/")
    parts = check_relative_path(selected) if selected else []
    # The root, then each folder on the way to the selected path.
    levels = [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]
    listings: dict[str, list[dict[str, Any]]] = {}
    entry: FileInfo | None = None
    for level in levels:
        parent = posixpath.dirname(level) if level else None
        if parent is not None:
            found = {f.path: f for f in files.list(parent)}
            entry = found.get(level)
            if entry is None:
                raise NotFoundError("artifact", level, "Pick a file from the tree.")
            if not entry.is_dir:
                break
        listings[level] = [_file_json(f) for f in files.list(level)]
    data["tree"] = listings
    data["selected"] = selected or None
    data["preview"] = (
        None
        if entry is None or entry.is_dir
        else _preview(files, entry.path, entry.file_size)
    )
    return data


def file_headers(path: str, size: int) -> dict[str, str]:
    """Return a run file's headers: its type, inline only when harmless, sandboxed."""
    name = posixpath.basename(path) or "artifact"
    media, _ = mimetypes.guess_type(name)
    if name == MODEL_FILE or (media is None and preview_kind(path, None) == "text"):
        media = "text/plain"
    media = media or "application/octet-stream"
    inline = media.startswith(INLINE_TYPES) or media == "text/html"
    if media.startswith("text/") or media == "application/json":
        media = f"{media}; charset=utf-8"
    disposition = "inline" if inline else "attachment"
    return {
        "content-type": media,
        "content-length": str(size),
        "content-disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
        "content-security-policy": SANDBOX,
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
        "cross-origin-resource-policy": "same-origin",
    }


def open_file(
    services: ServerContext, run_id: str, path: str
) -> tuple[Iterator[bytes], dict[str, str]]:
    """Open one file of a run for streaming, with the headers to serve it with."""
    if not path:
        raise InvalidValueError("path", path, "a file path", "Pick a file.")
    run = services.store.get_run(run_id)
    size, chunks = RunFiles(services, run).stream(path)
    return chunks, file_headers(path, size)
