"""The fenced code blocks of a Markdown page, and how the docs tests run them.

A block is ```` ```LANG title="TITLE" ````... ```` ``` ```` at the start of a
line. What a block is for follows from its language and title:

* ``console``: the lines starting with ``$ `` are shell commands;
* a title naming a file (``blog/models.py``): the block is that file's
  content; ``"mysite/settings.py (at the end)"``: it is appended to it;
* ``pycon``: a session of the Python shell, checked with :mod:`doctest`;
* ``text`` titled with a URL: what that page reads (its text, without tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

FENCE = re.compile(
    r"^```(?P<lang>[\w-]*)(?:[ \t]+title=\"(?P<title>[^\"]*)\")?[ \t]*\n(?P<body>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
APPEND = " (at the end)"


@dataclass(frozen=True)
class Block:
    lang: str
    title: str
    body: str
    line: int

    @property
    def commands(self) -> list[str]:
        """The shell commands of a console block."""
        return [line[2:] for line in self.body.splitlines() if line.startswith("$ ")]

    @property
    def path(self) -> str:
        """The file a titled block is (or is added to)."""
        return self.title.removesuffix(APPEND)

    @property
    def appends(self) -> bool:
        return self.title.endswith(APPEND)

    def where(self, page: Path) -> str:
        return f"{page.name}, line {self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    return [
        Block(
            m.group("lang"),
            m.group("title") or "",
            m.group("body"),
            text.count("\n", 0, m.start()) + 1,
        )
        for m in FENCE.finditer(text)
    ]


#: Run by ``manage.py shell -c``: the doctest of the file named by $DOCS_SESSION
#: (status 1 on a failure).
DOCTEST_RUNNER = """
import doctest, os, sys
path = os.environ["DOCS_SESSION"]
test = doctest.DocTestParser().get_doctest(open(path).read(), {}, path, path, 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(re.sub(r"\s+", " ", data))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"p", "h1", "h2", "h3", "li", "form", "div", "br"}:
            self.parts.append("\n")


def page_text(html: str) -> list[str]:
    """The lines of an HTML page as a browser shows them: a line per paragraph or heading.

    Tags are dropped and white space is collapsed, as HTML does.
    """
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def text_lines(text: str) -> list[str]:
    """The non-blank lines of a ``text`` block, white space collapsed."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
