"""The documentation of the Python standard library, read offline from its source.

Each module's source is parsed with :mod:`ast` (nothing is imported, so no
module runs), and every documented module, public class, function and method
becomes an entry. It ships with Python itself: nothing is downloaded.
"""

from __future__ import annotations

import ast
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
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
