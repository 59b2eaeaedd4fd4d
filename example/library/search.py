"""What the search page asks the engine: the query for the words typed, the facets, the highlight.

Plain data, no engine involved: the views (``library.views``) hand it to
djangoes' ``SearchView``, which runs it through ``execute_search`` (so every
search lands in the query log).
"""

from __future__ import annotations

from typing import Any

from djangoes.search.facets import TermsFacet
from djangoes.search.queries import text_query

#: The ES_INDICES key searched.
INDEX = "docs"
#: Results per page.
PAGE_SIZE = 10
#: The fields searched and their boosts: a word of the name counts most, then the
#: words of the qualified name ("temporary file" in tempfile.NamedTemporaryFile).
FIELDS = ["name^4", "path^3", "summary^2", "doc"]
#: The facets (multi-select): the keyword fields whose values are counted.
FACETS = [TermsFacet("package", size=12), TermsFacet("kind"), TermsFacet("module", size=12)]
#: Fragments of the docstring with the words found; the engine escapes the
#: text, so only its <em> tags are markup.
HIGHLIGHT = {"fields": {"doc": {"fragment_size": 160, "number_of_fragments": 2}}}
#: By relevance; equal scores by name, so that a search always lists its results
#: in one order (otherwise the order the documents were indexed in decides).
SORT = ["_score", {"qualname": "asc"}]
#: The field whose words "did you mean" proposes.
SPELLING_FIELD = "doc.words"


#: How much an entry's score counts by where it is: members of classes less
#: than the modules and their functions and classes, deprecated modules much less.
WEIGHTS = [
    ({"range": {"level": {"gte": 2}}}, 0.6),
    ({"term": {"deprecated": True}}, 0.2),
]


def query(terms: str) -> dict[str, Any]:
    """The query for the words ``terms`` (measured by ``manage.py search_quality``).

    Most of the words must be found (``text_query``), in the name, the words
    of the qualified name, the summary or the docstring; the score is then
    weighted by :data:`WEIGHTS`.
    """
    return {
        "function_score": {
            "query": text_query(terms, FIELDS),
            "functions": [{"filter": where, "weight": weight} for where, weight in WEIGHTS],
            "score_mode": "multiply",
            "boost_mode": "multiply",
        }
    }
