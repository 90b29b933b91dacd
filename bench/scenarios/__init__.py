"""The scenarios: each module here holds a ``SCENARIOS`` list that the runner finds.

``tracking`` has the tracking core's scenarios (issue 2). Add a module for a new
area (``autolog``, ...) with its own ``SCENARIOS`` list; nothing else changes.
"""
