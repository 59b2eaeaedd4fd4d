"""``docs/async.md``: its examples not included from the tests themselves match them."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_asgi_module_shown_is_the_one_uvicorn_serves_in_the_tests() -> None:
    """The ``myproject/asgi.py`` of the page is ``tests/asgi/asgi.py`` (served by uvicorn in
    ``tests/asgi/test_server.py``), its settings module named as a project names it."""
    page = (ROOT / "docs" / "async.md").read_text(encoding="utf-8")
    match = re.search(r"^( *)```python\n\1# myproject/asgi\.py\n(.*?)^\1```$", page,
                      re.MULTILINE | re.DOTALL)  # fmt: skip
    assert match, "docs/async.md has no myproject/asgi.py block"
    shown = textwrap.dedent(match.group(2))
    served = (ROOT / "tests" / "asgi" / "asgi.py").read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(served), clean=False)
    code = served.split(f'"""{docstring}"""', 1)[1].lstrip("\n")
    assert shown == code.replace('"tests.asgi.settings"', '"myproject.settings"')
