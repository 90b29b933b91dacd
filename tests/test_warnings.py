"""mltrail's own warnings never raise, whatever the warning filters say (#9 §3)."""

from __future__ import annotations

import logging
import warnings
from typing import Literal

import pytest

from mltrail import _warnings
from mltrail._errors import MltrailWarning


def _warn_here() -> None:
    _warnings.warn("the plot could not be drawn", stacklevel=2)


def test_warning_points_at_the_callers_line() -> None:
    with pytest.warns(MltrailWarning, match="the plot could not be drawn") as caught:
        _warn_here()

    assert caught[0].filename == __file__


@pytest.mark.parametrize("action", ["error", "ignore"])
def test_warning_under_a_filter_never_raises(
    action: Literal["error", "ignore"], caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter(action)
        _warn_here()

    logged = [record.getMessage() for record in caplog.records]
    assert logged == (["the plot could not be drawn"] if action == "error" else [])


def test_error_filter_goes_to_the_mltrail_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=MltrailWarning)
        _warn_here()

    (record,) = caplog.records
    assert (record.name, record.levelno) == ("mltrail", logging.WARNING)
