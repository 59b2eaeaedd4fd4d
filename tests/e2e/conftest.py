"""The demo served by a real ``manage.py demo`` process, driven in Debian's Chromium.

:func:`start_demo` starts the demo as a person does, on a free port, with its
own var directory (database, search data, engine files) and a limited corpus.
The browser is Debian's ``chromium`` package (``make browser`` installs it),
driven by Playwright; no browser is ever downloaded. Without Chromium the
tests are skipped, saying why (under CI, ``DJANGOES_CI=1``, they fail).
Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import django
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.embedded.utils import default_sigint
from tests.engines import in_ci

ROOT = Path(__file__).resolve().parents[2]
#: Where screenshots go: one folder per Django version (make test runs the
#: browser test on the newest and on the oldest supported stack).
ARTIFACTS = ROOT / "test-artifacts" / "e2e" / f"django-{django.get_version()}"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
#: Headless Chromium without the sandbox (tests may run as root) and without
#: any connection of its own to the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The corpus of the tests: the first modules of the standard library (abc ... cgi).
MODULES = 40
#: Longest wait for the server to answer or stop (a hung process fails the test
#: instead of hanging the suite; nothing is asserted about speed).
PATIENCE = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Demo:
    """A running ``manage.py demo``."""

    url: str
    var_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def output(self) -> str:
        """What the command printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace")

    def engine_processes(self) -> list[dict[str, int]]:
        """The keeper and the engine recorded in the runtime directory (empty when none runs)."""
        try:
            state = json.loads((self.var_dir / "run" / "engine.json").read_text())
        except FileNotFoundError:
            return []
        return [state["keeper"], state["engine"]]

    def interrupt(self) -> int:
        """Press Ctrl-C (SIGINT to the process group, as a terminal does); returns the status."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=PATIENCE)

    def kill(self) -> None:
        """Stop whatever is left of the process group (after a failure)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_demo(var_dir: Path, modules: int | None = MODULES, port: int | None = None) -> Demo:
    """Start ``manage.py demo`` on ``port`` (default: a free one); returns when the site answers.

    ``modules``: how many modules of the standard library to load (None: all).
    The site is looked for where the command says it is (it takes the next
    port when ``port`` is busy). Fails the test, with the command's output, if
    it exits or does not answer.
    """
    port = port or free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # the test's settings module, and pytest's marks (the toolbar would take
        # the server for a test run)
        if key != "DJANGO_SETTINGS_MODULE" and not key.startswith("PYTEST_")
    }
    # the checkout's djangoes, whatever the virtual environment has installed
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env |= {"DEMO_VAR_DIR": str(var_dir), "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}
    log = var_dir.with_name(f"{var_dir.name}-{port}.log")
    command = [sys.executable, str(ROOT / "example" / "manage.py"), "demo", f"127.0.0.1:{port}"]
    if modules is not None:
        command += ["--modules", str(modules)]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_sigint,
        )
    demo = Demo("", var_dir, process, log)
    deadline = time.monotonic() + PATIENCE
    while True:
        if process.poll() is not None:
            pytest.fail(f"manage.py demo exited with status {process.returncode}:\n{demo.output}")
        announced = re.search(r"^The demo site: (\S+)$", demo.output, re.MULTILINE)
        if announced is not None:
            demo.url = announced.group(1)
            try:
                with urllib.request.urlopen(demo.url, timeout=10) as response:
                    if response.status == 200:
                        return demo
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not serving yet
        if time.monotonic() > deadline:
            demo.kill()
            where = demo.url or "no address announced"
            pytest.fail(f"manage.py demo did not answer ({where}):\n{demo.output}")
        time.sleep(0.2)


def wait_until_gone(processes: list[dict[str, int]]) -> list[dict[str, int]]:
    """Wait for the processes (``{"pid", "start"}``) to end; returns those still alive."""
    from djangoes.embedded import ProcessRef

    refs = [ProcessRef(p["pid"], p.get("start")) for p in processes]
    deadline = time.monotonic() + PATIENCE
    while any(ref.is_alive() for ref in refs) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p, ref in zip(processes, refs, strict=True) if ref.is_alive()]


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        why = (
            f"Chromium is not installed ({CHROMIUM} is missing): `make browser` installs "
            "Debian's chromium when run as root; or set CHROMIUM to a Chromium binary."
        )
        if in_ci():  # under .ci/run the browser test must run
            pytest.fail(why)
        pytest.skip(why)
    return CHROMIUM


@pytest.fixture
def browser_page(chromium: Path, tmp_path: Path) -> Iterator[Page]:
    """A page of headless Chromium, with a fresh profile."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        # waits of actions and of expect(): long enough for a loaded machine
        context.set_default_timeout(PATIENCE * 1000 / 6)
        expect.set_options(timeout=PATIENCE * 1000 / 6)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``<ARTIFACTS>/<name>.png``; returns the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
