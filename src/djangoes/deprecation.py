"""Deprecation warnings that point at the line of the project that needs changing.

A call written against djangoes 0.3 or elasticsearch-django still works and
warns; the warning must name the caller's file and line, not a line inside
djangoes (however many djangoes frames lie between: the ``connection``
proxy, the index-aware methods, the call normaliser...).
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn_deprecated"]

#: Frames in files under this directory are djangoes' own (as code objects name
#: their files: the same spelling as ``__file__``).
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_deprecated(message: str, category: type[Warning] = DeprecationWarning) -> None:
    """Warn with ``message``, attributed to the first caller outside djangoes."""
    if sys.version_info >= (3, 12):
        warnings.warn(message, category, skip_file_prefixes=(PACKAGE_DIR,))
        return
    warnings.warn(message, category, stacklevel=_outside_level())


def _outside_level() -> int:
    """The ``stacklevel`` of the first frame outside the package, seen from ``warnings.warn``."""
    level = 2  # warn_deprecated's caller
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
