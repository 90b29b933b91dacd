"""Warnings about mltrail's own trouble that never raise, whatever the filters say.

Autologging warns when it fails to record part of a fit, yet it must never break the
user's code. Under ``warnings.simplefilter("error")`` (``python -W error``, pytest's
``filterwarnings = error``) a warning is raised as an exception: then the message goes
to the ``mltrail`` logger instead, so it is still shown and the user's call goes on.
"""

from __future__ import annotations

import warnings

from mltrail._errors import MltrailWarning

__all__ = ["LOGGER_NAME", "warn"]

LOGGER_NAME = "mltrail"


def warn(message: str, *, stacklevel: int = 2) -> None:
    """Warn ``message`` as an ``MltrailWarning``; log it if the filters raise it.

    ``stacklevel`` counts as for ``warnings.warn`` called where this is called.
    """
    try:
        warnings.warn(message, MltrailWarning, stacklevel=stacklevel + 1)
    except MltrailWarning:
        import logging

        logging.getLogger(LOGGER_NAME).warning("%s", message)
