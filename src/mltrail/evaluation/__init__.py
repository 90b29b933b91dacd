"""Held-out evaluation: metric suites, plots and the background plot renderer.

An internal package that autolog and ``mltrail.evaluate`` build on. Nothing here logs:
``_metrics`` computes metric dicts from labels and predictions that already exist,
``_plots`` and ``_estimator_plots`` turn them into each plot's JSON data, ``_figures``
draws a plot's PNG from that JSON alone (in autologging's helper process, or again
with ``_redraw``, which ``mltrail runs render`` runs), and ``_render`` runs jobs on a
worker thread. Importing this package imports nothing heavy; the plot data needs
numpy, only drawing imports matplotlib, and ``_render`` needs the standard library.
"""
