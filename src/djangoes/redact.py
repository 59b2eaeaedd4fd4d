"""Keeping secrets out of messages, whatever shape the setting holding them has.

Credentials reach djangoes in many shapes: ``PARAMS`` keys (``basic_auth``,
``http_auth``, ``api_key``, ``bearer_auth``), HTTP headers
(``PARAMS['headers']['Authorization']``), the user-info of a HOSTS URL
(``https://user:pw@host``, or ``user:pw@host`` without a scheme), a query
string (``?api_key=...``), keys of a host dict, or elasticsearch-django's
connection URLs and keyword dicts. Two tools cover them all:

* :func:`mask_secrets` returns a copy of any settings value fit to show:
  values under a secret-looking key, URL passwords and query values become
  ``'***'``;
* :func:`secret_values` collects the secret strings of a raw setting, and
  :func:`scrub` removes them from a finished message. Every message built
  from settings goes through it (the handler's problems, the errors of client
  construction, the server checks), so a message that quotes a value some
  other way still shows no secret.

Pure functions: no settings read, nothing imported from the rest of djangoes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["MASK", "is_secret_key", "mask_secrets", "mask_url", "scrub", "secret_values"]

MASK = "***"

#: Key names (lower case, without ``-`` and ``_``) whose values are secrets.
_SECRET_KEYS = frozenset(
    {
        "authorization", "proxyauthorization", "cookie", "setcookie", "apikey", "xapikey",
        "password", "passwd", "pwd", "secret", "token", "auth",
    }
)  # fmt: skip
#: Parts of a key name that make it secret (``client_secret``, ``access_token``...).
_SECRET_PARTS = ("password", "secret", "token", "apikey")
#: Keys whose value is ``user:password`` or ``(user, password)``: the user name is no secret.
_USER_PASSWORD_KEYS = frozenset({"basicauth", "httpauth"})
#: Secrets shorter than this are not searched for in free text (they would
#: match ordinary words); they are still masked wherever they are a value.
MIN_SCRUB_LENGTH = 4

#: ``[scheme://]user:password@`` at the start of a host string; the password
#: runs to the last ``@`` before the host (as ``urlsplit`` reads it).
_USERINFO = re.compile(
    r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)?(?P<user>[^:/@\s]*):(?P<pw>[^/\s]*)@(?=[^@/]*(?:/|$))"
)


def _normal(key: object) -> str:
    return str(key).lower().replace("-", "").replace("_", "")


def is_secret_key(key: object) -> bool:
    """Whether a dict key names a secret (``api_key``, ``Authorization``, ``http_auth``...)."""
    name = _normal(key)
    return name in _SECRET_KEYS or name.endswith("auth") or any(p in name for p in _SECRET_PARTS)


def mask_url(url: str) -> str:
    """``url`` with its password and query values replaced by ``***``.

    Works on full URLs and on scheme-less ``user:password@host:port``
    strings; text that is not a URL at all is returned unchanged.
    """
    text = url
    match = _USERINFO.match(text)
    if match is not None and match["pw"]:
        text = f"{match['scheme'] or ''}{match['user']}:{MASK}@{text[match.end() :]}"
    if "?" not in text:
        return text
    head, _, tail = text.partition("?")
    query, hash_sign, fragment = tail.partition("#")
    try:
        pairs = parse_qsl(query, keep_blank_values=True)
    except ValueError:
        return f"{head}?{MASK}"
    if not pairs:
        return f"{head}?{MASK}" if query else text
    masked = urlencode([(name, MASK) for name, _ in pairs], safe="*")
    return f"{head}?{masked}{hash_sign}{fragment}"


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` fit for a message: every secret in it replaced by ``'***'``.

    Dicts keep their keys (a secret key's value is masked whole, nested
    ``headers`` included); strings are masked as URLs; lists and tuples are
    masked item by item.
    """
    if isinstance(value, Mapping):
        return {k: (MASK if is_secret_key(k) else mask_secrets(v)) for k, v in value.items()}
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, tuple):
        return tuple(mask_secrets(v) for v in value)
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def secret_values(value: Any) -> set[str]:
    """Every secret string inside a raw settings value (see the module docstring)."""
    found: set[str] = set()
    _collect(value, found, secret_key=None)
    return found


def _collect(value: Any, found: set[str], secret_key: str | None) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _collect(item, found, _normal(key) if is_secret_key(key) else secret_key)
        return
    if isinstance(value, (list, tuple)):
        items = list(value)
        if secret_key in _USER_PASSWORD_KEYS and len(items) == 2:
            items = items[1:]  # (user, password): the user name stays readable
        for item in items:
            _collect(item, found, secret_key)
        return
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if not isinstance(value, str) or not value:
        return
    if secret_key is not None:
        found.add(value)
        if secret_key in _USER_PASSWORD_KEYS and ":" in value:
            found.add(value.partition(":")[2])
        scheme, _, token = value.partition(" ")
        if token and scheme.isalpha():  # "Bearer <token>", "ApiKey <key>", "Basic <b64>"
            found.add(token)
        return
    match = _USERINFO.match(value)
    if match is not None and match["pw"]:
        found.add(match["pw"])
    if "?" in value:
        try:
            query = urlsplit(value).query if "://" in value else value.partition("?")[2]
            found.update(v for _, v in parse_qsl(query.partition("#")[0]) if v)
        except ValueError:
            found.add(value.partition("?")[2])


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***`` (longest first)."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
