"""Template filters for raw search responses.

Django templates cannot read names starting with an underscore, so
``{{ hit._source.title }}`` (as in the djangoes 0.3 guide) does not work::

    {% load djangoes %}
    {% for hit in results.hits.hits %}
      {% with doc=hit|source %}<h2>{{ doc.title }}</h2>{% endwith %}
      score {{ hit|meta:"score" }}
    {% endfor %}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def source(hit: Any) -> Any:
    """The ``_source`` of a raw hit (None when it has none)."""
    return hit.get("_source") if isinstance(hit, Mapping) else None


@register.filter
def meta(hit: Any, name: str) -> Any:
    """A metadata field of a raw hit: ``hit|meta:"id"`` is ``hit["_id"]``."""
    if not isinstance(hit, Mapping):
        return None
    return hit.get(f"_{name}", hit.get(name))
