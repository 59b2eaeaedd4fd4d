"""The progress bar, as data: what it draws for given progress and times (no engine)."""

from __future__ import annotations

from typing import Any

from djangoes.management.progress import ProgressBar, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bar(clock: Clock, out: list[str], **kwargs: Any) -> ProgressBar:
    return ProgressBar("Indexing blog", write=out.append, clock=clock, width=10, **kwargs)


def test_rate_eta_and_percentage() -> None:
    clock, out = Clock(), list[str]()
    progress = bar(clock, out)
    progress(0, 1000)
    clock.now += 2
    progress(250, 1000)
    assert out[-1] == (
        "\rIndexing blog  [##--------]  25%  250/1,000 docs  125 docs/s  ETA 0:00:06"
    )
    clock.now += 6
    progress(1000, 1000)
    assert out[-1].startswith("\rIndexing blog  [##########] 100%  1,000/1,000 docs  125 docs/s")
    assert out[-1].endswith("done in 0:00:08")
    progress.close()
    assert out[-1] == "\n"


def test_redraws_are_throttled_but_the_end_is_always_drawn() -> None:
    clock, out = Clock(), list[str]()
    progress = bar(clock, out, interval=1.0)
    progress(0, 100)
    for done in range(1, 100):
        clock.now += 0.001
        progress(done, 100)
    assert len(out) == 1  # only the first draw: less than a second passed
    progress(100, 100)
    assert len(out) == 2
    assert "100/100" in out[-1]


def test_a_shorter_line_erases_the_longer_one() -> None:
    clock, out = Clock(), list[str]()
    progress = bar(clock, out, interval=0)
    progress(0, None)
    clock.now += 1
    progress(123456, None)
    clock.now += 1000
    progress(123457, None)
    assert out[1] == "\rIndexing blog  123,456 docs  123,456 docs/s"
    assert out[2] == "\rIndexing blog  123,457 docs  123 docs/s" + " " * 4


def test_disabled_draws_nothing() -> None:
    clock, out = Clock(), list[str]()
    with bar(clock, out, enabled=False) as progress:
        progress(0, 10)
        progress(10, 10)
    assert out == []
    assert (progress.done, progress.total) == (10, 10)


def test_nothing_to_do_is_not_a_division_by_zero() -> None:
    clock, out = Clock(), list[str]()
    with bar(clock, out) as progress:
        progress(0, 0)
    assert out[0] == "\rIndexing blog  0 docs  -- docs/s"


def test_format_duration() -> None:
    assert format_duration(0) == "0:00:00"
    assert format_duration(65.4) == "0:01:05"
    assert format_duration(3 * 3600 + 59) == "3:00:59"
    assert format_duration(-5) == "0:00:00"
