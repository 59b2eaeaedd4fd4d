"""Async views of the ASGI test server: searches, saves and deletes, all in the event loop.

``page`` is djangoes' AsyncSearchView: a search page with facets, "did you
mean" and pagination, rendered from ``testapp/post_search.html``.
"""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from djangoes import connections
from djangoes.models import SearchQuery, aexecute_count, aexecute_search, flush_query_log
from djangoes.search.facets import TermsFacet
from djangoes.views import AsyncSearchView
from tests.testapp.models import Author, Post


# --8<-- [start:view]
async def search(request: HttpRequest) -> JsonResponse:
    terms = request.GET.get("q", "")
    sq = await aexecute_search(
        "blog",
        {"query": {"match": {"title": terms}}, "highlight": {"fields": {"title": {}}}},
        user=request.user,
        search_terms=terms,
        size=int(request.GET.get("size", "10")),
    )
    posts = [
        {"pk": post.pk, "title": post.title, "rank": post.search_rank,
         "score": post.search_score, "highlights": post.search_highlights}
        async for post in Post.objects.from_search_query(sq).select_related("author")
    ]  # fmt: skip
    return JsonResponse({"total": sq.total_hits, "posts": posts})


# --8<-- [end:view]


# --8<-- [start:search-view]
class PostSearch(AsyncSearchView):
    index = "blog"
    model = Post
    search_fields = ["title"]
    facets = [TermsFacet("author")]
    suggest_field = "title"
    paginate_by = 5
    template_name = "testapp/post_search.html"


# --8<-- [end:search-view]


async def count(request: HttpRequest) -> JsonResponse:
    sq = await aexecute_count("blog", save=False)
    return JsonResponse({"count": sq.total_hits})


@csrf_exempt
async def posts(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    author = await Author.objects.acreate(name=data["author"])
    post = await Post.objects.acreate(title=data["title"], author=author)
    return JsonResponse({"pk": post.pk})


@csrf_exempt
async def post(request: HttpRequest, pk: int) -> HttpResponse:
    found = await Post.objects.aget(pk=pk)
    if request.method == "DELETE":
        await found.adelete()
    else:
        found.title = json.loads(request.body)["title"]
        await found.asave()
    return HttpResponse(status=204)


async def state(request: HttpRequest) -> JsonResponse:
    await sync_to_async(flush_query_log)(30)  # the log rows of the searches so far
    return JsonResponse(
        {
            "logged": await SearchQuery.objects.acount(),
            "engine": (await connections["default"].acount())["count"],
        }
    )


urlpatterns = [
    path("search", search),
    path("page", PostSearch.as_view()),
    path("count", count),
    path("posts", posts),
    path("posts/<int:pk>", post),
    path("state", state),
]
