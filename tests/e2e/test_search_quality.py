"""The demo's search quality on its whole corpus: the docs' nDCG@10 figures, the obvious cases.

One corpus is built for the module (``manage.py demo --no-serve``, every
documented object of the running Python's standard library) on the embedded
engine, in a var directory of its own; the checks run in the example
project, through its ``SearchView``, as the site's searches do. The figure of
real OpenSearch 3.8 is checked on a node started for it (``tests.engines``;
skipped, saying why, where none can run, and a failure under CI).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import engines
from tests.engines import port_in_use

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DOCS = ROOT / "docs" / "example.md"

pytestmark = pytest.mark.skipif(
    os.environ.get("DJANGOES_LANE") in {"compat", "django60"},
    reason="the search bodies and the corpus do not change with Django or the client libraries",
)

#: The searches of the site, as a person makes them: JSON of their first results.
SEARCH = """
import json
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from djangoes.models import execute_search
from library import search
from library.views import EntrySearch

found = {}
for terms in json.loads(QUERIES):
    request = RequestFactory().get("/", {"q": terms})
    request.user = AnonymousUser()
    view = EntrySearch()
    view.setup(request)
    form = view.get_form()
    assert form.is_valid(), form.errors
    response = execute_search(search.INDEX, view.get_search_body(form), size=10, save=False)
    # the entries with every word, in any of the fields searched
    every = execute_search(search.INDEX, {"query": {"bool": {"must": [
        {"multi_match": {"query": word, "fields": search.FIELDS}} for word in terms.split()
    ]}}, "_source": ["qualname"]}, size=10000, save=False)
    found[terms] = {
        "hits": [
            {"qualname": h["_source"]["qualname"], "highlight": h.get("highlight", {}).get("doc")}
            for h in response.search_response["hits"]["hits"]
        ],
        "every_word": [h["_source"]["qualname"] for h in every.search_response["hits"]["hits"]],
    }
print("RESULTS " + json.dumps(found))
"""
#: Queries without stop words ("a", "to"): each word must be in a document to count.
MULTI_WORD = ["event loop", "temporary file", "gzip compress", "priority queue", "url encode"]
#: reStructuredText markup that snippets must not show.
MARKUP = re.compile(r"``|:(?:func|class|meth|mod|attr|exc|data):`|^\.\. \w+::", re.MULTILINE)


def manage(var_dir: Path, *args: str, search_url: str | None = None) -> str:
    """``manage.py *args`` of the example, on the embedded engine or the one at ``search_url``."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env |= {"DEMO_VAR_DIR": str(var_dir), "PYTHONPATH": str(ROOT / "src")}
    env.pop("DEMO_SEARCH_URL", None)  # the embedded engine...
    if search_url is not None:
        env["DEMO_SEARCH_URL"] = search_url  # ...or this one
    done = subprocess.run(
        [sys.executable, str(ROOT / "example" / "manage.py"), *args],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var_dir = tmp_path_factory.mktemp("quality") / "var"
    out = manage(var_dir, "demo", "--no-serve")
    assert "Indexed" in out
    return var_dir


@pytest.fixture(scope="module")
def results(corpus: Path) -> dict[str, dict[str, list]]:
    queries = ["parse a date", "serialize to json", "deep copy", *MULTI_WORD]
    out = manage(corpus, "shell", "-c", SEARCH.replace("QUERIES", repr(json.dumps(queries))))
    return json.loads(out.split("RESULTS ", 1)[1])


def printed_figure(out: str) -> str:
    """The mean nDCG@10 ``search_quality`` printed (over at least 25 judged queries)."""
    printed = re.search(r"^nDCG@10: (\d\.\d{3}) over (\d+) judged queries\.$", out, re.MULTILINE)
    assert printed, out
    assert int(printed.group(2)) >= 25
    return printed.group(1)


def docs_figures(engine: str) -> dict[str, str]:
    """Python version -> the figure of docs/example.md's table for ``engine`` (a regex)."""
    docs = EXAMPLE_DOCS.read_text(encoding="utf-8")
    row = rf"^\| {engine}, Python (3\.\d+) \| (\d\.\d{{3}}) \|$"
    return dict(re.findall(row, docs, re.MULTILINE))


def check_figure(engine: str, out: str) -> None:
    figures = docs_figures(engine)
    assert figures, f"docs/example.md has figures for {engine!r}"
    python = platform.python_version().rsplit(".", 1)[0]
    if python not in figures:
        pytest.fail(
            f"docs/example.md has no figure of {engine!r} for Python {python}: add the one "
            f"printed:\n{out}"
        )
    assert printed_figure(out) == figures[python], out


def test_the_ndcg_figure_in_the_docs_is_what_a_fresh_run_prints(corpus: Path) -> None:
    out = manage(corpus, "search_quality")
    check_figure(r"The embedded engine \(osmem-server [\d.]+\)", out)


def free_port_among(ports: range) -> int:
    """A port of ``ports`` nothing listens on (the runner refuses HTTP ports as high as
    the system's ephemeral ones: the node exits at once)."""
    for port in ports:
        if not port_in_use(port):
            return port
    pytest.fail(f"every port from {ports.start} to {ports.stop - 1} is in use")


@pytest.fixture(scope="module")
def opensearch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a node of OpenSearch 3.8, on ports of its own."""
    release = engines.release("3.8")
    why = engines.unavailable(release)
    if why:
        if engines.in_ci():
            pytest.fail(why)
        pytest.skip(why)
    home = tmp_path_factory.mktemp("opensearch")
    with engines.running_node(
        release,
        home=home,
        http_port=free_port_among(range(9260, 9300)),
        transport_port=free_port_among(range(9360, 9400)),
    ) as node:
        yield node.url


def test_the_opensearch_figure_in_the_docs_is_what_a_fresh_run_prints(
    opensearch: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    var_dir = tmp_path_factory.mktemp("quality-opensearch") / "var"
    assert "Indexed" in manage(var_dir, "demo", "--no-serve", search_url=opensearch)
    out = manage(var_dir, "search_quality", search_url=opensearch)
    assert out.startswith("Engine: opensearch 3.8.0 (SimpleHttpBackend)"), out
    check_figure(r"OpenSearch 3\.8\.0", out)


def test_parse_a_date_finds_date_parsing_not_every_entry_with_a(
    results: dict[str, dict[str, list]],
) -> None:
    hits = results["parse a date"]["hits"]
    date_parsing = {"http.cookiejar.http2time", "http.cookiejar.iso2time"}
    assert {hit["qualname"] for hit in hits[:2]} == date_parsing
    fragments = " ".join(" ".join(hit["highlight"] or []) for hit in hits)
    assert "<em>" in fragments
    assert not re.search(r"<em>a</em>", fragments, re.IGNORECASE)


@pytest.mark.parametrize("terms", MULTI_WORD)
def test_entries_with_every_word_come_first(
    results: dict[str, dict[str, list]], terms: str
) -> None:
    found = [hit["qualname"] for hit in results[terms]["hits"]]
    every_word = set(results[terms]["every_word"])
    assert every_word, f"some entry has every word of {terms!r}"
    first = found[: min(len(found), len(every_word))]
    assert set(first) <= every_word, f"{terms!r}: {first} before entries with every word"


def test_snippets_have_no_restructuredtext_markup(
    corpus: Path, results: dict[str, dict[str, list]]
) -> None:
    fragments = [
        fragment
        for query in ("serialize to json", "deep copy")
        for hit in results[query]["hits"]
        for fragment in hit["highlight"] or []
    ]
    assert fragments
    assert not [f for f in fragments if MARKUP.search(f)]
    # ...while the docstrings themselves have it (json.dumps: ``obj``)
    raw = manage(
        corpus, "shell", "-c",
        "from library.models import Entry; print(Entry.objects.get(qualname='json.dumps').doc)",
    )  # fmt: skip
    assert MARKUP.search(raw)
