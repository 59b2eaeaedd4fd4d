"""Multi-select facets: counts of each facet's values, and results narrowed by the chosen ones.

A facet counts the values of a keyword field among the results. Choosing a
value narrows the results to it; choosing a second value of the same facet
widens them again to either (OR), and values of different facets combine
(AND). For that, the choices go to the request's ``post_filter``, which
narrows the hits but not the aggregations, and each facet is counted under a
``filter`` aggregation holding the choices of the *other* facets: the values
of a facet stay visible, with their counts, once one of them is chosen.
::

    from djangoes.search.facets import TermsFacet, facet_request, facet_results

    facets = [TermsFacet("package"), TermsFacet("kind")]
    chosen = {"kind": ["class", "function"]}
    body = {"query": {"match": {"doc": terms}}, **facet_request(facets, chosen)}
    sq = execute_search("docs", body)
    for facet in facet_results(facets, sq.aggregations, chosen):
        for bucket in facet.buckets:
            print(facet.name, bucket.key, bucket.count, bucket.selected)

:class:`djangoes.views.SearchView` does this for its ``facets``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Bucket", "FacetResult", "TermsFacet", "facet_filter", "facet_request", "facet_results"]

#: Name of the aggregation counting the chosen values, under each facet's own.
CHOSEN = "chosen"


@dataclass(frozen=True)
class TermsFacet:
    """A facet counting the values of a keyword field (a ``terms`` aggregation).

    ``name`` is the aggregation's name and the request parameter of the
    choices (the field by default); ``size`` how many values are shown (the
    most frequent; chosen values are always shown); ``label`` the title
    templates show (the name, capitalized, by default).
    """

    field: str
    name: str = ""
    size: int = 10
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field:
            raise ValueError(f"TermsFacet needs a field name, not {self.field!r}.")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(
                f"TermsFacet({self.field!r}) size must be 1 or more, not {self.size!r}."
            )
        # a frozen dataclass: defaults that depend on other fields are set here
        object.__setattr__(self, "name", self.name or self.field)
        object.__setattr__(self, "label", self.label or self.name[:1].upper() + self.name[1:])

    def clause(self, values: Sequence[str]) -> dict[str, Any]:
        """The filter keeping documents with any of ``values``."""
        return {"terms": {self.field: list(values)}}

    def aggregation(self, chosen: Sequence[str]) -> dict[str, Any]:
        """The aggregations counting the most frequent values, and the ``chosen`` ones."""
        aggs: dict[str, Any] = {self.name: {"terms": {"field": self.field, "size": self.size}}}
        if chosen:
            # a chosen value may be rarer than the `size` most frequent: counted apart
            aggs[CHOSEN] = {
                "terms": {"field": self.field, "include": list(chosen), "size": len(chosen)}
            }
        return aggs


@dataclass(frozen=True)
class Bucket:
    """One value of a facet: how many results have it, whether it is chosen, and its link."""

    key: str
    count: int
    selected: bool = False
    #: The query string that toggles this value (set by the view; ``""`` otherwise).
    url: str = ""


@dataclass(frozen=True)
class FacetResult:
    """A facet's values among the results, most frequent first, the chosen ones included."""

    name: str
    label: str
    buckets: list[Bucket] = field(default_factory=list)

    @property
    def selected(self) -> list[Bucket]:
        """The chosen values."""
        return [bucket for bucket in self.buckets if bucket.selected]


def _chosen(
    facets: Iterable[TermsFacet], chosen: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """The non-empty choices of known facets, without duplicates, in facet order."""
    result: dict[str, list[str]] = {}
    for facet in facets:
        values = list(dict.fromkeys(chosen.get(facet.name) or ()))
        if values:
            result[facet.name] = values
    return result


def facet_filter(
    facets: Iterable[TermsFacet], chosen: Mapping[str, Sequence[str]], *, without: str = ""
) -> dict[str, Any] | None:
    """The filter of the choices of every facet except ``without``; None when there are none."""
    by_name = {facet.name: facet for facet in facets}
    clauses = [
        by_name[name].clause(values)
        for name, values in _chosen(by_name.values(), chosen).items()
        if name != without
    ]
    if not clauses:
        return None
    return {"bool": {"filter": clauses}}


def facet_request(
    facets: Sequence[TermsFacet], chosen: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """The ``aggs`` and ``post_filter`` of a search body for ``facets`` with ``chosen`` values.

    ``chosen`` maps facet names to the values chosen (unknown names are
    ignored). Merge the result into a body that has neither key.
    """
    names = [facet.name for facet in facets]
    if len(set(names)) != len(names):
        raise ValueError(f"Facet names must differ: {names!r}.")
    choices = _chosen(facets, chosen)
    aggs = {
        facet.name: {
            "filter": facet_filter(facets, choices, without=facet.name) or {"match_all": {}},
            "aggs": facet.aggregation(choices.get(facet.name, [])),
        }
        for facet in facets
    }
    body: dict[str, Any] = {"aggs": aggs}
    narrowed = facet_filter(facets, choices)
    if narrowed is not None:
        body["post_filter"] = narrowed
    return body


def _key(bucket: Mapping[str, Any]) -> str:
    return str(bucket.get("key_as_string", bucket["key"]))


def facet_results(
    facets: Sequence[TermsFacet],
    aggregations: Mapping[str, Any] | None,
    chosen: Mapping[str, Sequence[str]],
    *,
    link: Callable[[str, list[str]], str] | None = None,
) -> list[FacetResult]:
    """Each facet's values from the ``aggregations`` of a :func:`facet_request` search.

    The most frequent values come first; chosen values the engine did not
    list among them follow, with their count (0 when no result has them).
    ``link(name, values)``, when given, makes each bucket's ``url``: the
    choices of facet ``name`` with the bucket's value toggled.
    """
    choices = _chosen(facets, chosen)
    results = []
    for facet in facets:
        agg = (aggregations or {}).get(facet.name) or {}
        values = choices.get(facet.name, [])
        counts = {
            _key(b): int(b["doc_count"]) for b in (agg.get(facet.name) or {}).get("buckets", [])
        }
        for bucket in (agg.get(CHOSEN) or {}).get("buckets", []):
            counts.setdefault(_key(bucket), int(bucket["doc_count"]))
        for value in values:
            counts.setdefault(value, 0)
        buckets = []
        for key, count in counts.items():
            selected = key in values
            toggled = [v for v in values if v != key] if selected else [*values, key]
            url = link(facet.name, toggled) if link is not None else ""
            buckets.append(Bucket(key, count, selected, url))
        results.append(FacetResult(facet.name, facet.label, buckets))
    return results
