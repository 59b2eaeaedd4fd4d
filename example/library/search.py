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
#: The fields searched and their boosts: a word of the name counts most.
FIELDS = ["name^4", "qualname^2", "summary^2", "doc"]
#: The facets (multi-select): the keyword fields whose values are counted.
FACETS = [TermsFacet("package", size=12), TermsFacet("kind"), TermsFacet("module", size=12)]
#: Fragments of the docstring with the words found; the engine escapes the
#: text, so only its <em> tags are markup.
HIGHLIGHT = {"fields": {"doc": {"fragment_size": 160, "number_of_fragments": 2}}}
#: The field whose words "did you mean" proposes.
SPELLING_FIELD = "doc"


def query(terms: str) -> dict[str, Any]:
    """The query for the words ``terms``."""
    return text_query(terms, FIELDS)
