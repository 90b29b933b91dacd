"""mltrail's benchmark suite: mltrail and MLflow measured side by side in one run.

Run it with ``scripts/bench`` (or ``.venv/bin/python -m bench``); see ``README.md``.
A scenario is one ``Scenario`` entry in a module of ``bench.scenarios``.
"""

from bench._model import Scenario, Target

__all__ = ["Scenario", "Target"]
