"""``make demo`` as a person uses it: search, narrow, page, open, edit in the admin, restart.

One test, because each step starts from where the previous one left the site
(and one server per test would cost more than the steps themselves).
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Demo, screenshot, start_demo, wait_until_gone

PAGE_SIZE = 10
#: A word no docstring has: an edit made in the admin brings it into the index.
NEW_WORD = "xylophonic"


def total(page: Page) -> int:
    return int(page.locator("#total").inner_text())


def test_demo_in_a_browser(browser_page: Page, tmp_path: Path) -> None:
    page = browser_page
    demo = start_demo(tmp_path / "var")
    try:
        # a first run builds everything, and says where the site is
        assert f"The demo site: {demo.url}" in demo.output
        assert re.search(r"Read \d+ documented objects of \d+ modules", demo.output)
        assert re.search(r"Indexed \d+ documents", demo.output)

        qualname, entry_url = search_narrow_page_and_open(page, demo)
        the_async_page(page, demo)
        long_words_and_the_icon(page, demo)
        edit_in_the_admin(page, demo, entry_url)
        find_the_edit(page, demo, qualname, "05-the-edit-found")
        if find_spec("debug_toolbar"):
            search_panel_lists_the_search(page)
        for trouble in ("Traceback", "Unclosed", "SynchronousOnlyOperation"):
            assert trouble not in demo.output, demo.output
        stop_with_ctrl_c(demo)

        # a second run reuses the database, the index and the engine's saved data
        demo = start_demo(tmp_path / "var")
        assert "Read " not in demo.output
        assert "Indexed" not in demo.output
        assert re.search(r"Search index 'docs': \d+ documents\.", demo.output)
        find_the_edit(page, demo, qualname, "07-after-a-restart")
        stop_with_ctrl_c(demo)
    finally:
        demo.kill()


def search_narrow_page_and_open(page: Page, demo: Demo) -> tuple[str, str]:
    """Search, narrow by a facet, go to page 2, open a result; returns its name and URL."""
    page.goto(demo.url)
    box = page.locator("#q")
    # completions from the engine's completion suggester fill the box's datalist
    box.press_sequentially("even")
    options = page.locator("#completions option")
    expect(options.first).to_be_attached()
    values = [value.lower() for value in options.evaluate_all("os => os.map(o => o.value)")]
    assert values
    assert all(value.startswith("even") for value in values)

    box.press_sequentially("t loop")
    box.press("Enter")
    expect(page.locator(".summary")).to_contain_text("for event loop")
    everything = total(page)
    assert everything > 2 * PAGE_SIZE
    expect(page.locator(".result")).to_have_count(PAGE_SIZE)
    marked = page.locator(".result .snippet em").all_inner_texts()
    assert marked, "the snippets highlight the words searched"
    assert {word.lower().rstrip("s") for word in marked} <= {"event", "loop"}
    expect(page.locator(".summary")).to_contain_text(re.compile(r"in \d+\.\d ms"))
    screenshot(page, "01-search")

    # a facet narrows the results, and its counts are those of the narrowed results
    kind = page.locator('.facet[data-facet="kind"] li', has_text="class")
    expected = int(kind.locator(".count").inner_text())
    kind.locator("a").click()
    expect(page.locator(".chip")).to_contain_text("kind: class")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["event loop"], "kind": ["class"]}
    assert total(page) == expected < everything
    assert {text.strip() for text in page.locator(".result .kind").all_text_contents()} == {"class"}
    expect(page.locator('.facet[data-facet="kind"] li.selected')).to_contain_text("class")
    screenshot(page, "02-facet")

    # the facet is multi-select: the other kinds stay listed, and a second one widens again
    function = page.locator('.facet[data-facet="kind"] li', has_text="function")
    functions = int(function.locator(".count").inner_text())
    function.locator("a").click()
    expect(page.locator(".chip")).to_have_count(2)
    assert total(page) == expected + functions
    kinds = {text.strip() for text in page.locator(".result .kind").all_text_contents()}
    assert kinds <= {"class", "function"}

    # back to every kind, then the second page
    page.locator(".chip", has_text="kind: function").click()
    page.locator(".chip", has_text="kind: class").click()
    assert total(page) == everything
    page.locator('a[rel="next"]').click()
    expect(page.locator(".pages .current")).to_have_text(f"Page 2 of {-(-everything // PAGE_SIZE)}")
    expect(page.locator(".result .where").first).to_contain_text(f"{PAGE_SIZE + 1}. in")
    screenshot(page, "03-page-2")

    # a result's page comes from the database
    link = page.locator(".result h3 a").first
    qualname = link.inner_text()
    link.click()
    expect(page.locator(".entry h1")).to_contain_text(qualname)
    assert page.locator("pre.doc").inner_text().strip()
    screenshot(page, "04-entry")
    return qualname, page.url


def the_async_page(page: Page, demo: Demo) -> None:
    """``/async/`` is the search page on AsyncSearchView: the same results, facets and pages."""
    page.goto(demo.url + "?q=event+loop")
    on_the_sync_page = page.locator(".result h3 a").all_inner_texts()
    everything = total(page)

    page.goto(demo.url + "async/")
    box = page.locator("#q")
    box.fill("event loop")
    box.press("Enter")  # the search box of the async page searches there
    expect(page.locator(".summary")).to_contain_text("for event loop")
    assert urlsplit(page.url).path == "/async/"
    assert total(page) == everything
    assert page.locator(".result h3 a").all_inner_texts() == on_the_sync_page
    marked = page.locator(".result .snippet em").all_inner_texts()
    assert {word.lower().rstrip("s") for word in marked} <= {"event", "loop"}
    assert marked

    kind = page.locator('.facet[data-facet="kind"] li', has_text="class")
    expected = int(kind.locator(".count").inner_text())
    kind.locator("a").click()
    expect(page.locator(".chip")).to_contain_text("kind: class")
    assert urlsplit(page.url).path == "/async/"
    assert total(page) == expected
    assert {text.strip() for text in page.locator(".result .kind").all_text_contents()} == {"class"}
    page.locator(".chip", has_text="kind: class").click()
    page.locator('a[rel="next"]').click()
    expect(page.locator(".pages .current")).to_have_text(f"Page 2 of {-(-everything // PAGE_SIZE)}")
    expect(page.locator(".result .where").first).to_contain_text(f"{PAGE_SIZE + 1}. in")
    screenshot(page, "03-async-page-2")

    page.goto(demo.url + "async/?q=conection+timout")
    expect(page.locator(".did-you-mean a")).to_have_text("connection timeout")


def long_words_and_the_icon(page: Page, demo: Demo) -> None:
    """A 5,000-character word wraps (the page gets no wider), and /favicon.ico is served."""
    page.goto(demo.url + "?q=" + "x" * 5000)
    expect(page.locator(".summary")).to_contain_text("for")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    icon = page.request.get(demo.url + "favicon.ico")
    assert icon.ok
    assert icon.headers["content-type"] == "image/svg+xml"


def edit_in_the_admin(page: Page, demo: Demo, entry_url: str) -> None:
    """Log in, look at the query log, add NEW_WORD to the entry's docstring."""
    page.goto(demo.url + "admin/")
    page.locator("#id_username").fill("demo")
    page.locator("#id_password").fill("demo")
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()

    # the searches made above are in the query log
    page.goto(demo.url + "admin/djangoes/searchquery/")
    expect(page.locator("#result_list")).to_contain_text("event loop")
    screenshot(page, "admin-query-log")

    pk = entry_url.rstrip("/").rsplit("/", 1)[1]
    page.goto(f"{demo.url}admin/library/entry/{pk}/change/")
    doc = page.locator("#id_doc")
    doc.fill(doc.input_value() + f"\n\nPlays a {NEW_WORD} tune.")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()


def find_the_edit(page: Page, demo: Demo, qualname: str, shot: str) -> None:
    """The edited entry is found by the word the edit added, highlighted."""
    page.goto(f"{demo.url}?q={NEW_WORD}")
    expect(page.locator("#total")).to_have_text("1")
    expect(page.locator(".result h3 a")).to_have_text(qualname)
    expect(page.locator(".result .snippet em")).to_have_text(NEW_WORD)
    screenshot(page, shot)


def search_panel_lists_the_search(page: Page) -> None:
    """The Debug Toolbar's search panel shows the page's search request and its body."""
    page.locator("#djShowToolBarButton").click()
    page.locator("a.SearchPanel").click()
    panel = page.locator("#SearchPanel")
    expect(panel).to_contain_text("/_search")
    panel.locator("summary").first.click()
    expect(panel.locator("pre").first).to_contain_text(NEW_WORD)
    screenshot(page, "06-debug-toolbar")


def stop_with_ctrl_c(demo: Demo) -> None:
    """Ctrl-C stops the server and the engine, which saves its data first."""
    engine = demo.engine_processes()
    assert engine, "the engine runs while the site does"
    assert demo.interrupt() == 0
    assert wait_until_gone(engine) == []
    assert demo.engine_processes() == []
    assert (demo.var_dir / "search" / "current").exists()
