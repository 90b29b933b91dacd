"""Shared: what several stages read (settings, tracking calls, splits seen, models)."""
