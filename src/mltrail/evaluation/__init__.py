"""Held-out evaluation: metric suites, plots and the background plot renderer.

An internal package that autolog and ``mltrail.evaluate`` build on. Nothing here logs
but ``_front``, ``mltrail.evaluate`` itself (mltrail's form and MLflow's): ``_metrics``
computes metric dicts from labels and predictions that already exist, ``_plots`` turns
them into PNG bytes plus JSON data a UI can redraw, and ``_render`` runs plot jobs on
a worker thread. Importing this package imports nothing heavy; ``_metrics`` and
``_plots`` need numpy (and matplotlib inside the render functions), ``_render`` needs
only the standard library.
"""
