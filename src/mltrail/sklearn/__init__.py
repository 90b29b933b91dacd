"""The scikit-learn integration: ``autolog`` and the ``sklearn`` model flavor.

Importing this package does not import scikit-learn; each function does, when called.
"""

from mltrail.sklearn._autolog import autolog
from mltrail.sklearn.shared._flavor import load_model, log_model, save_model

__all__ = ["autolog", "load_model", "log_model", "save_model"]
