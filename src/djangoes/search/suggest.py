"""Suggesters: "did you mean" for misspelt searches, and completions for a search box.

Each ``*_suggestion`` function returns entries for the ``suggest`` section
of a search body; the matching reader takes the engine's response::

    from djangoes.search.suggest import (
        completion_suggestion, completions, did_you_mean, spelling_suggestion,
    )

    body = {"query": query, "suggest": spelling_suggestion(terms, "doc")}
    sq = execute_search("docs", body)
    did_you_mean(terms, sq.search_response)    # "connection timeout", or None

    body = {"size": 0, "suggest": completion_suggestion("pars", "suggest")}
    completions(execute_search("docs", body, save=False).search_response)  # ["parse", ...]

The spelling suggestion uses the *phrase* suggester, which corrects the
words of a search together, on the field's own terms; ``phrase=False``
uses the *term* suggester, which corrects each word alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "COMPLETIONS",
    "SPELLING",
    "completion_suggestion",
    "completions",
    "did_you_mean",
    "spelling_suggestion",
]

#: Default names of the suggestions in the body and the response.
SPELLING = "spelling"
COMPLETIONS = "completions"
#: Words shorter than this are taken as they are (the engines' default is 4).
MIN_WORD_LENGTH = 3


def spelling_suggestion(
    text: str, field: str, *, name: str = SPELLING, phrase: bool = True, max_errors: int = 2
) -> dict[str, Any]:
    """The ``suggest`` entry asking for a correction of ``text`` from the terms of ``field``.

    With ``phrase`` (the default) the phrase suggester proposes the whole
    corrected text, with up to ``max_errors`` words corrected; otherwise the
    term suggester proposes words one by one. Read the answer with
    :func:`did_you_mean`.
    """
    if isinstance(max_errors, bool) or not isinstance(max_errors, int) or max_errors < 1:
        raise ValueError(f"max_errors must be a whole number of at least 1, not {max_errors!r}.")
    if not phrase:
        return {name: {"text": text, "term": {"field": field, "min_word_length": MIN_WORD_LENGTH}}}
    return {
        name: {
            "text": text,
            "phrase": {
                "field": field,
                "size": 1,
                "max_errors": max_errors,
                "direct_generator": [
                    {"field": field, "suggest_mode": "always", "min_word_length": MIN_WORD_LENGTH}
                ],
            },
        }
    }


def _same(one: str, other: str) -> bool:
    return one.casefold().split() == other.casefold().split()


def did_you_mean(
    text: str, response: Mapping[str, Any] | None, *, name: str = SPELLING
) -> str | None:
    """``text`` corrected by the :func:`spelling_suggestion` in ``response``; None if unchanged.

    A phrase suggestion is the corrected text; term suggestions replace each
    unknown word by its best option. A correction that only changes letter
    case or spaces is no correction.
    """
    entries = ((response or {}).get("suggest") or {}).get(name) or []
    corrected = text
    # an entry per word (term) or one for the whole text (phrase), each with its
    # offset: replaced from the last so that the offsets of the others stay right
    for entry in reversed(entries):
        if entry["options"]:
            start, end = entry["offset"], entry["offset"] + entry["length"]
            corrected = corrected[:start] + entry["options"][0]["text"] + corrected[end:]
    return None if _same(corrected, text) else corrected


def completion_suggestion(
    prefix: str, field: str, *, name: str = COMPLETIONS, size: int = 8
) -> dict[str, Any]:
    """The ``suggest`` entry completing ``prefix`` from a ``completion`` field.

    Send it with ``"size": 0`` (no hits needed); read it with :func:`completions`.
    """
    return {
        name: {
            "prefix": prefix,
            "completion": {"field": field, "size": size, "skip_duplicates": True},
        }
    }


def completions(response: Mapping[str, Any] | None, *, name: str = COMPLETIONS) -> list[str]:
    """The completions of a :func:`completion_suggestion`, best first, each once."""
    found: dict[str, None] = {}
    for entry in ((response or {}).get("suggest") or {}).get(name) or []:
        for option in entry["options"]:
            found.setdefault(option["text"], None)
    return list(found)
