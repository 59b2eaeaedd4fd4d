from django.urls import path

from djangoes.views import AsyncCompletionView
from library import search, views

app_name = "library"
urlpatterns = [
    path("", views.EntrySearch.as_view(), name="search"),
    path("async/", views.AsyncEntrySearch.as_view(), name="async-search"),
    path("entry/<int:pk>/", views.entry, name="entry"),
    # names completing what is typed in the search box (autocomplete.js)
    path(
        "suggest/",
        AsyncCompletionView.as_view(index=search.INDEX, field="suggest"),
        name="suggest",
    ),
]
