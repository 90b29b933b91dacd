"""The exceptions and warnings that mltrail raises on purpose.

Every error derives from one base, grouped by what the caller can do about it::

    MltrailError
    ├── NotFoundError          the experiment, run, artifact or model does not exist
    ├── InvalidValueError      (also ValueError) a value is malformed or out of range
    │   └── FilterSyntaxError  a search filter or order_by does not parse
    ├── ConflictError          the write contradicts what is stored (a changed param)
    └── StoreError             the store cannot be reached, or its schema is unknown

    MltrailWarning (UserWarning)
    └── MltrailDeprecationWarning

Each exception builds its message from the data it keeps, so every raise fits on one
line, and every message names the offending value, the expected value and a hint.
Each also carries MLflow's ``error_code`` for its kind, so code written against
``mlflow.exceptions.MlflowException`` (``mltrail.exceptions``) reads ours unchanged.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "FilterSyntaxError",
    "InvalidValueError",
    "MltrailDeprecationWarning",
    "MltrailError",
    "MltrailWarning",
    "NotFoundError",
    "StoreError",
]

# MLflow's HTTP status per error code (``mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS``);
# any other code is 500.
HTTP_STATUS_BY_ERROR_CODE = {
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "CANCELLED": 499,
    "RESOURCE_EXHAUSTED": 429,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "PERMISSION_DENIED": 403,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_PARAMETER_VALUE": 400,
}


class MltrailError(Exception):
    """Base class of every error that mltrail raises on purpose.

    Parameters
    ----------
    message : str
        The whole message: what went wrong, the value, and a hint.
    error_code : str or None, default=None
        MLflow's code for the error, such as ``"INVALID_PARAMETER_VALUE"``; None
        keeps the class's own (``"INTERNAL_ERROR"`` here).

    Examples
    --------
    >>> from mltrail import MltrailError, NotFoundError
    >>> issubclass(NotFoundError, MltrailError)
    True
    >>> NotFoundError("run", "abc").get_error_code()
    'RESOURCE_DOES_NOT_EXIST'
    """

    # MLflow's name for what went wrong (``databricks_pb2.ErrorCode``), per class.
    error_code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code

    def get_error_code(self) -> str:
        """Return MLflow's code for this error, as ``MlflowException`` does.

        Returns
        -------
        str
            Such as ``"RESOURCE_DOES_NOT_EXIST"`` or ``"INVALID_PARAMETER_VALUE"``.

        Examples
        --------
        >>> from mltrail import MltrailError
        >>> MltrailError("boom").get_error_code()
        'INTERNAL_ERROR'
        """
        return self.error_code

    def get_http_status_code(self) -> int:
        """Return the HTTP status of this error, as ``MlflowException`` does.

        Returns
        -------
        int
            404 for ``RESOURCE_DOES_NOT_EXIST``, 400 for
            ``INVALID_PARAMETER_VALUE``, MLflow's status for its other codes, and
            500 for any code MLflow does not know.

        Examples
        --------
        >>> from mltrail import InvalidValueError, NotFoundError
        >>> NotFoundError("run", "abc").get_http_status_code()
        404
        >>> error = InvalidValueError("metric key", "", "a non-empty str")
        >>> error.get_http_status_code()
        400
        """
        return HTTP_STATUS_BY_ERROR_CODE.get(self.error_code, 500)


class NotFoundError(MltrailError):
    """The experiment, run, artifact or model that was asked for does not exist.

    Parameters
    ----------
    kind : str
        What was looked for, such as ``"run"`` or ``"experiment"``.
    key : str
        The id, name or path that was looked up.
    hint : str, default=""
        What the caller could do instead.

    Examples
    --------
    >>> from mltrail import NotFoundError
    >>> str(NotFoundError("run", "abc"))
    "run 'abc' does not exist."
    """

    error_code = "RESOURCE_DOES_NOT_EXIST"

    def __init__(self, kind: str, key: str, hint: str = "") -> None:
        self.kind = kind
        self.key = key
        message = f"{kind} {key!r} does not exist."
        super().__init__(f"{message} {hint}" if hint else message)


class InvalidValueError(MltrailError, ValueError):
    """A value is malformed, of the wrong type or out of range.

    Parameters
    ----------
    name : str
        What the value is, such as ``"metric key"``.
    value : object
        The offending value.
    expected : str
        What would have been accepted.
    hint : str, default=""
        How to fix it.

    Examples
    --------
    >>> from mltrail import InvalidValueError
    >>> str(InvalidValueError("metric key", "", "a non-empty str", "Use 'val/loss'."))
    "metric key must be a non-empty str; got ''. Use 'val/loss'."
    """

    error_code = "INVALID_PARAMETER_VALUE"

    def __init__(self, name: str, value: object, expected: str, hint: str = "") -> None:
        self.name = name
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > 200:
            shown = shown[:197] + "..."
        message = f"{name} must be {expected}; got {shown}."
        super().__init__(f"{message} {hint}" if hint else message)


class FilterSyntaxError(InvalidValueError):
    """A search filter or ``order_by`` clause does not parse.

    Parameters
    ----------
    text : str
        The whole filter or clause.
    position : int
        The 0-based character offset where parsing failed.
    expected : str
        What the parser expected at that position.

    Examples
    --------
    >>> from mltrail import FilterSyntaxError
    >>> print(FilterSyntaxError("metrics.acc >", 13, "a value"))
    invalid filter at position 13: expected a value.
        metrics.acc >
                     ^
    """

    def __init__(self, text: str, position: int, expected: str) -> None:
        self.name = "filter"
        self.value = text
        self.expected = expected
        self.text = text
        self.position = position
        # Text that cannot be printed (a lone surrogate) is shown escaped.
        before = text[:position].encode("utf-8", "backslashreplace").decode()
        shown = text.encode("utf-8", "backslashreplace").decode()
        pointer = " " * (len(before) + 4) + "^"
        MltrailError.__init__(
            self,
            f"invalid filter at position {position}: expected {expected}.\n"
            f"    {shown}\n{pointer}",
        )


class ConflictError(MltrailError):
    """The write contradicts what the store already holds.

    Parameters
    ----------
    message : str
        What conflicts with what, and a hint.
    error_code : str or None, default=None
        MLflow's code for the error; None for ``"INVALID_PARAMETER_VALUE"``.

    Examples
    --------
    >>> from mltrail import ConflictError
    >>> isinstance(ConflictError("param 'C' is 1.0, cannot become 2.0."), Exception)
    True
    """

    # As MLflow's server answers a changed param or an existing name.
    error_code = "INVALID_PARAMETER_VALUE"


class StoreError(MltrailError):
    """The store cannot be reached, or holds a schema this version does not know.

    Parameters
    ----------
    message : str
        What failed, and a hint.
    error_code : str or None, default=None
        MLflow's code for the error; None for ``"INTERNAL_ERROR"``.

    Examples
    --------
    >>> from mltrail import StoreError
    >>> issubclass(StoreError, Exception)
    True
    """


class MltrailWarning(UserWarning):
    """Something went wrong that does not stop the user's code, such as autologging.

    Examples
    --------
    >>> import warnings
    >>> from mltrail import MltrailWarning
    >>> issubclass(MltrailWarning, UserWarning)
    True
    """


class MltrailDeprecationWarning(MltrailWarning):
    """A public name or behaviour will be removed in the next minor release.

    Examples
    --------
    >>> from mltrail import MltrailDeprecationWarning, MltrailWarning
    >>> issubclass(MltrailDeprecationWarning, MltrailWarning)
    True
    """
