"""The exceptions of djangoes, one tree whatever client library is underneath.

::

    DjangoesError
     ├── ConfigurationError (also django ImproperlyConfigured)
     ├── ConnectionDoesNotExist (also KeyError)
     ├── IndexDoesNotExist (also KeyError)
     ├── SingleIndexOperationError (also ValueError)
     ├── LiveIndexAccessError (also RuntimeError)
 ├── RemovedAPIError (also NotImplementedError)
     └── TransportError                 .status, .info, __cause__ = client error
          ├── ConnectionError (also builtins.ConnectionError)   status None
          │    └── ConnectionTimeout (also TimeoutError)
          ├── BadRequestError (also ValueError)                  400
          ├── AuthenticationError (also PermissionError)         401
          ├── AuthorizationError (also PermissionError)          403
          ├── NotFoundError (also LookupError)                   404
          └── ConflictError                                      409

Client errors are translated in one place (:func:`translate_transport_error`,
called by each backend's ``wrap_errors``); the original exception is chained
as ``__cause__`` so nothing the client said is lost.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionDoesNotExist",
    "ConnectionError",
    "ConnectionTimeout",
    "DjangoesError",
    "IndexDoesNotExist",
    "LiveIndexAccessError",
    "NotFoundError",
    "RemovedAPIError",
    "SingleIndexOperationError",
    "TransportError",
    "describe_error_body",
    "error_class_for_status",
]


class DjangoesError(Exception):
    """Root of every exception raised by djangoes."""


class ConfigurationError(DjangoesError, ImproperlyConfigured):
    """A setting is wrong; the message names the setting, the key and the value."""


class ConnectionDoesNotExist(DjangoesError, KeyError):
    """``connections[alias]`` was asked for an alias that is not configured."""

    def __init__(self, alias: str, configured: list[str] | tuple[str, ...] = ()) -> None:
        self.alias = alias
        self.configured = list(configured)
        choices = ", ".join(repr(a) for a in self.configured) or "none"
        super().__init__(
            f"The connection {alias!r} doesn't exist. Configured connections in "
            f"ES_SERVERS: {choices}."
        )

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0])


class IndexDoesNotExist(DjangoesError, KeyError):
    """An index key was asked for that the connection or ``ES_INDICES`` does not have."""

    def __init__(self, index: str, message: str | None = None) -> None:
        self.index = index
        if message is None:
            message = f"The index {index!r} doesn't exist: it is not a key of ES_INDICES."
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


class SingleIndexOperationError(DjangoesError, ValueError):
    """A single-index call (get, index, update...) on a connection with several indices."""


class LiveIndexAccessError(DjangoesError, RuntimeError):
    """Code running under test settings tried to reach a live (non-test) index."""


class RemovedAPIError(DjangoesError, NotImplementedError):
    """An API of djangoes 0.3's time that the engines removed; the message says what replaced it."""


class TransportError(DjangoesError):
    """The engine answered with an error, or could not be reached.

    ``status`` is the HTTP status (``None`` when no answer came back), ``info``
    the decoded error body when there was one, ``__cause__`` the client's own
    exception.
    """

    def __init__(self, message: str, status: int | None = None, info: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.info = info

    @property
    def error_type(self) -> str | None:
        """The engine's error type (``index_not_found_exception``...) when it gave one."""
        if isinstance(self.info, Mapping):
            error = self.info.get("error")
            if isinstance(error, Mapping):
                value = error.get("type")
                return str(value) if value is not None else None
            if isinstance(error, str):
                return error
        return None

    def __str__(self) -> str:
        if self.status is None:
            return self.message
        return f"{self.status} {self.message}"


class ConnectionError(TransportError, builtins.ConnectionError):
    """No answer from the engine: refused, reset, DNS, TLS handshake..."""


class ConnectionTimeout(ConnectionError, TimeoutError):
    """The engine did not answer in time."""


class BadRequestError(TransportError, ValueError):
    """400: the engine rejected the request (bad query, mapping conflict...)."""


class AuthenticationError(TransportError, PermissionError):
    """401: credentials missing or wrong."""


class AuthorizationError(TransportError, PermissionError):
    """403: the credentials may not do this."""


class NotFoundError(TransportError, LookupError):
    """404: no such index or document."""


class ConflictError(TransportError):
    """409: version conflict, or the document already exists."""


_STATUS_CLASSES: dict[int, type[TransportError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    409: ConflictError,
}


def error_class_for_status(status: int | None) -> type[TransportError]:
    """The djangoes exception class for an HTTP status (``TransportError`` if none fits)."""
    if status is None:
        return ConnectionError
    return _STATUS_CLASSES.get(status, TransportError)


def describe_error_body(info: Any) -> str | None:
    """``'type: reason'`` from an engine's error body, or None if it has neither."""
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            kind, reason = error.get("type"), error.get("reason")
            if kind and reason:
                return f"{kind}: {reason}"
            if kind or reason:
                return str(kind or reason)
        elif isinstance(error, str):
            return error
    return None
