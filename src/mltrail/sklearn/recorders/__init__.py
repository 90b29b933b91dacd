"""Recorders: each writes one kind of record, from the events the session hands it.

Which recorder hears which event is ``session/_registry.py``; a recorder imports no
other recorder (what several need is in ``shared/``).
"""
