"""The session: which run an event belongs to."""
