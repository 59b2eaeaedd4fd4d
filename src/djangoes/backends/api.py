"""One calling convention for the index-aware methods, whatever the client.

Calling code may use the elasticsearch-py 8 keyword style
(``search(query=..., aggs=..., size=10)``), the older ``body=`` style, or the
positional forms of the djangoes 0.3 guide (``search(query_dict)``,
``create(doc_id, document)``). :func:`normalize_call` turns all of them into
one :class:`Call` (a body and URL parameters); each backend then sends it
with ``body=`` which both elasticsearch-py and opensearch-py accept.

The body field lists follow the Elasticsearch REST API: a keyword in
``body_fields`` goes into the request body, any other keyword is a URL
parameter.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Scope = Literal["multi", "single"]

_SEARCH_FIELDS = frozenset(
    {
        "aggregations", "aggs", "collapse", "docvalue_fields", "explain", "ext", "fields",
        "from_", "highlight", "indices_boost", "knn", "min_score", "pit", "post_filter",
        "profile", "query", "rank", "rescore", "retriever", "runtime_mappings",
        "script_fields", "search_after", "seq_no_primary_term", "size", "slice", "sort",
        "source", "_source", "stats", "stored_fields", "suggest", "terminate_after", "timeout",
        "track_scores", "track_total_hits", "version",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ApiSpec:
    """How one client method takes its arguments."""

    name: str
    scope: Scope
    #: Keyword that is the whole body (``document``, ``operations``, ``searches``).
    body_name: str | None = None
    #: Keywords that are fields of the body.
    body_fields: frozenset[str] = frozenset()
    #: Keyword -> body key, where the Python name differs from the JSON one.
    renames: Mapping[str, str] = field(default_factory=dict)
    #: Names of the modern positional arguments, in order.
    positional: tuple[str, ...] = ()
    #: Whether ``body`` is a list (NDJSON) rather than an object.
    list_body: bool = False
    #: Whether a body is required.
    needs_body: bool = False


_SOURCE_RENAMES = {"from_": "from", "source": "_source"}

SPECS: dict[str, ApiSpec] = {
    spec.name: spec
    for spec in (
        ApiSpec("search", "multi", body_fields=_SEARCH_FIELDS, renames=_SOURCE_RENAMES),
        ApiSpec("count", "multi", body_fields=frozenset({"query"})),
        ApiSpec("msearch", "multi", body_name="searches", list_body=True, needs_body=True),
        ApiSpec(
            "delete_by_query",
            "multi",
            body_fields=frozenset({"max_docs", "query", "slice", "sort"}),
            needs_body=True,
        ),
        ApiSpec(
            "update_by_query",
            "multi",
            body_fields=frozenset({"conflicts", "max_docs", "query", "script", "slice"}),
        ),
        ApiSpec(
            "index", "single", body_name="document", positional=("id", "document"),
            needs_body=True,
        ),
        ApiSpec(
            "create", "single", body_name="document", positional=("id", "document"),
            needs_body=True,
        ),
        ApiSpec(
            "update",
            "single",
            body_fields=frozenset(
                {"detect_noop", "doc", "doc_as_upsert", "script", "scripted_upsert", "upsert"}
            ),
            positional=("id", "body"),
            needs_body=True,
        ),
        ApiSpec("get", "single", positional=("id",)),
        ApiSpec("exists", "single", positional=("id",)),
        ApiSpec("delete", "single", positional=("id",)),
        ApiSpec(
            "mget", "single", body_fields=frozenset({"docs", "ids"}), positional=("body",),
            needs_body=True,
        ),
        ApiSpec(
            "bulk", "single", body_name="operations", positional=("body",), list_body=True,
            needs_body=True,
        ),
    )
}  # fmt: skip


@dataclass
class Call:
    """A normalised call: target index (None = the connection's default), body, URL params."""

    api: str
    index: Any = None
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)


class CallError(TypeError):
    """The arguments of an index-aware method do not fit together."""


def _warn_doc_type() -> None:
    warnings.warn(
        "doc_type is ignored: mapping types were removed from Elasticsearch 7 and "
        "OpenSearch. Remove the doc_type argument.",
        DeprecationWarning,
        stacklevel=5,
    )


def normalize_call(spec: ApiSpec, args: Sequence[Any], kwargs: dict[str, Any]) -> Call:
    """Turn any supported argument style into a :class:`Call`.

    Raises :class:`CallError` naming the method and the argument that is wrong.
    """
    kwargs = dict(kwargs)
    if "doc_type" in kwargs:
        kwargs.pop("doc_type")
        _warn_doc_type()
    if "doc_id" in kwargs:  # djangoes 0.3 spelling
        if "id" in kwargs:
            raise CallError(f"{spec.name}() got both 'id' and 'doc_id'; use 'id'.")
        kwargs["id"] = kwargs.pop("doc_id")
    _apply_positional(spec, args, kwargs)

    call = Call(spec.name, index=kwargs.pop("index", None))
    body = kwargs.pop("body", None)
    if spec.body_name is not None and spec.body_name in kwargs:
        if body is not None:
            raise CallError(
                f"{spec.name}() got both 'body' and {spec.body_name!r}; they are the same "
                f"thing, give only {spec.body_name!r}."
            )
        body = kwargs.pop(spec.body_name)
    fields = {k: kwargs.pop(k) for k in list(kwargs) if k in spec.body_fields}
    if fields:
        if body is None:
            body = {}
        elif not isinstance(body, Mapping):
            raise CallError(
                f"{spec.name}() got a body that is not a dict together with "
                f"{', '.join(sorted(fields))}."
            )
        else:
            body = dict(body)
        for key, value in fields.items():
            json_key = spec.renames.get(key, key)
            if json_key in body:
                raise CallError(
                    f"{spec.name}() got {json_key!r} both in body and as an argument; give it once."
                )
            body[json_key] = value
    if spec.list_body and body is not None and isinstance(body, Mapping):
        raise CallError(f"{spec.name}() takes a list of lines as its body, not a dict.")
    if spec.needs_body and body is None:
        what = spec.body_name or "body"
        raise CallError(f"{spec.name}() needs {what!r}.")
    call.body = body
    call.params = kwargs
    return call


def _apply_positional(spec: ApiSpec, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    if not args:
        return
    if spec.scope == "multi":
        # 0.3 guide: search(doc_type, body), search(body), search(doc_type=..., body=...)
        for arg in args:
            if isinstance(arg, str):
                _warn_doc_type()
            elif isinstance(arg, (Mapping, list, tuple)):
                if "body" in kwargs:
                    raise CallError(f"{spec.name}() got the body twice.")
                kwargs["body"] = arg
            else:
                raise CallError(
                    f"{spec.name}() takes the body (a dict) as its only positional argument, "
                    f"not {type(arg).__name__}."
                )
        return
    if len(args) > len(spec.positional):
        raise CallError(
            f"{spec.name}() takes at most {len(spec.positional)} positional arguments "
            f"({', '.join(spec.positional)}), got {len(args)}."
        )
    for name, value in zip(spec.positional, args, strict=False):
        if name in kwargs:
            raise CallError(f"{spec.name}() got {name!r} twice.")
        kwargs[name] = value
