"""One calling convention for the index-aware methods, whatever the client.

Calling code may use the elasticsearch-py 8 keyword style
(``search(query=..., aggs=..., size=10)``), the older ``body=`` style, or the
positional forms of djangoes 0.3 (``index(doc_type, body, doc_id)``...).
:func:`normalize_call` turns all of them into one :class:`Call`: the target
index, the body when one was given (``body=``, or ``document=`` /
``operations=`` / ``searches=``), and every other keyword as it was given.

What goes into the request body and what into the URL is the client's
business: elasticsearch-py's keyword API sorts the keywords itself, so the
Elasticsearch backends pass them through. opensearch-py has no such API (it
takes ``body=`` and URL parameters only); for it, and to check which indices
a request names, :func:`with_fields_in_body` moves the request-body fields of
:data:`SPECS` into the body. A keyword missing from those tables is not
guessed at: it reaches the client as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from djangoes.deprecation import warn_deprecated

#: Where a call goes: the connection's indices, its one index, or no index at all.
Scope = Literal["multi", "single", "none"]

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
    #: Keywords that are fields of the request body (for clients without a
    #: keyword API, and to check what a request names; see the module docstring).
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
        ApiSpec("get_source", "single", positional=("id",)),
        ApiSpec("exists", "single", positional=("id",)),
        ApiSpec("delete", "single", positional=("id",)),
        ApiSpec("explain", "single", body_fields=frozenset({"query"}), positional=("id", "body")),
        ApiSpec(
            "termvectors", "single", body_fields=frozenset({"doc", "filter", "per_field_analyzer"}),
            positional=("id",),
        ),
        ApiSpec("mtermvectors", "single", body_fields=frozenset({"docs", "ids"}),
                positional=("body",)),
        ApiSpec(
            "search_template", "multi",
            body_fields=frozenset({"explain", "id", "params", "profile", "source"}),
        ),
        ApiSpec("search_shards", "multi"),
        ApiSpec("scroll", "none", body_fields=frozenset({"scroll", "scroll_id"}),
                positional=("scroll_id",)),
        ApiSpec("clear_scroll", "none", body_fields=frozenset({"scroll_id"}),
                positional=("scroll_id",)),
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
    warn_deprecated(
        "doc_type is ignored: mapping types were removed from Elasticsearch 7 and "
        "OpenSearch. Remove the doc_type argument."
    )


def normalize_call(spec: ApiSpec, args: Sequence[Any], kwargs: dict[str, Any]) -> Call:
    """Turn any supported argument style into a :class:`Call` (keywords kept as given).

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
    if spec.list_body and body is not None and isinstance(body, Mapping):
        raise CallError(f"{spec.name}() takes a list of lines as its body, not a dict.")
    call.body = body
    call.params = kwargs
    if spec.needs_body and with_fields_in_body(call).body is None:
        what = spec.body_name or "body"
        raise CallError(f"{spec.name}() needs {what!r}.")
    return call


def body_fields_given(call: Call) -> list[str]:
    """The keywords of ``call`` that are request-body fields of its API (see :data:`SPECS`)."""
    return [key for key in call.params if key in SPECS[call.api].body_fields]


def with_fields_in_body(call: Call) -> Call:
    """``call`` in the ``body=`` style: its request-body keywords moved into the body.

    For clients without a keyword API (opensearch-py), and to see everything
    a request sends. Raises :class:`CallError` when a field is given twice or
    the body is not a dict.
    """
    spec = SPECS[call.api]
    params = dict(call.params)
    fields = {key: params.pop(key) for key in body_fields_given(call)}
    body = call.body
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
    return Call(call.api, index=call.index, body=body, params=params)


def _apply_positional(spec: ApiSpec, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    """Turn positional arguments into keywords: today's forms, and djangoes 0.3's.

    djangoes 0.3 put ``doc_type`` first (``index(doc_type, body, doc_id)``,
    ``delete(doc_type, doc_id)``, ``update(doc_type, doc_id, body)``...) and
    its guide shows ``create(doc_id, document)``; both are read here, with a
    DeprecationWarning pointing at the caller's line.
    """
    if not args:
        return
    legacy = _LEGACY_FORMS.get(spec.name)
    names = legacy(args, kwargs) if legacy is not None else None
    if names is None:
        _apply_names(spec, spec.positional, args, kwargs)
        return
    given = names[: len(args)]
    form = f"{spec.name}({', '.join(given)})"
    if "doc_type" in given:
        keywords = sorted(
            (spec.body_name or n if n == "body" else n) for n in given if n != "doc_type"
        )
        warn_deprecated(
            f"{form} is the djangoes 0.3 form: doc_type is ignored (mapping types were "
            "removed from the engines). Call it with keywords: "
            f"{spec.name}({', '.join(f'{n}=...' for n in keywords)})."
        )
    elif names[0] == "id" and spec.body_name is not None:
        warn_deprecated(
            f"{spec.name}() with positional arguments is read as {form}: djangoes 0.3 "
            f"read {spec.name}(doc_type, body) as a document with a new id. Call it with "
            f"keywords to say which: {spec.name}(id=..., {spec.body_name}=...)."
        )
    renamed = ["body" if n == spec.body_name else n for n in names]
    for name, value in zip(renamed, args, strict=False):
        if name == "doc_type":
            continue
        if name in kwargs:
            raise CallError(f"{spec.name}() got {name!r} twice.")
        kwargs[name] = value


def _apply_names(
    spec: ApiSpec, names: Sequence[str], args: Sequence[Any], kwargs: dict[str, Any]
) -> None:
    if spec.scope == "multi" and not names:
        # search(body), search(doc_type, body) of the 0.3 guide
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
    if len(args) > len(names):
        raise CallError(
            f"{spec.name}() takes at most {len(names)} positional arguments "
            f"({', '.join(names)}), got {len(args)}."
        )
    for name, value in zip(names, args, strict=False):
        if name in kwargs:
            raise CallError(f"{spec.name}() got {name!r} twice.")
        kwargs[name] = value


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _document_form(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``index``/``create``: ``(doc_type, body, id)`` of 0.3, or the guide's ``(id, document)``."""
    if len(args) == 3 or (len(args) == 2 and ("id" in kwargs or "doc_id" in kwargs)):
        return ("doc_type", "body", "id")
    if len(args) == 2 and _is_scalar(args[0]) and isinstance(args[1], Mapping):
        return ("id", "document")
    return None


def _delete_form(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``delete(doc_type, id)`` of 0.3; ``delete(id)`` is today's."""
    return ("doc_type", "id") if len(args) == 2 else None


def _update_form(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``update(doc_type, id[, body])`` of 0.3; ``update(id, body)`` is today's."""
    if len(args) == 3 or (len(args) == 2 and _is_scalar(args[1])):
        return ("doc_type", "id", "body")
    return None


def _get_form(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``get(id, doc_type)`` (also exists, get_source) of 0.3; ``get(id)`` is today's."""
    return ("id", "doc_type") if len(args) == 2 else None


def _explain_form(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``explain(doc_type, id[, body])`` of 0.3; ``explain(id, body)`` is today's."""
    if len(args) == 3 or (len(args) == 2 and _is_scalar(args[1])):
        return ("doc_type", "id", "body")
    return None


def _lines_form(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``mget``/``bulk``/``msearch(body, index, doc_type)`` of 0.3."""
    return ("body", "index", "doc_type") if len(args) > 1 else None


def _doc_type_first_form(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``mtermvectors(doc_type[, body])`` of 0.3; ``mtermvectors(body)`` is today's."""
    return ("doc_type", "body") if args and isinstance(args[0], str) else None


_LEGACY_FORMS: dict[str, Any] = {
    "index": _document_form,
    "create": _document_form,
    "delete": _delete_form,
    "update": _update_form,
    "get": _get_form,
    "exists": _get_form,
    "get_source": _get_form,
    "explain": _explain_form,
    # termvector(doc_type, id[, body]) of 0.3 has the shape of its explain
    "termvectors": _explain_form,
    "mget": _lines_form,
    "bulk": _lines_form,
    "msearch": _lines_form,
    "mtermvectors": _doc_type_first_form,
}
