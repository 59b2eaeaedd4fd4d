"""Reading and validating ``ES_SERVERS`` and ``ES_INDICES``.

Everything here is pure data handling: no network, no client import, nothing
read at import time. :func:`parse` turns the two raw settings into
normalised copies (the user's dicts are never touched) plus a list of
:class:`Problem`; the connection handler raises the first error as
:class:`~djangoes.exceptions.ConfigurationError` and the system checks
report all of them with their ids.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, Literal, TypedDict
from urllib.parse import quote, unquote, urlsplit

from djangoes.exceptions import ConfigurationError
from djangoes.redact import mask_secrets, scrub, secret_values

if TYPE_CHECKING:
    from djangoes.options import Options

DEFAULT_ES_ALIAS = "default"
DEFAULT_ENGINE = "djangoes.backends.elasticsearch.SimpleHttpBackend"
DEFAULT_PORT = 9200
DEFAULT_HOSTS = ("http://localhost:9200",)
TEST_PREFIX = "test_"

SERVER_KEYS = ("HOSTS", "ENGINE", "INDICES", "PARAMS", "TEST")
SERVER_TEST_KEYS = ("INDICES",)
INDEX_KEYS = ("NAME", "ALIASES", "SETTINGS", "TEST", "MODELS", "MAPPING")
INDEX_TEST_KEYS = ("NAME", "ALIASES", "SETTINGS")
CREATE_BODY_KEYS = frozenset({"settings", "mappings", "aliases"})
HOST_DICT_KEYS = ("host", "port", "scheme", "path_prefix", "url_prefix", "use_ssl")

#: Index and alias names the engines accept (lower case, no separators).
MAX_NAME_BYTES = 255
_FORBIDDEN_NAME_CHARS = set('\\/*?"<>| ,#:')

ProblemLevel = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the settings, as reported by checks and errors."""

    id: str
    msg: str
    hint: str | None = None
    level: ProblemLevel = "error"

    def as_exception(self) -> ConfigurationError:
        text = self.msg if not self.hint else f"{self.msg} {self.hint}"
        return ConfigurationError(text)


class IndexTestSettings(TypedDict):
    NAME: str
    ALIASES: list[str]
    #: The creation body under test; None: the live SETTINGS.
    SETTINGS: dict[str, Any] | None


class IndexSettings(TypedDict):
    """One normalised entry of ``ES_INDICES`` (``KEY`` is its key there)."""

    KEY: str
    NAME: str
    ALIASES: list[str]
    SETTINGS: dict[str, Any]
    TEST: IndexTestSettings
    MODELS: list[str]
    MAPPING: str | None


class ServerTestSettings(TypedDict):
    INDICES: list[str] | None


class ServerSettings(TypedDict):
    """One normalised entry of ``ES_SERVERS``."""

    HOSTS: list[str]
    ENGINE: str
    INDICES: list[str]
    PARAMS: dict[str, Any]
    TEST: ServerTestSettings


@dataclass
class Settings:
    """The result of :func:`parse`: normalised copies and what is wrong with them.

    Its ``repr()`` names the connections and indexes only: ``servers`` holds
    credentials (``PARAMS``).
    """

    servers: dict[str, ServerSettings] = field(default_factory=dict)
    indices: dict[str, IndexSettings] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: The DJANGOES setting, set by the connection handler.
    options: Options | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def __repr__(self) -> str:
        problems = [p.id for p in self.problems]
        return (
            f"<Settings servers={list(self.servers)!r} indices={list(self.indices)!r} "
            f"problems={problems!r}>"
        )

    def raise_first_error(self) -> None:
        errors = self.errors
        if errors:
            raise errors[0].as_exception()


def server_defaults() -> ServerSettings:
    """An ES_SERVERS entry with every key at its default (a new object each call)."""
    return ServerSettings(
        HOSTS=list(DEFAULT_HOSTS),
        ENGINE=DEFAULT_ENGINE,
        INDICES=[],
        PARAMS={},
        TEST=ServerTestSettings(INDICES=None),
    )


def index_defaults(key: str, name: str | None = None, aliases: Sequence[str] = ()) -> IndexSettings:
    """An ES_INDICES entry for ``key`` with every other key at its default."""
    name = key if name is None else name
    return IndexSettings(
        KEY=key,
        NAME=name,
        ALIASES=list(aliases),
        SETTINGS={},
        TEST=IndexTestSettings(
            NAME=TEST_PREFIX + name, ALIASES=[TEST_PREFIX + a for a in aliases], SETTINGS=None
        ),
        MODELS=[],
        MAPPING=None,
    )


def complete_server(raw: Mapping[str, Any]) -> ServerSettings:
    """A copy of an ES_SERVERS entry with the missing keys filled in (no validation).

    For server dicts built by hand (``Base('alias', {}, {...})``, as the 0.3
    tests do); settings read by the connection handler are validated by
    :func:`parse` instead.
    """
    given: dict[str, Any] = copy.deepcopy(dict(raw))
    test: Mapping[str, Any] = given.pop("TEST", None) or {}
    server = server_defaults()
    server.update(given)  # type: ignore[typeddict-item]
    server["TEST"] = ServerTestSettings(INDICES=list(test.get("INDICES") or []) or None)
    return server


def complete_index(key: str, raw: Mapping[str, Any]) -> IndexSettings:
    """A copy of an ES_INDICES entry with the missing keys filled in (no validation)."""
    raw = copy.deepcopy(dict(raw))
    index = index_defaults(key, raw.get("NAME") or key, raw.get("ALIASES") or ())
    index["KEY"] = raw.get("KEY", key)
    settings = raw.get("SETTINGS")
    index["SETTINGS"] = creation_body(settings) if isinstance(settings, Mapping) else {}
    index["MODELS"] = list(raw.get("MODELS") or [])
    index["MAPPING"] = raw.get("MAPPING")
    test = raw.get("TEST") or {}
    index["TEST"]["NAME"] = test.get("NAME", index["TEST"]["NAME"])
    index["TEST"]["ALIASES"] = list(test.get("ALIASES", index["TEST"]["ALIASES"]))
    if isinstance(test.get("SETTINGS"), Mapping):
        index["TEST"]["SETTINGS"] = creation_body(test["SETTINGS"])
    return index


# ---------------------------------------------------------------------------
# small helpers


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """' Did you mean 'X'?' for the closest choice (case-insensitive), or ''."""
    choices = list(choices)
    by_upper = {c.upper(): c for c in choices}
    if value.upper() in by_upper:
        return f" Did you mean {by_upper[value.upper()]!r}?"
    close = get_close_matches(value.upper(), list(by_upper), n=1, cutoff=0.6)
    return f" Did you mean {by_upper[close[0]]!r}?" if close else ""


def index_name_error(name: object) -> str | None:
    """Why the engines would reject ``name`` as an index or alias name, or None."""
    if not isinstance(name, str):
        return f"must be a string, not {type(name).__name__}"
    if not name:
        return "must not be empty"
    if name in {".", ".."}:
        return "must not be '.' or '..'"
    if name != name.lower():
        return "must be lower case"
    if name[0] in "-_+":
        return "must not start with '-', '_' or '+'"
    bad = sorted(set(name) & _FORBIDDEN_NAME_CHARS)
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"must not contain {shown}"
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"must not be longer than {MAX_NAME_BYTES} bytes"
    return None


def is_loopback(hostname: str | None) -> bool:
    """Whether ``hostname`` is this machine: ``localhost`` or a loopback IP address.

    Only an address counts, not a name that looks like one
    (``127.0.0.1.example.com`` can point anywhere).
    """
    if hostname is None:
        return False
    if hostname.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[^:/\s\[\]]+)(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class Host:
    """One normalised host: a URL without credentials, plus the credentials."""

    url: str
    username: str | None = None
    password: str | None = None


def normalize_host(value: object) -> Host:
    """Turn ``'host'``, ``'host:port'``, a URL or a dict into a :class:`Host`.

    Scheme-less hosts get ``http://`` and port 9200; URLs without a port get
    their scheme's default (80/443). Raises ``ValueError`` saying what is wrong.
    """
    if isinstance(value, Mapping):
        return _host_from_dict(value)
    if not isinstance(value, str):
        raise ValueError(f"must be a string or a dict, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    if "://" not in text:
        match = _HOST_PORT.match(text)
        if not match:
            raise ValueError("is neither 'host', 'host:port' nor a URL")
        port = int(match["port"]) if match["port"] else DEFAULT_PORT
        return Host(_build_url("http", match["host"], port, ""))
    try:
        parts = urlsplit(text)
        given_port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"has scheme {parts.scheme!r}; use 'http' or 'https'")
    if not parts.hostname:
        raise ValueError("has no host name")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    port = given_port if given_port is not None else (443 if parts.scheme == "https" else 80)
    hostname = parts.hostname
    if ":" in hostname:  # IPv6 literal
        hostname = f"[{hostname}]"
    url = _build_url(parts.scheme, hostname, port, parts.path)
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return Host(url, username, password)


def _host_from_dict(value: Mapping[str, Any]) -> Host:
    unknown = [k for k in value if k not in HOST_DICT_KEYS]
    if unknown:
        key = str(unknown[0])
        raise ValueError(
            f"has unknown key {key!r}{did_you_mean(key, HOST_DICT_KEYS)} "
            f"(known keys: {', '.join(HOST_DICT_KEYS)})"
        )
    host = value.get("host")
    if not isinstance(host, str) or not host:
        raise ValueError("needs a 'host' string")
    scheme = value.get("scheme") or ("https" if value.get("use_ssl") else "http")
    if scheme not in {"http", "https"}:
        raise ValueError(f"has scheme {scheme!r}; use 'http' or 'https'")
    port = value.get("port", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"has port {port!r}; use a number between 1 and 65535")
    prefix = value.get("path_prefix") or value.get("url_prefix") or ""
    if not isinstance(prefix, str):
        raise ValueError("has a path prefix that is not a string")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return Host(_build_url(scheme, host, port, prefix))


def _build_url(scheme: str, host: str, port: int, path: str) -> str:
    path = path.rstrip("/")
    if path and not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{host}:{port}{quote(path, safe='/')}"


# ---------------------------------------------------------------------------
# parsing


def parse(raw_servers: object = None, raw_indices: object = None) -> Settings:
    """Validate and normalise ``ES_SERVERS`` / ``ES_INDICES`` (``None`` = not set).

    The result holds deep copies with every default filled in; problems are
    collected rather than raised so that ``manage.py check`` can show them all.
    """
    result = Settings()
    indices = _parse_indices(raw_indices, result.problems)
    result.indices = indices
    # keys of ES_INDICES with an error of their own: INDICES naming them are not told to add them
    invalid = frozenset(raw_indices) - indices.keys() if isinstance(raw_indices, Mapping) else ()
    result.servers = _parse_servers(raw_servers, indices, result.problems, frozenset(invalid))
    result.problems = scrub_problems(result.problems, secret_values(raw_servers))
    return result


def scrub_problems(problems: Iterable[Problem], secrets: set[str]) -> list[Problem]:
    """``problems`` with every secret of ``secrets`` removed from their texts."""
    if not secrets:
        return list(problems)
    return [
        dataclasses.replace(
            p, msg=scrub(p.msg, secrets), hint=None if p.hint is None else scrub(p.hint, secrets)
        )
        for p in problems
    ]


def _or(value: object, default: object) -> Any:
    """``default`` when the setting is absent or None (a wrong type is kept, to be reported)."""
    return default if value is None else value


def _mapping(
    where: str,
    value: object,
    problems: list[Problem],
    hint: str | None,
    what: str = "a dict",
    *,
    show_value: bool = True,
) -> Mapping[str, Any] | None:
    """``value`` when it is a dict (absent counts as empty), else a problem and None.

    ``show_value=False`` names only the type, for settings that hold
    credentials in shapes no masking can recognise (PARAMS as a list of pairs).
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    shown = f" ({mask_secrets(value)!r})" if show_value else ""
    problems.append(
        Problem(
            "djangoes.E003",
            f"{where} must be {what}, not {_type_name(value)}{shown}.",
            hint=hint,
        )
    )
    return None


def _type_name(value: object) -> str:
    return type(value).__name__


def _parse_indices(raw: object, problems: list[Problem]) -> dict[str, IndexSettings]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(
            Problem(
                "djangoes.E001",
                f"ES_INDICES must be a dict of index keys to dicts, not {_type_name(raw)}.",
                hint="Example: ES_INDICES = {'blog': {'NAME': 'blog'}}.",
            )
        )
        return {}
    result: dict[str, IndexSettings] = {}
    for key, value in raw.items():
        index = _parse_index(key, value, problems)
        if index is not None:
            result[key] = index
    return result


def _check_keys(
    where: str, value: Mapping[Any, Any], known: Sequence[str], problems: list[Problem]
) -> None:
    for key in value:
        if key not in known:
            problems.append(
                Problem(
                    "djangoes.E002",
                    f"{where} has an unknown key {key!r}.{did_you_mean(str(key), known)}",
                    hint=f"Known keys: {', '.join(known)}.",
                )
            )


def _name_list(
    where: str, value: object, problems: list[Problem], *, check_names: bool = True
) -> list[str] | None:
    """A list of strings from a list/tuple (or one string), else a problem."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        problems.append(
            Problem(
                "djangoes.E003",
                f"{where} must be a list of strings, not {_type_name(value)} "
                f"({mask_secrets(value)!r}).",
            )
        )
        return None
    names: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            problems.append(
                Problem(
                    "djangoes.E003",
                    f"{where}[{i}] must be a string, not {_type_name(item)} "
                    f"({mask_secrets(item)!r}).",
                )
            )
            continue
        if check_names:
            error = index_name_error(item)
            if error:
                problems.append(
                    Problem(
                        "djangoes.E009",
                        f"{where}[{i}] = {item!r} is not a valid index or alias name: it {error}.",
                        hint="Index and alias names are lower case and may not contain "
                        'spaces or any of \\ / * ? " < > | , # :',
                    )
                )
                continue
        names.append(item)
    return names


def _valid_name(where: str, value: object, problems: list[Problem]) -> str | None:
    error = index_name_error(value)
    if error:
        problems.append(
            Problem(
                "djangoes.E009",
                f"{where} = {value!r} is not a valid index name: it {error}.",
                hint="Index names are lower case and may not start with '-', '_' or '+', "
                'nor contain spaces or any of \\ / * ? " < > | , # :',
            )
        )
        return None
    assert isinstance(value, str)
    return value


def creation_body(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The index-creation body for ``SETTINGS``.

    ``SETTINGS`` may be a creation body (``settings`` / ``mappings`` /
    ``aliases`` keys) or plain index settings, which are wrapped in
    ``{'settings': ...}``.
    """
    body = copy.deepcopy(dict(settings))
    if body and not set(body) <= CREATE_BODY_KEYS:
        return {"settings": body}
    return body


def _parse_index(key: object, value: object, problems: list[Problem]) -> IndexSettings | None:
    if not isinstance(key, str):
        problems.append(Problem("djangoes.E003", f"ES_INDICES keys must be strings, not {key!r}."))
        return None
    where = f"ES_INDICES[{key!r}]"
    value = _mapping(
        where, value, problems, hint="Example: {'NAME': 'blog', 'ALIASES': ['blog_public']}."
    )
    if value is None:
        return None
    ok = True
    _check_keys(where, value, INDEX_KEYS, problems)
    name = _valid_name(f"{where}['NAME']", value.get("NAME", key), problems)
    ok &= name is not None
    aliases = _name_list(f"{where}['ALIASES']", _or(value.get("ALIASES"), []), problems)
    ok &= aliases is not None
    settings = _mapping(
        f"{where}['SETTINGS']",
        value.get("SETTINGS"),
        problems,
        hint="Give the index-creation body, e.g. {'settings': {...}, 'mappings': {...}}.",
    )
    ok &= settings is not None
    models = _parse_models(f"{where}['MODELS']", _or(value.get("MODELS"), []), problems)
    ok &= models is not None
    mapping = value.get("MAPPING")
    if mapping is not None and not isinstance(mapping, str):
        problems.append(
            Problem(
                "djangoes.E003",
                f"{where}['MAPPING'] must be a path string, not {_type_name(mapping)} "
                f"({mapping!r}).",
            )
        )
        ok = False
    test = _mapping(
        f"{where}['TEST']", value.get("TEST"), problems, hint="Example: {'NAME': 'test_blog'}."
    )
    if test is None:
        return None
    _check_keys(f"{where}['TEST']", test, INDEX_TEST_KEYS, problems)
    if not ok or name is None or aliases is None or models is None or settings is None:
        return None
    test_name = _valid_name(
        f"{where}['TEST']['NAME']", test.get("NAME", TEST_PREFIX + name), problems
    )
    test_aliases = _name_list(
        f"{where}['TEST']['ALIASES']",
        test.get("ALIASES", [TEST_PREFIX + a for a in aliases]),
        problems,
    )
    test_settings = _mapping(
        f"{where}['TEST']['SETTINGS']",
        test.get("SETTINGS"),
        problems,
        hint="The creation body used under test, e.g. {'settings': {'number_of_replicas': 0}}.",
    )
    if test_name is None or test_aliases is None or test_settings is None:
        return None
    live = {name, *aliases}
    clash = sorted(live & {test_name, *test_aliases})
    if clash:
        problems.append(
            Problem(
                "djangoes.E008",
                f"{where}['TEST'] uses the live name {clash[0]!r}: tests would write to "
                "the live index.",
                hint=f"Give TEST a NAME and ALIASES different from NAME and ALIASES, "
                f"e.g. {TEST_PREFIX + clash[0]!r} (the default).",
            )
        )
        return None
    return IndexSettings(
        KEY=key,
        NAME=name,
        ALIASES=aliases,
        SETTINGS=creation_body(settings),
        TEST=IndexTestSettings(
            NAME=test_name,
            ALIASES=test_aliases,
            SETTINGS=creation_body(test_settings) if "SETTINGS" in test else None,
        ),
        MODELS=models,
        MAPPING=mapping,
    )


_MODEL_LABEL = re.compile(r"^[A-Za-z_][\w]*\.[A-Za-z_]\w*$")


def _parse_models(where: str, value: object, problems: list[Problem]) -> list[str] | None:
    labels = _name_list(where, value, problems, check_names=False)
    if labels is None:
        return None
    for label in labels:
        if not _MODEL_LABEL.match(label):
            problems.append(
                Problem(
                    "djangoes.E003",
                    f"{where} has {label!r}, which is not a model label.",
                    hint="Give models as 'app_label.ModelName', e.g. 'blog.Post'.",
                )
            )
            return None
    return labels


def _parse_servers(
    raw: object,
    indices: Mapping[str, IndexSettings],
    problems: list[Problem],
    invalid: frozenset[str] = frozenset(),
) -> dict[str, ServerSettings]:
    if raw is None or raw == {}:
        raw = {DEFAULT_ES_ALIAS: {}}
    if not isinstance(raw, Mapping):
        problems.append(
            Problem(
                "djangoes.E001",
                f"ES_SERVERS must be a dict of connection aliases to dicts, not {_type_name(raw)}.",
                hint="Example: ES_SERVERS = {'default': {'HOSTS': ['localhost:9200']}}.",
            )
        )
        return {}
    if DEFAULT_ES_ALIAS not in raw:
        problems.append(
            Problem(
                "djangoes.E013",
                f"ES_SERVERS has no {DEFAULT_ES_ALIAS!r} connection (it has "
                f"{', '.join(repr(a) for a in raw)}).",
                hint="djangoes.connection uses the 'default' connection: rename one of them "
                "or add a 'default' entry.",
            )
        )
    result: dict[str, ServerSettings] = {}
    for alias, value in raw.items():
        server = _parse_server(alias, value, indices, problems, invalid)
        if server is not None:
            result[alias] = server
    return result


def _parse_server(
    alias: object,
    value: object,
    indices: Mapping[str, IndexSettings],
    problems: list[Problem],
    invalid: frozenset[str] = frozenset(),
) -> ServerSettings | None:
    if not isinstance(alias, str):
        problems.append(
            Problem("djangoes.E003", f"ES_SERVERS keys must be strings, not {alias!r}.")
        )
        return None
    where = f"ES_SERVERS[{alias!r}]"
    value = _mapping(
        where, value, problems, hint="Example: {'HOSTS': ['localhost:9200'], 'INDICES': ['blog']}."
    )
    if value is None:
        return None
    _check_keys(where, value, SERVER_KEYS, problems)
    ok = True

    engine = value.get("ENGINE", DEFAULT_ENGINE)
    if not isinstance(engine, str) or not engine:
        problems.append(
            Problem(
                "djangoes.E003",
                f"{where}['ENGINE'] must be a dotted path string, not {engine!r}.",
                hint=f"The default is {DEFAULT_ENGINE!r}.",
            )
        )
        ok = False

    given_params = _mapping(
        f"{where}['PARAMS']",
        value.get("PARAMS"),
        problems,
        hint="Example: {'timeout': 10, 'max_retries': 3}.",
        what="a dict of client keyword arguments",
        show_value=False,
    )
    ok &= given_params is not None
    params: dict[Any, Any] = dict(given_params or {})
    for key in params:
        if not isinstance(key, str):
            problems.append(
                Problem("djangoes.E003", f"{where}['PARAMS'] keys must be strings, not {key!r}.")
            )
            ok = False

    if "cloud_id" in params:
        if value.get("HOSTS"):
            problems.append(
                Problem(
                    "djangoes.E012",
                    f"{where} gives both HOSTS and PARAMS['cloud_id'].",
                    hint="An Elastic Cloud id already says where the cluster is: remove HOSTS.",
                )
            )
            ok = False
        hosts: list[str] | None = []
    else:
        hosts = _parse_hosts(where, value.get("HOSTS"), params, problems)
        ok &= hosts is not None

    index_keys = _parse_server_indices(
        f"{where}['INDICES']", value.get("INDICES"), indices, problems, invalid
    )
    ok &= index_keys is not None

    test = _mapping(
        f"{where}['TEST']", value.get("TEST"), problems, hint="Example: {'INDICES': ['blog']}."
    )
    test_indices: list[str] | None = None
    if test is None:
        ok = False
    else:
        _check_keys(f"{where}['TEST']", test, SERVER_TEST_KEYS, problems)
        if test.get("INDICES"):  # empty means "not overridden", as in djangoes 0.3
            test_indices = _parse_server_indices(
                f"{where}['TEST']['INDICES']", test["INDICES"], indices, problems, invalid
            )
            ok &= test_indices is not None
    if not ok or hosts is None or index_keys is None or not isinstance(engine, str):
        return None
    return ServerSettings(
        HOSTS=hosts,
        ENGINE=engine,
        INDICES=index_keys,
        PARAMS=copy.deepcopy(params),
        TEST=ServerTestSettings(INDICES=test_indices),
    )


def _parse_hosts(
    where: str, raw: object, params: dict[str, Any], problems: list[Problem]
) -> list[str] | None:
    if raw is None or raw == [] or raw == ():
        return list(DEFAULT_HOSTS)
    items: Sequence[object]
    if isinstance(raw, (str, Mapping)):
        items = [raw]
    elif isinstance(raw, (list, tuple)):
        items = raw
    else:
        problems.append(
            Problem(
                "djangoes.E003",
                f"{where}['HOSTS'] must be a list of hosts, not {_type_name(raw)} "
                f"({mask_secrets(raw)!r}).",
                hint="Example: ['localhost:9200', 'https://search.example.com'].",
            )
        )
        return None
    urls: list[str] = []
    credentials: set[tuple[str | None, str | None]] = set()
    for i, item in enumerate(items):
        try:
            host = normalize_host(item)
        except ValueError as exc:
            shown = mask_secrets(item)
            problems.append(
                Problem(
                    "djangoes.E010",
                    f"{where}['HOSTS'][{i}] = {shown!r} {exc}.",
                    hint="Use 'host', 'host:port', a URL such as 'https://host:9200', or a "
                    "dict {'host': 'localhost', 'port': 9200, 'scheme': 'http'}.",
                )
            )
            continue
        urls.append(host.url)
        if host.username is not None:
            credentials.add((host.username, host.password))
    if len(urls) != len(items):
        return None
    if credentials:
        if len(credentials) > 1:
            problems.append(
                Problem(
                    "djangoes.E012",
                    f"{where}['HOSTS'] gives different credentials in different URLs.",
                    hint="Give one set of credentials in PARAMS['basic_auth'] instead.",
                )
            )
            return None
        if {"basic_auth", "http_auth", "api_key"} & set(params):
            problems.append(
                Problem(
                    "djangoes.E012",
                    f"{where} gives credentials both in a HOSTS URL and in PARAMS.",
                    hint="Keep them in one place, preferably PARAMS['basic_auth'].",
                )
            )
            return None
        username, password = credentials.pop()
        params["basic_auth"] = (username or "", password or "")
    if any(k in params for k in ("basic_auth", "http_auth", "api_key")):
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme == "http" and not is_loopback(parts.hostname):
                problems.append(
                    Problem(
                        "djangoes.W001",
                        f"{where} sends credentials over plain HTTP to {url!r}.",
                        hint="Use an https:// URL so that the credentials are encrypted.",
                        level="warning",
                    )
                )
                break
    return urls


def _parse_server_indices(
    where: str,
    raw: object,
    indices: Mapping[str, IndexSettings],
    problems: list[Problem],
    invalid: frozenset[str] = frozenset(),
) -> list[str] | None:
    if raw is None:
        return []
    keys = _name_list(where, raw, problems, check_names=False)
    if keys is None:
        return None
    ok = True
    for key in keys:
        if key in invalid:
            ok = False
            problems.append(
                Problem(
                    "djangoes.E004",
                    f"{where} names the index {key!r}, whose ES_INDICES entry is invalid.",
                    hint=f"Fix ES_INDICES[{key!r}] as its own error says.",
                )
            )
        elif key not in indices:
            ok = False
            problems.append(
                Problem(
                    "djangoes.E004",
                    f"{where} names the index {key!r}, which is not in ES_INDICES.",
                    hint=f"Add {key!r} to ES_INDICES.{did_you_mean(key, indices)}",
                )
            )
    return keys if ok else None
