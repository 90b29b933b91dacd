"""The model registry's domain logic: registering models and resolving ``models:/``.

Persistence is the store's (``RegistryStore``); ``TrackingClient`` exposes it with
MLflow's method names. This package adds what needs more than one store call:
``register_model`` (check the model, link its run, copy its signature) and the
resolution of ``models:/`` URIs for the model loader.
"""

from mltrail.registry._register import register_model

__all__ = ["register_model"]
