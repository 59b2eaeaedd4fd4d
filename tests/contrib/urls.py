"""Pages making search requests, with the Django Debug Toolbar's URLs (tests of its panel)."""

from debug_toolbar.toolbar import debug_toolbar_urls
from django.http import HttpRequest, HttpResponse
from django.urls import path

from djangoes import connection
from djangoes.exceptions import NotFoundError
from djangoes.models import execute_search

PAGE = "<!DOCTYPE html><html><head><title>t</title></head><body><p>{}</p></body></html>"


def search(request: HttpRequest) -> HttpResponse:
    """Search the blog index ``?times=`` times (default 1), then index a document."""
    for _ in range(int(request.GET.get("times", "1"))):
        execute_search("blog", {"query": {"match": {"title": "django"}}})
    connection.index(id="1", document={"title": "Panel <b>test</b>"})
    return HttpResponse(PAGE.format("searched"))


def missing_index(request: HttpRequest) -> HttpResponse:
    """A request for an index that does not exist (the engine answers 404)."""
    try:
        connection.meta.indices.get(index="no-such-index")
    except NotFoundError:
        return HttpResponse(PAGE.format("not found"))
    return HttpResponse(PAGE.format("found?"))


def show_toolbar(request: HttpRequest) -> bool:
    """The toolbar's SHOW_TOOLBAR_CALLBACK: always."""
    return True


def no_search(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format("nothing asked"))


urlpatterns = [
    path("search/", search),
    path("missing/", missing_index),
    path("nothing/", no_search),
    *debug_toolbar_urls(),
]
