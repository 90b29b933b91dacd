"""Patches: the wrappers around scikit-learn's methods and functions.

They hand the user's calls to the session, or report what a call computed as a
typed event; they record nothing themselves.
"""
