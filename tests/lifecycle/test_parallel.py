"""``--parallel N``: worker processes over primary-key ranges, in real processes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from opensearchpy import OpenSearch

from djangoes.indexing.parallel import pk_ranges
from tests.lifecycle.test_processes import Project
from tests.testapp.models import Author, Post

MAKE_MANY = """
from django.core.management import call_command
from tests.testapp.models import Author, Page, Post
call_command("migrate", verbosity=0)
ada = Author.objects.create(name="Ada")
Post.objects.bulk_create([Post(title=f"post {i}", author=ada) for i in range(300)])
Post.objects.filter(pk__in=list(Post.objects.values_list("pk", flat=True)[:10])).update(
    published=False
)
Page.objects.create(title="about")
"""


@pytest.fixture
def many(tmp_path: Any, engine_url: str) -> Project:
    project = Project(tmp_path, engine_url)
    made = project.run("shell", "-c", MAKE_MANY)
    assert made.returncode == 0, made.stderr
    created = project.run("create_search_index", "blog")
    assert created.returncode == 0, created.stderr
    return project


def count(engine_url: str) -> int:
    client = OpenSearch(hosts=[engine_url])
    client.indices.refresh(index="blog")
    return int(client.count(index="blog")["count"])


def test_update_with_worker_processes(many: Project, engine_url: str) -> None:
    done = many.run("update_search_index", "blog", "--parallel", "2", "--chunk-size", "20")
    assert done.returncode == 0, done.stderr
    assert "Indexed 291 document(s) into index 'blog' (testapp.Post: 290, testapp.Page: 1)" in (
        done.stdout
    )
    assert count(engine_url) == 291


#: update_index with workers, the parent's heartbeat interval far above the run's timeout.
UPDATE_TIMED = """
import time
from djangoes.indexing import parallel, update_index
parallel.HEARTBEAT_SECONDS = 3600.0
started = time.monotonic()
result = update_index("blog", parallel=2, chunk_size=20)
print("indexed", result.indexed, "in", round(time.monotonic() - started), "s")
"""


def test_the_parent_returns_when_the_workers_are_done(many: Project, engine_url: str) -> None:
    """Not one heartbeat interval later: the parent used to wait that long for more progress."""
    done = many.run("shell", "-c", UPDATE_TIMED)  # the run's own timeout is 120 s
    assert done.returncode == 0, done.stderr
    assert "indexed 291 in" in done.stdout
    assert count(engine_url) == 291


def test_rebuild_with_worker_processes(many: Project, engine_url: str) -> None:
    done = many.run("rebuild_search_index", "blog", "--parallel", "3", "--noinput")
    assert done.returncode == 0, done.stderr
    assert count(engine_url) == 291


def test_parallel_must_be_positive(many: Project) -> None:
    done = many.run("update_search_index", "blog", "--parallel", "0")
    assert done.returncode == 1
    assert "--parallel must be at least 1, not 0." in done.stderr


@pytest.mark.django_db(transaction=True)
def test_an_in_memory_database_cannot_be_shared_with_workers(settings: Any, engine_url: str,
                                                            tmp_path: Any) -> None:  # fmt: skip
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("this lane's database can be shared with worker processes")
    from tests.lifecycle.conftest import write_mapping

    write_mapping(tmp_path)
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "INDICES": ["blog"],
                    "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend"}
    }  # fmt: skip
    settings.ES_INDICES = {"blog": {"MODELS": ["testapp.Post"]}}
    settings.DJANGOES = {"MAPPINGS_DIR": str(tmp_path)}
    call_command("create_search_index", "blog", verbosity=0)
    Post.objects.create(title="x", author=Author.objects.create(name="Ada"))
    with pytest.raises(CommandError, match=r"is an in-memory SQLite database\. Run without"):
        call_command("update_search_index", "blog", "--parallel", "2", verbosity=0)


@pytest.mark.django_db
def test_primary_key_ranges_cover_every_key_once() -> None:
    ada = Author.objects.create(name="Ada")
    Post.objects.bulk_create([Post(title=str(i), author=ada) for i in range(23)])
    pks = sorted(Post.objects.values_list("pk", flat=True))
    for pieces in (1, 2, 5, 40):
        ranges = pk_ranges(Post.objects.all(), pieces)
        assert ranges[0][0] == pks[0]
        assert ranges[-1][1] == pks[-1]
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))
        assert len(ranges) <= pieces
    assert pk_ranges(Post.objects.none(), 3) == []
