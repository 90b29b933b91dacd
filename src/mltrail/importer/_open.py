"""``open_source``: pick the reader of an MLflow store from its URI."""

from __future__ import annotations

from mltrail._errors import InvalidValueError
from mltrail.importer._source import Source

__all__ = ["open_source"]

_SQL_SCHEMES = {
    "sqlite",
    "postgresql",
    "postgres",
    "postgresql+psycopg",
    "mysql",
    "mariadb",
    "mysql+pymysql",
}


def open_source(uri: str) -> Source:
    """Open the MLflow store at ``uri`` for reading.

    ``uri`` is a file store folder (``./mlruns``, ``/abs/mlruns``,
    ``file:///abs/mlruns``), an MLflow database (``sqlite:///mlflow.db``,
    ``postgresql://...``, ``mysql://...``) or an MLflow tracking server
    (``http(s)://host:port``).
    """
    scheme = uri.partition("://")[0].lower() if "://" in uri else ""
    if scheme in _SQL_SCHEMES:
        from mltrail.importer._sql_source import SqlSource

        return SqlSource(uri)
    if scheme in ("http", "https"):
        from mltrail.importer._rest_source import RestSource

        return RestSource(uri)
    from mltrail.importer._file_source import FileSource, is_file_store

    if scheme in ("", "file") and is_file_store(uri):
        return FileSource(uri)
    raise InvalidValueError(
        "source URI",
        uri,
        "an MLflow file store folder (./mlruns), an MLflow database "
        "(sqlite:///mlflow.db, postgresql://..., mysql://...) or an MLflow "
        "server (http://host:port)",
        "A folder must hold MLflow's experiment folders (0/meta.yaml, ...).",
    )
