"""Patches: the wrappers around scikit-learn's methods and functions."""
