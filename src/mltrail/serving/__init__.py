"""The scoring server for one model: MLflow's protocol, safer, validated, measured.

Run it with ``mltrail models serve -m models:/<name>@<alias>``. It is separate from
the tracking server (``mltrail server``): it loads one model and answers
``/invocations``, ``/ping``, ``/health``, ``/version``, ``/metrics`` and
``/openapi.json``.
"""
