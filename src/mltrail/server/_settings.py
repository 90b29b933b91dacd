"""``ServerSettings``: how ``mltrail server`` was started, as one frozen record."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from mltrail._errors import InvalidValueError

__all__ = ["AUTH_MODES", "ServerSettings", "is_loopback"]

AUTH_MODES = ("none", "basic")
PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
ENVIRONMENT_PREFIX = "MLTRAIL_"
_BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "0": False,
    "false": False,
    "no": False,
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How a tracking server is configured; names follow ``mlflow server``'s options.

    Every field can also come from an environment variable named
    ``MLTRAIL_`` + the field name in upper case (``MLTRAIL_BACKEND_STORE_URI``); see
    ``from_environment``.

    Parameters
    ----------
    backend_store_uri : str, default="sqlite:///mltrail.db"
        Where runs are stored.
    artifacts_destination : str, default="./mltrail-artifacts"
        Where the artifact proxy keeps files: a local directory or
        ``s3://bucket/prefix``.
    default_artifact_root : str or None, default=None
        The artifact location of new experiments; by default ``mlflow-artifacts:``
        (through the proxy) when artifacts are served, else
        ``artifacts_destination``.
    serve_artifacts : bool, default=True
        Whether the ``/api/2.0/mlflow-artifacts`` proxy routes answer.
    host : str, default="127.0.0.1"
        The address to listen on.
    port : int, default=5000
        The port to listen on.
    workers : int, default=1
        The number of server processes.
    allowed_hosts : tuple of str, default=()
        Host header patterns (``*`` is a wildcard) accepted besides the loopback
        names and the address listened on.
    cors_allowed_origins : tuple of str, default=()
        Origins that browsers may call the API from; CORS is off when empty.
    auth : str, default="none"
        ``"none"`` or ``"basic"`` (users, passwords and tokens).
    no_auth : bool, default=False
        Listen on a non-loopback address without auth, on purpose.
    default_permission : str, default="READ"
        What a signed-in user may do on an experiment without a grant:
        ``READ``, ``EDIT``, ``MANAGE`` or ``NO_PERMISSIONS``.
    max_request_bytes : int, default=67108864
        The largest JSON request body accepted (64 MiB); artifact uploads stream
        and are not limited by it.

    Examples
    --------
    >>> from mltrail.server import ServerSettings
    >>> settings = ServerSettings(port=5001)
    >>> settings.port, settings.is_auth_enabled
    (5001, False)
    >>> settings.artifact_root
    'mlflow-artifacts:'
    """

    backend_store_uri: str = "sqlite:///mltrail.db"
    artifacts_destination: str = "./mltrail-artifacts"
    default_artifact_root: str | None = None
    serve_artifacts: bool = True
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    cors_allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    auth: str = "none"
    no_auth: bool = False
    default_permission: str = "READ"
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise InvalidValueError(
                "auth", self.auth, "'none' or 'basic'", "Use --auth basic for users."
            )
        if self.default_permission not in PERMISSIONS:
            raise InvalidValueError(
                "default_permission",
                self.default_permission,
                "one of " + ", ".join(PERMISSIONS),
                "READ lets every signed-in user see every experiment.",
            )
        for name in ("port", "workers", "max_request_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidValueError(name, value, "a positive int")
        if self.port > 65535:
            raise InvalidValueError("port", self.port, "at most 65535")

    @property
    def is_auth_enabled(self) -> bool:
        """Whether requests must carry credentials."""
        return self.auth != "none"

    @property
    def artifact_root(self) -> str:
        """The artifact location that new experiments get (``<root>/<id>``)."""
        if self.default_artifact_root:
            return self.default_artifact_root.rstrip("/") or "/"
        if self.serve_artifacts:
            return "mlflow-artifacts:"
        return self.artifacts_destination

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> ServerSettings:
        """Read settings from ``MLTRAIL_<FIELD>`` variables, then apply overrides.

        Parameters
        ----------
        environ : mapping of str to str or None, default=None
            The variables to read; ``os.environ`` by default.
        **overrides : object
            Field values that win over the environment (the command line's);
            None values are ignored.

        Returns
        -------
        ServerSettings
            The settings.

        Raises
        ------
        InvalidValueError
            If a variable does not parse, or a value is out of range.

        Examples
        --------
        >>> from mltrail.server import ServerSettings
        >>> env = {"MLTRAIL_PORT": "8080", "MLTRAIL_ALLOWED_HOSTS": "a.example,b"}
        >>> settings = ServerSettings.from_environment(env, host="0.0.0.0")
        >>> settings.port, settings.allowed_hosts, settings.host
        (8080, ('a.example', 'b'), '0.0.0.0')
        """
        source = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            variable = ENVIRONMENT_PREFIX + spec.name.upper()
            text = source.get(variable)
            if text is None or text == "":
                continue
            values[spec.name] = _parse(variable, spec.name, text)
        values.update(
            (name, value) for name, value in overrides.items() if value is not None
        )
        # Each value was parsed to its field's type (or passed by the caller).
        return cls(**values)  # type: ignore[arg-type]


def _parse(variable: str, name: str, text: str) -> object:
    default = ServerSettings.__dataclass_fields__[name].default
    if name in ("allowed_hosts", "cors_allowed_origins"):
        return _split(text)
    if isinstance(default, bool):
        if text.lower() not in _BOOLEANS:
            raise InvalidValueError(
                f"environment variable {variable}", text, "true or false"
            )
        return _BOOLEANS[text.lower()]
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise InvalidValueError(
                f"environment variable {variable}", text, "an integer"
            ) from None
    return text
