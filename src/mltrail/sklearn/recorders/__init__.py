"""Recorders: each writes one kind of record of a run."""
