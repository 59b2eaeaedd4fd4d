"""The documentation of the Python standard library, read offline from its source.

Each module's source is parsed with :mod:`ast` (nothing is imported, so no
module runs), and every documented module, public class, function and method
becomes an entry. It ships with Python itself: nothing is downloaded.
"""

from __future__ import annotations

import ast
import re
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SKIPPED_PACKAGES = {"test", "idlelib", "lib2to3", "turtledemo", "site-packages", "ensurepip",
                    "venv", "__pycache__", "tkinter", "pydoc_data", "config-3"}  # fmt: skip


@dataclass(frozen=True)
class Documented:
    module: str
    name: str
    qualname: str
    kind: str
    doc: str
    line: int


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def module_files(root: Path | None = None) -> Iterator[tuple[str, Path]]:
    """(dotted module name, source file) of every standard-library module, sorted."""
    root = root or stdlib_dir()
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if any(p in SKIPPED_PACKAGES or p.startswith("config-") for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or any(p.startswith("_") and p != "__main__" for p in parts):
            continue
        if parts[-1] == "__main__":
            continue
        yield ".".join(parts), path


def documented(module: str, path: Path) -> Iterator[Documented]:
    """The documented objects of one module file (the module, classes, functions, methods)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return
    doc = ast.get_docstring(tree)
    if doc:
        yield Documented(module, module.rsplit(".", 1)[-1], module, "module", doc, 1)
    for node in tree.body:
        yield from _node(module, node, prefix="")


def _node(module: str, node: ast.stmt, prefix: str) -> Iterator[Documented]:
    if not isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    if node.name.startswith("_"):
        return
    qualname = f"{prefix}{node.name}"
    doc = ast.get_docstring(node)
    kind = "class" if isinstance(node, ast.ClassDef) else "function"
    if doc:
        yield Documented(module, node.name, f"{module}.{qualname}", kind, doc, node.lineno)
    if isinstance(node, ast.ClassDef):
        for child in node.body:
            yield from _node(module, child, prefix=f"{qualname}.")


#: What a reader sees for a directive (``.. versionadded:: 3.2``); others leave nothing.
DIRECTIVES = {
    "versionadded": "New in version ",
    "versionchanged": "Changed in version ",
    "deprecated": "Deprecated since version ",
    "note": "Note: ",
    "warning": "Warning: ",
}


def _directive(match: re.Match[str]) -> str:
    return match.group(1) + DIRECTIVES.get(match.group(2), "")


#: reStructuredText markup in docstrings, and what a reader sees instead.
_REST = [
    (re.compile(r":[\w:-]+:`~?!?([^`<]*?)\s*(?:<[^>`]*>)?`"), r"\1"),  # :func:`~os.path.join`
    (re.compile(r"``(.+?)``", re.DOTALL), r"\1"),  # ``literal``
    (re.compile(r"`([^`<]+?)\s*(?:<[^>`]*>)?`_{1,2}"), r"\1"),  # `a link <https://...>`_
    (re.compile(r"(?<![\w*])\*\*(\S(?:.*?\S)?)\*\*(?![\w*])"), r"\1"),  # **strong**
    (re.compile(r"^([ \t]*)\.\. ([\w-]+)::[ \t]*", re.MULTILINE), _directive),  # .. note::
    (re.compile(r"(\S)::$", re.MULTILINE), r"\1:"),  # "Example::" before a literal block
    (re.compile(r"^[ \t]*::$", re.MULTILINE), ""),
]


def plain_text(doc: str) -> str:
    """A docstring without its reStructuredText markup, as a reader would say it.

    ``:func:`~os.path.join``` becomes ``os.path.join``, ````x```` becomes
    ``x``, directives lose their ``.. name::``; the text is otherwise kept.
    """
    for pattern, replacement in _REST:
        doc = pattern.sub(replacement, doc)
    return doc


_WORD_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def identifier_words(qualname: str) -> str:
    """The words of a qualified name, lower case.

    ``"tempfile.NamedTemporaryFile"`` gives ``"tempfile named temporary file"``.

    Dots, underscores and changes of case separate words, so that a search
    for "temporary file" finds ``NamedTemporaryFile``.
    """
    return " ".join(part.lower() for part in _WORD_PARTS.findall(qualname))


@cache
def is_deprecated(package: str) -> bool:
    """Whether the standard library's ``package`` warns that it is deprecated when imported.

    Read from its source (a module-level ``warnings.warn(..., DeprecationWarning)``
    or ``warnings._deprecated(...)``), nothing imported.
    """
    root = stdlib_dir()
    for path in (root / f"{package}.py", root / package / "__init__.py"):
        if path.is_file():
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                return False
            return any(_warns_deprecation(node) for node in tree.body)
    return False


def _warns_deprecation(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    call = node.value
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    if name == "_deprecated":
        return True
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    return name == "warn" and any(
        isinstance(arg, ast.Name) and arg.id == "DeprecationWarning" for arg in arguments
    )
