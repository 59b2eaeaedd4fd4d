"""Queries for what people type in a search box.

:func:`text_query` is the query :class:`djangoes.views.SearchView` builds from
its ``search_fields``; use it in your own bodies too::

    from djangoes.search.queries import text_query

    body = {"query": text_query("parse a date", ["name^4", "summary^2", "text"])}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["text_query"]


def text_query(terms: str, fields: Sequence[str]) -> dict[str, Any]:
    """A query for the words ``terms`` in ``fields`` (``"name^4"`` boosts a field).

    * A document must match most of the words: all of one or two, three of
      four (``minimum_should_match``), so that a short word such as "a" does
      not bring in every document;
    * those with every word, in any of the fields, rank higher;
    * those with the words next to each other, higher still.

    Words are analyzed as each field says: with a language analyzer
    (``"analyzer": "english"``), "parsing dates" matches "parse a date".
    """
    if not fields:
        raise ValueError("text_query needs at least one field to search.")
    fields = list(fields)
    return {
        "bool": {
            "must": [
                {
                    "multi_match": {
                        "query": terms,
                        "fields": fields,
                        "type": "best_fields",
                        "minimum_should_match": "2<75%",
                    }
                }
            ],
            "should": [
                {
                    "multi_match": {
                        "query": terms,
                        "fields": fields,
                        "type": "cross_fields",
                        "operator": "and",
                        "boost": 2,
                    }
                },
                {
                    "multi_match": {
                        "query": terms,
                        "fields": fields,
                        "type": "phrase",
                        "slop": 2,
                        "boost": 2,
                    }
                },
            ],
        }
    }
