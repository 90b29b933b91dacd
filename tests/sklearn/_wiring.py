"""Autolog on for one held-out evaluation test, with every background job awaited."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import pytest

from mltrail.sklearn import autolog
from mltrail.sklearn.shared import _background


def wire(
    monkeypatch: pytest.MonkeyPatch,
    eval_names: Mapping[str, Any] | None = None,
    **options: Any,
) -> Generator[None, None, None]:
    """Turn autolog on; wait for its jobs and turn it off afterwards."""
    autolog(eval_names=eval_names, **options)
    try:
        yield
    finally:
        _background.wait()
        autolog(disable=True)
