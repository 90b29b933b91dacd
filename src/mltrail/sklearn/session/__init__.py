"""The session: which run a fit, a loop or a cross-validation belongs to.

It runs the user's call and dispatches the events that follow to the recorders
registered for them (``_registry``).
"""
