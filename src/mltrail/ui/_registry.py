"""The registry's reads that several pages share.

Who may read what, and the versions a run was registered as (the run pages link
to them). Nothing here imports another page module, so the run header can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from mltrail.store._registry_values import filter_literal

if TYPE_CHECKING:
    from mltrail.store._registry_base import RegistryStore
    from mltrail.ui._routes import PageContext

__all__ = [
    "MAX_RUN_VERSIONS",
    "MODEL_KIND",
    "readable",
    "registry_of",
    "versions_of_run",
]

MODEL_KIND = "registered_model"
#: The most registered versions a run page lists (newest first).
MAX_RUN_VERSIONS = 20


def registry_of(context: PageContext) -> RegistryStore | None:
    """Return the server's store as a ``RegistryStore``, or None if it has none."""
    store = context.services.store
    if not callable(getattr(store, "search_model_versions", None)):
        return None
    # A store with the registry's methods implements RegistryStore.
    return cast("RegistryStore", store)


def readable(context: PageContext, kind: str, ids: Sequence[str]) -> set[str]:
    """Return the ``ids`` of ``kind`` the page's user may read (all, auth off)."""
    check = getattr(context.services.authenticator, "readable", None)
    if check is None:
        return set(ids)
    return set(check(context.user, kind, list(ids)))


def versions_of_run(context: PageContext, run_id: str) -> list[dict[str, Any]]:
    """Return the versions registered from ``run_id`` that the user may read.

    Newest first, at most ``MAX_RUN_VERSIONS``: each as ``name``, ``version``
    and ``aliases``.
    """
    registry = registry_of(context)
    if registry is None:
        return []
    found = registry.search_model_versions(
        filter_string=f"run_id = {filter_literal(run_id)}",
        order_by=["creation_timestamp DESC", "version_number DESC"],
        max_results=MAX_RUN_VERSIONS,
    )
    allowed = readable(context, MODEL_KIND, sorted({v.name for v in found}))
    return [
        {"name": v.name, "version": v.version, "aliases": list(v.aliases)}
        for v in found
        if v.name in allowed
    ]
