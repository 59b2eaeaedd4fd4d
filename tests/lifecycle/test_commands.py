"""The lifecycle management commands, run with call_command.

Regression tests for elasticsearch-django's commands: they logged engine
failures and exited 0, and did nothing at all when no index was named.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from djangoes.backends.abstracts import Base
from djangoes.indexing import create_index, index_state, physical_indexes, update_index
from tests.lifecycle.conftest import BLOG_MAPPING, behind, documents, expected_ids
from tests.servers import closed_port_url
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db(transaction=True)

DESTRUCTIVE = ["delete_search_index", "prune_search_index", "rebuild_search_index"]


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as stderr is in an interactive shell."""

    def isatty(self) -> bool:
        return True


def run(name: str, *args: str, stdin: str | None = None, **options: Any) -> tuple[str, str]:
    """Run a command; its (stdout, stderr)."""
    out, err = io.StringIO(), options.pop("stderr", io.StringIO())
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command(name, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def behind_message(conn: Base, key: str, alias: str) -> str:
    """What create_search_index says about an index without ALIASES."""
    physical = behind(conn, key)[0]
    return (
        f"Created index {key!r} on connection {alias!r}: physical index {physical!r}, "
        f"searched as {key!r}."
    )


def test_the_whole_lifecycle(conn: Base, blog_data: dict[str, Any]) -> None:
    out, _ = run("create_search_index", "blog")
    physical = behind(conn, "blog")[0]
    assert f"Created index 'blog' on connection 'default': physical index {physical!r}" in out
    out, _ = run("update_search_index", "blog")
    assert "Indexed 13 document(s) into index 'blog' (testapp.Post: 10, testapp.Page: 3)" in out
    assert set(documents(conn)) == expected_ids(blog_data)
    Post.objects.filter(pk=blog_data["posts"][0].pk).update(published=False)
    out, _ = run("prune_search_index", "blog", "--noinput")
    assert "Pruned index 'blog': 1 of 13 document(s) deleted." in out
    out, _ = run("rebuild_search_index", "blog", "--noinput")
    new = behind(conn, "blog")[0]
    assert new != physical
    assert f"Rebuilt index 'blog': 12 document(s) in {new!r} (was {physical!r})" in out
    assert f"Deleted old index(es): {physical!r}." in out
    out, _ = run("delete_search_index", "blog", "--noinput")
    assert f"Deleted index 'blog': {new!r}." in out
    assert index_state(conn, "blog").kind == "missing"


def test_without_index_names_every_index_is_used(conn: Base, blog_data: dict[str, Any]) -> None:
    """Regression: with no index named, the original commands did nothing."""
    out, _ = run("create_search_index")
    assert "Created index 'blog'" in out
    assert "Created index 'notes'" in out
    out, _ = run("update_search_index")  # only the indexes with MODELS
    assert "into index 'blog'" in out
    assert "notes" not in out
    assert len(documents(conn)) == 13
    run("delete_search_index", "--noinput")
    assert index_state(conn, "blog").kind == "missing"
    assert index_state(conn, "notes").kind == "missing"


def test_using_selects_the_connection_and_its_indexes(conn: Base) -> None:
    out, _ = run("create_search_index", "--using", "other")
    assert out.strip() == behind_message(conn, "notes", "other")
    assert index_state(conn, "blog").kind == "missing"
    with pytest.raises(CommandError, match="not in the INDICES of connection 'other'"):
        run("create_search_index", "blog", "--using", "other")
    with pytest.raises(CommandError, match=r"ES_SERVERS has no connection 'othr'.*'other'"):
        run("create_search_index", "--using", "othr")


def test_unknown_index_names_are_clear_errors(conn: Base) -> None:
    with pytest.raises(CommandError, match=r"Unknown index 'blgo'\. Did you mean 'blog'\?"):
        run("create_search_index", "blgo")
    assert index_state(conn, "blog").kind == "missing"  # nothing done before the check


def test_failures_raise_command_errors_naming_index_and_cause(conn: Base) -> None:
    """Regression: the original commands logged engine errors and exited 0."""
    run("create_search_index", "blog")
    with pytest.raises(CommandError, match=r"Could not create index 'blog': .*already exists"):
        run("create_search_index", "blog")
    out, _ = run("create_search_index", "blog", "--exist-ok")
    assert "exists already" in out
    with pytest.raises(CommandError, match=r"Could not update index 'notes': .*no MODELS"):
        run("update_search_index", "notes")
    with pytest.raises(CommandError, match=r"Could not prune index 'notes': .*no MODELS"):
        run("prune_search_index", "notes", "--noinput")


def test_missing_indexes(conn: Base) -> None:
    with pytest.raises(CommandError, match=r"Could not update index 'blog': .*does not exist"):
        run("update_search_index", "blog")
    with pytest.raises(CommandError, match=r"Could not delete index 'blog': .*does not exist"):
        run("delete_search_index", "blog", "--noinput")
    out, _ = run("delete_search_index", "blog", "--noinput", "--missing-ok")
    assert "does not exist: nothing deleted" in out


def test_unreachable_engine(lifecycle_settings: Any) -> None:
    lifecycle_settings.ES_SERVERS = {
        "default": {
            **lifecycle_settings.ES_SERVERS["default"],
            "HOSTS": [closed_port_url()],
            "PARAMS": {"max_retries": 0},
        }
    }
    with pytest.raises(CommandError) as info:
        run("create_search_index", "blog")
    message = str(info.value)
    assert message.startswith("Could not create index 'blog': ")
    assert "Is the search engine of connection 'default' running?" in message


def test_invalid_settings(lifecycle_settings: Any) -> None:
    lifecycle_settings.DJANGOES = {"CHUNK_SIZE": 0}
    with pytest.raises(CommandError, match=r"search settings are invalid: .*CHUNK_SIZE"):
        run("update_search_index")


def test_failed_documents_fail_the_update_command(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "MAX_DOCUMENT_SIZE": 300, "ON_ERROR": "log"}
    big = blog_data["posts"][1]
    Post.objects.filter(pk=big.pk).update(body="x" * 400)
    create_index("blog")
    with pytest.raises(CommandError, match=r"1 of 13 document\(s\) were not indexed") as info:
        run("update_search_index", "blog")
    assert f"pk={big.pk}" in str(info.value)
    assert len(documents(conn)) == 12  # the others went in


def test_rebuild_command_abandons_on_failures_unless_allowed(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "MAX_DOCUMENT_SIZE": 300}
    Post.objects.filter(pk=blog_data["posts"][1].pk).update(body="x" * 400)
    live = create_index("blog")
    with pytest.raises(CommandError, match=r"Could not rebuild index 'blog': .*abandoned"):
        run("rebuild_search_index", "blog", "--noinput")
    assert behind(conn, "blog") == [live]
    out, err = run("rebuild_search_index", "blog", "--noinput", "--allow-failures")
    assert "Rebuilt index 'blog': 12 document(s)" in out
    assert "1 document(s) of index 'blog' were not indexed (--allow-failures)" in err
    assert behind(conn, "blog") != [live]


@pytest.mark.parametrize("command", DESTRUCTIVE)
def test_destructive_commands_ask_first(
    conn: Base, blog_data: dict[str, Any], command: str
) -> None:
    live = create_index("blog")
    update_index("blog")
    Post.objects.filter(pk=blog_data["posts"][0].pk).update(published=False)
    out, _ = run(command, "blog", stdin="no\n")
    assert "the search index 'blog'" in out
    assert "Type 'yes' to continue, or 'no' to cancel: " in out
    assert "Cancelled: nothing was changed." in out
    assert behind(conn, "blog") == [live]
    assert len(documents(conn)) == 13
    out, _ = run(command, "blog", stdin="yes\n")
    assert "Cancelled" not in out
    if command == "delete_search_index":
        assert index_state(conn, "blog").kind == "missing"
    elif command == "prune_search_index":
        assert len(documents(conn)) == 12
    else:
        assert behind(conn, "blog") != [live]
        assert len(documents(conn)) == 12


@pytest.mark.parametrize("command", DESTRUCTIVE)
def test_a_closed_input_is_not_a_yes(conn: Base, blog_data: dict[str, Any], command: str) -> None:
    live = create_index("blog")
    with pytest.raises(CommandError, match="Pass --noinput"):
        run(command, "blog", stdin="")
    assert behind(conn, "blog") == [live]


def test_noinput_does_not_ask(conn: Base) -> None:
    create_index("blog")
    out, _ = run("delete_search_index", "blog", "--noinput", stdin="")
    assert "Type 'yes'" not in out
    assert index_state(conn, "blog").kind == "missing"


def test_progress_is_drawn_on_a_terminal(conn: Base, blog_data: dict[str, Any]) -> None:
    create_index("blog")
    terminal = Terminal()
    run("update_search_index", "blog", stderr=terminal)
    drawn = terminal.getvalue()
    assert drawn.startswith("\rIndexing blog  [")
    assert "13/13 docs" in drawn
    assert "docs/s" in drawn
    assert "100%" in drawn
    assert drawn.endswith("\n")
    terminal = Terminal()
    run("prune_search_index", "blog", "--noinput", stderr=terminal)
    assert "Pruning blog  [" in terminal.getvalue()
    terminal = Terminal()
    run("rebuild_search_index", "blog", "--noinput", stderr=terminal)
    assert "Rebuilding blog  [" in terminal.getvalue()


def test_progress_is_quiet_without_a_terminal_or_with_verbosity_0(
    conn: Base, blog_data: dict[str, Any]
) -> None:
    create_index("blog")
    out, err = run("update_search_index", "blog")
    assert err == ""
    assert "Indexed 13" in out
    terminal = Terminal()
    out, _ = run("update_search_index", "blog", stderr=terminal, verbosity=0)
    assert terminal.getvalue() == ""
    assert out == ""


# -- search_mapping ------------------------------------------------------------


def test_search_mapping_prints_a_starter_mapping(lifecycle_settings: Any) -> None:
    out, _ = run("search_mapping", "testapp.Post")
    body = json.loads(out)
    properties = body["mappings"]["properties"]
    assert properties["title"]["type"] == "text"
    assert properties["published"] == {"type": "boolean"}
    assert properties["author_id"] == {"type": "long"}


def test_search_mapping_writes_the_mapping_file(lifecycle_settings: Any, tmp_path: Path) -> None:
    path = Path(lifecycle_settings.DJANGOES["MAPPINGS_DIR"]) / "blog.json"
    with pytest.raises(CommandError, match=r"exists already\. Pass --force"):
        run("search_mapping", "--index", "blog")
    assert json.loads(path.read_text()) == BLOG_MAPPING  # untouched
    out, _ = run("search_mapping", "--index", "blog", "--force")
    assert f"Wrote a starter mapping for testapp.Post, testapp.Page to {path}" in out
    properties = json.loads(path.read_text())["mappings"]["properties"]
    assert {"title", "views", "uid"} <= set(properties)  # Post's and Page's fields
    path.unlink()
    run("search_mapping", "testapp.Page", "--index", "notes")
    written = Path(lifecycle_settings.DJANGOES["MAPPINGS_DIR"]) / "notes.json"
    assert json.loads(written.read_text())["mappings"]["properties"]["uid"] == {"type": "keyword"}


def test_search_mapping_checks_after_writing_so_w208_does_not_report_its_file(
    lifecycle_settings: Any,
) -> None:
    """Run with the system checks, as ``manage.py search_mapping`` is."""
    path = Path(lifecycle_settings.DJANGOES["MAPPINGS_DIR"]) / "blog.json"
    path.unlink()
    _, err = run("search_mapping", "testapp.Post", skip_checks=False)  # printed, not written
    assert "djangoes.W208" in err
    assert not path.exists()
    _, err = run("search_mapping", "--index", "blog", skip_checks=False)
    assert path.exists()
    assert "djangoes.W208" not in err
    assert err == ""


def test_search_mapping_errors(lifecycle_settings: Any) -> None:
    with pytest.raises(CommandError, match=r"'testapp\.Pots' is not an installed model.*Post"):
        run("search_mapping", "testapp.Pots")
    with pytest.raises(CommandError, match="Name at least one model"):
        run("search_mapping")
    with pytest.raises(CommandError, match="no index 'nope'"):
        run("search_mapping", "testapp.Post", "--index", "nope")
    with pytest.raises(CommandError, match="Name at least one model"):
        run("search_mapping", "--index", "notes")  # no MODELS


def test_kept_old_indexes_are_reported(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "KEEP_OLD_INDEXES": 1}
    live = create_index("blog")
    out, _ = run("rebuild_search_index", "blog", stdin="yes\n")
    assert "keeps the 1 most recent old one(s) (KEEP_OLD_INDEXES = 1)" in out
    assert f"Kept old index(es): {live!r}." in out
    assert len(physical_indexes(conn, "blog")) == 2
