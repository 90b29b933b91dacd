"""``ServerContext``: what every endpoint of one app shares (stores, settings, auth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mltrail.server._policy import Authenticator
    from mltrail.server._settings import ServerSettings
    from mltrail.store._base import ArtifactStore, Store

__all__ = ["ServerContext"]


@dataclass(slots=True)
class ServerContext:
    """The stores, settings and authenticator of one app, in ``app.state.services``.

    ``artifact_store`` serves the artifact proxy, rooted at ``artifacts_destination``
    (a local directory or ``s3://bucket/prefix``); a proxied path such as
    ``1/<run_id>/artifacts/model.pkl`` is relative to that root.
    """

    store: Store
    artifact_store: ArtifactStore
    artifacts_destination: str
    settings: ServerSettings
    authenticator: Authenticator | None = None
