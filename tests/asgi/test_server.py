"""The async API under a real ASGI server: uvicorn, started by the test, on a free port.

Concurrent requests to async views save posts (``acreate``, ``asave``,
``adelete``), which auto-sync sends after commit, and search them
(``aexecute_search``, objects with ``async for``, and the pages of an
``AsyncSearchView``) against the running engine. The server's output must
show no error (a ``SynchronousOnlyOperation`` would be one), and stopping it
closes the async clients cleanly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.databases import own_postgres_database
from tests.queue.test_command import ROOT
from tests.sync.conftest import BLOG_MAPPING

_NOT_INHERITED = ("PYTEST_", "DJANGO_SETTINGS_MODULE", "DJANGOES_TEST", "ASGI_TEST_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]

    def request(self, method: str, path: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(self.url + path, data=body, method=method)
        with urllib.request.urlopen(request, timeout=120) as answer:  # a safety net
            text = answer.read()
        return json.loads(text) if text else None

    def page(self, path: str) -> str:
        """The HTML of a GET of ``path``."""
        with urllib.request.urlopen(self.url + path, timeout=120) as answer:  # a safety net
            return str(answer.read().decode())

    def stop(self) -> str:
        """Stop the server as a service manager does (SIGTERM); returns its output."""
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=60)
        return output


@pytest.fixture
def server(tmp_path: Path, engine_url: str) -> Iterator[Server]:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "blog.json").write_text(json.dumps(BLOG_MAPPING), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    env.update(
        ASGI_TEST_DB=str(tmp_path / "db.sqlite3"),
        ASGI_TEST_ENGINE_URL=engine_url,
        ASGI_TEST_MAPPINGS=str(mappings),
        DJANGO_SETTINGS_MODULE="tests.asgi.settings",
    )
    with own_postgres_database() as name:
        if name:
            env["ASGI_TEST_PG_NAME"] = name
        for args in (("migrate", "-v", "0"), ("create_search_index", "blog")):
            done = subprocess.run([sys.executable, "-m", "django", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.asgi.asgi:application", "--port", str(port),
             "--lifespan", "on", "--no-access-log"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        started = Server(f"http://127.0.0.1:{port}/", process)
        try:
            deadline = time.monotonic() + 120  # a safety net against a server that never starts
            while True:
                assert process.poll() is None, process.communicate()[0]
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "uvicorn did not start"
                    time.sleep(0.05)
            yield started
        finally:
            if process.poll() is None:  # the test failed: show what the server said
                process.kill()
                print(process.communicate()[0])


#: The authors of the posts, in turn (the django posts: 5 of Ada's, 5 of Bob's).
AUTHORS = ["Ada", "Ada", "Bob", "Bob"]


def check_page(query: str, html: str, titles: list[str]) -> None:
    """The page of ``AsyncSearchView`` for ``query``: results, facets, pages, suggestion."""
    results = re.findall(r"<article>(\d+)\. ([^:]+):", html)
    ranks = [int(rank) for rank, _ in results]
    found = {title for _, title in results}
    total = re.search(r'<p id="total">(\d+)</p>', html)
    facet = dict(re.findall(r'<a href="[^"]*">(\w+)</a> (\d+)</li>', html))
    if query == "q=djnago":  # nothing found; "did you mean" links to the words found
        assert '<p id="suggestion"><a href="?q=django">django</a></p>' in html, html
        assert (total and total.group(1), results) == ("0", []), html
        return
    django_posts = titles[0::2]
    if query == "q=django&author=Bob":
        bobs = {t for i, t in enumerate(titles) if i % 2 == 0 and AUTHORS[i % 4] == "Bob"}
        assert (total and total.group(1), ranks, found) == ("5", [1, 2, 3, 4, 5], bobs), html
        assert '<li class="selected"><a href="?q=django">Bob</a> 5</li>' in html, html
    elif query == "q=django":
        assert (total and total.group(1), ranks) == ("10", [1, 2, 3, 4, 5]), html
        assert found <= set(django_posts)
        assert '<a rel="next" href="?q=django&amp;page=2">next</a>' in html, html
    else:  # page 2
        assert (total and total.group(1), ranks) == ("10", [6, 7, 8, 9, 10]), html
        assert found <= set(django_posts)
        assert 'rel="next"' not in html
    assert facet == {"Ada": "5", "Bob": "5"}, html  # multi-select: Ada's stay counted


@pytest.mark.postgres
def test_concurrent_async_requests_against_the_running_engine(server: Server) -> None:
    titles = [f"async post {i}" if i % 2 else f"django post {i}" for i in range(20)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(
            lambda i: server.request("POST", "posts", {"title": titles[i],
                                                       "author": AUTHORS[i % 4]}),
            range(len(titles)),
        ))  # fmt: skip
        # the saves were synced after their commits: every post is searchable
        assert server.request("GET", "state")["engine"] == 20
        searches = list(pool.map(lambda _: server.request("GET", "search?q=django&size=20"),
                                 range(20)))  # fmt: skip

    for found in searches:
        assert found["total"] == 10
        assert [post["rank"] for post in found["posts"]] == list(range(1, 11))
        assert {post["title"] for post in found["posts"]} == set(titles[0::2])
        scores = [post["score"] for post in found["posts"]]
        assert scores == sorted(scores, reverse=True)
        for post in found["posts"]:
            assert post["highlights"]["title"] == [
                post["title"].replace("django", "<em>django</em>")
            ]
    assert server.request("GET", "state")["logged"] == 20

    # the pages of an AsyncSearchView, many at a time
    asked = ["q=django", "q=django&page=2", "q=django&author=Bob", "q=djnago"] * 5
    with ThreadPoolExecutor(max_workers=10) as pool:
        pages = list(pool.map(server.page, ["page?" + query for query in asked]))
    for query, html in zip(asked, pages, strict=True):
        check_page(query, html, titles)
    assert server.request("GET", "state")["logged"] == 40

    first, second = created[0]["pk"], created[2]["pk"]
    server.request("PUT", f"posts/{first}", {"title": "renamed"})
    server.request("DELETE", f"posts/{second}")
    assert server.request("GET", "search?q=django&size=20")["total"] == 8
    assert [p["pk"] for p in server.request("GET", "search?q=renamed")["posts"]] == [first]
    assert server.request("GET", "count")["count"] == 19

    output = server.stop()
    # uvicorn ends as the signal says, after a clean shutdown
    assert server.process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete." in output
    for trouble in ("Traceback", "SynchronousOnlyOperation", "Unclosed", "ERROR"):
        assert trouble not in output, output
