"""A one-line progress bar for long management commands: done/total, rate and ETA.

It redraws one terminal line (``\\r``) at most every ``interval`` seconds and
ends it with a newline when closed. The command decides whether it is shown
(``enabled``): djangoes' commands show it on stderr when the verbosity is at
least 1 and stderr is a terminal, so logs and pipes never get it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

__all__ = ["ProgressBar", "format_duration"]


def format_duration(seconds: float) -> str:
    """``'0:01:05'`` for 65 seconds (hours are not wrapped)."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class ProgressBar:
    """Progress of one piece of work, drawn on one line; use as ``progress(done, total)``.

    ``write`` and ``flush`` send text to the terminal; ``clock`` is the time
    source (seconds, monotonic).
    """

    def __init__(
        self,
        label: str,
        *,
        write: Callable[[str], object],
        flush: Callable[[], object] = lambda: None,
        enabled: bool = True,
        unit: str = "docs",
        width: int = 24,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.enabled = enabled
        self.unit = unit
        self.width = width
        self.interval = interval
        self._write = write
        self._flush = flush
        self._clock = clock
        self._started: float | None = None
        self._drawn_at: float | None = None
        self._shown = 0  # length of the line on screen
        self.done = 0
        self.total: int | None = None

    def __call__(self, done: int, total: int | None) -> None:
        """Record progress; redraw when ``interval`` has passed or the work is complete."""
        now = self._clock()
        if self._started is None:
            self._started = now
        self.done, self.total = done, total
        if not self.enabled:
            return
        finished = total is not None and done >= total
        if self._drawn_at is not None and now - self._drawn_at < self.interval and not finished:
            return
        self._draw(now)

    def render(self, now: float | None = None) -> str:
        """The line for the current progress (without ``\\r``)."""
        now = self._clock() if now is None else now
        elapsed = now - self._started if self._started is not None else 0.0
        rate = self.done / elapsed if elapsed > 0 else None
        rate_text = f"{rate:,.0f} {self.unit}/s" if rate is not None else f"-- {self.unit}/s"
        if not self.total:
            return f"{self.label}  {self.done:,} {self.unit}  {rate_text}"
        fraction = min(1.0, self.done / self.total)
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        if self.done >= self.total:
            eta = f"done in {format_duration(elapsed)}"
        elif rate:
            eta = f"ETA {format_duration((self.total - self.done) / rate)}"
        else:
            eta = "ETA --:--:--"
        return (
            f"{self.label}  [{bar}] {fraction:4.0%}  {self.done:,}/{self.total:,} {self.unit}"
            f"  {rate_text}  {eta}"
        )

    def _draw(self, now: float) -> None:
        line = self.render(now)
        padding = " " * max(0, self._shown - len(line))
        self._write("\r" + line + padding)
        self._flush()
        self._shown = len(line)
        self._drawn_at = now

    def close(self) -> None:
        """Draw the final state and end the line (nothing if nothing was drawn)."""
        if self.enabled and self._started is not None:
            self._draw(self._clock())
            self._write("\n")
            self._flush()
            self._shown = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
