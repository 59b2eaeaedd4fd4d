"""The screenshots of the docs and the README, taken from ``make demo`` with the whole corpus.

    python -m tests.e2e.screenshots      # writes docs/images/*.png

It starts the demo in a temporary var directory, as the browser test does,
and needs the same Chromium.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, start_demo

IMAGES = ROOT / "docs" / "images"


def take(page: Page, url: str) -> None:
    # logged in, so that the query log shows who searched
    page.goto(url + "admin/")
    page.locator("#id_username").fill("demo")
    page.locator("#id_password").fill("demo")
    page.locator("input[type=submit]").click()
    for terms in ("parse+a+date", "conection+timout", "event+loop"):
        page.goto(f"{url}?q={terms}")

    page.goto(url + "?q=temporary+file")
    expect(page.locator(".result").first).to_be_visible()
    page.screenshot(path=str(IMAGES / "search.png"))

    page.locator('.facet[data-facet="kind"] li', has_text="function").locator("a").click()
    expect(page.locator(".chip")).to_be_visible()
    page.screenshot(path=str(IMAGES / "facet.png"))

    # the Debug Toolbar's search panel for that page
    page.locator("#djShowToolBarButton").click()
    page.locator("a.SearchPanel").click()
    page.locator("#SearchPanel summary").first.click()
    expect(page.locator("#SearchPanel pre").first).to_be_visible()
    page.screenshot(path=str(IMAGES / "debug-toolbar.png"))
    # the toolbar remembers being open: closed again so that it hides nothing below
    page.locator("#djHideToolBarButton").click()

    page.goto(url + "admin/djangoes/searchquery/")
    expect(page.locator("#result_list")).to_be_visible()
    page.screenshot(path=str(IMAGES / "query-log.png"))


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        demo = start_demo(Path(tmp) / "var", modules=None)
        try:
            context = playwright.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"),
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1440, "height": 900},
            )
            take(context.new_page(), demo.url)
            context.close()
        finally:
            demo.interrupt()
    print(f"Screenshots written to {IMAGES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
