"""The form of a search page: the words searched and the values chosen in its facets.

:class:`SearchForm` reads ``?q=`` and, for each facet, the values chosen
(``?kind=class&kind=function``). :class:`djangoes.views.SearchView` binds it
to ``request.GET``; it can be used alone::

    form = SearchForm(request.GET, facets=[TermsFacet("kind")])
    if form.is_valid():
        form.terms, form.chosen          # "event loop", {"kind": ["class"]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from djangoes.search.facets import TermsFacet

__all__ = ["FacetChoiceField", "SearchForm"]


class FacetChoiceField(forms.Field):
    """The values chosen in one facet: a list of strings, each once (any value is accepted).

    The values a facet offers depend on the results, so they are not
    validated against a list: a value no document has narrows to nothing.
    """

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid_list": _("Choose values from the list."),
        "too_many": _("Choose at most %(limit)d values."),
        "too_long": _("A value may have at most %(limit)d characters."),
    }

    def __init__(self, *, max_choices: int = 50, max_length: int = 200, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.max_choices = max_choices
        self.max_length = max_length

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        if isinstance(value, str):  # from a dict rather than a QueryDict
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise forms.ValidationError(self.error_messages["invalid_list"], code="invalid_list")
        values = list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))
        if len(values) > self.max_choices:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": self.max_choices}
            )
        if any(len(v) > self.max_length for v in values):
            raise forms.ValidationError(
                self.error_messages["too_long"], code="too_long", params={"limit": self.max_length}
            )
        return values


class SearchForm(forms.Form):
    """The search box (``q``) and a :class:`FacetChoiceField` per facet.

    ``facets`` are the page's :class:`~djangoes.search.facets.TermsFacet`;
    a facet whose name is a field of the form already (``q``) is an error.
    """

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.SearchInput if hasattr(forms, "SearchInput") else forms.TextInput,
    )

    def __init__(self, *args: Any, facets: Sequence[TermsFacet] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.facets = list(facets)
        for facet in self.facets:
            if facet.name in self.fields:
                raise ValueError(
                    f"The facet {facet.name!r} has the name of a field of {type(self).__name__}: "
                    f"give it another name (TermsFacet({facet.field!r}, name=...))."
                )
            self.fields[facet.name] = FacetChoiceField(label=facet.label)

    @property
    def terms(self) -> str:
        """The words searched (``""`` when none, or when the form is not valid)."""
        return str(self.cleaned_data.get("q") or "") if self.is_valid() else ""

    @property
    def chosen(self) -> dict[str, list[str]]:
        """Facet name -> the values chosen, for facets with a choice (``{}`` if not valid)."""
        if not self.is_valid():
            return {}
        return {f.name: self.cleaned_data[f.name] for f in self.facets if self.cleaned_data[f.name]}
