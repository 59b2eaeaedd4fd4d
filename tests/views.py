"""Views used by tests that need a real request cycle."""

from django.http import HttpRequest, JsonResponse

from djangoes import connection


def search_and_count(request: HttpRequest) -> JsonResponse:
    """Search once and report how many requests this request's log holds."""
    connection.search(query={"match_all": {}})
    return JsonResponse({"queries": len(connection.queries)})
