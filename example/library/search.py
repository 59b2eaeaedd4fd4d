"""The search page's requests: the bodies sent to the engine, and what is read back.

Building a body is plain data, with no engine involved; the views run the
bodies through djangoes (``SearchResults`` for the results, ``execute_search``
for the completions), so every search lands in the query log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The ES_INDICES key searched.
INDEX = "docs"
#: Results per page.
PAGE_SIZE = 10
#: The fields searched and their boosts: a word of the name counts most.
FIELDS = ["name^4", "qualname^2", "summary^2", "doc"]
#: The facets: aggregation name -> the keyword field whose values it counts.
FACETS = {"package": "package", "kind": "kind"}
#: What the results may be narrowed by: the facets, and a module (from an entry's page).
FILTERS = ("package", "kind", "module")


def search_body(terms: str, filters: Mapping[str, str]) -> dict[str, Any]:
    """The search request for ``terms`` narrowed by ``filters`` (field -> value).

    It asks for highlighted fragments of the docstring, the buckets of each
    facet (counted among the narrowed results) and, when there are terms,
    spelling suggestions for them. No terms: every entry (of the filters).
    """
    match = {"multi_match": {"query": terms, "fields": FIELDS}} if terms else {"match_all": {}}
    body: dict[str, Any] = {
        "query": {
            "bool": {
                "must": [match],
                "filter": [{"term": {field: value}} for field, value in filters.items()],
            }
        },
        "highlight": {
            # the engine escapes the text: only its <em> tags are markup
            "encoder": "html",
            "fields": {"doc": {"fragment_size": 160, "number_of_fragments": 2}},
        },
        "aggs": {name: {"terms": {"field": field, "size": 12}} for name, field in FACETS.items()},
    }
    if terms:
        # "did you mean": the term suggester offers indexed words close to unknown ones
        body["suggest"] = {"text": terms, "spelling": {"term": {"field": "doc"}}}
    return body


def did_you_mean(terms: str, response: Mapping[str, Any]) -> str | None:
    """``terms`` with each unknown word replaced by its best suggestion; None if none is.

    ``response`` is the engine's response to :func:`search_body`.
    """
    corrected = terms
    tokens = (response.get("suggest") or {}).get("spelling") or []
    # from the last word to the first, so that the offsets of the others stay right
    for token in reversed(tokens):
        if token["options"]:
            start, end = token["offset"], token["offset"] + token["length"]
            corrected = corrected[:start] + token["options"][0]["text"] + corrected[end:]
    return corrected if corrected != terms else None


def completion_body(prefix: str, size: int = 8) -> dict[str, Any]:
    """The request completing ``prefix`` to names (the completion suggester; no hits)."""
    return {
        "size": 0,
        "_source": False,
        "suggest": {
            "names": {
                "prefix": prefix,
                "completion": {"field": "suggest", "size": size, "skip_duplicates": True},
            }
        },
    }


def completions(response: Mapping[str, Any]) -> list[str]:
    """The completed names of a response to :func:`completion_body`, best first."""
    found: list[str] = []
    for token in (response.get("suggest") or {}).get("names") or []:
        for option in token["options"]:
            if option["text"] not in found:
                found.append(option["text"])
    return found
