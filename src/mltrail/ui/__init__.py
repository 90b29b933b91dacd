"""The web UI: server-rendered pages, each one also served as JSON from its URL.

``mltrail.ui._routes.routes`` is a route provider of the tracking server
(``create_app``), so ``mltrail server`` and ``mltrail ui`` both serve it. See
``README.md`` in this folder for its rules and how to add a page.
"""

from __future__ import annotations

__all__: list[str] = []
