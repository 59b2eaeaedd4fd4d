"""The quickstart, word for word: a new project built from its blocks in a new virtual environment.

Every block of ``docs/quickstart.md`` runs, in order, in an empty folder:
the shell commands, the files written or added to, the shell sessions
(checked with doctest, through ``manage.py shell``) and the pages read from
the running server. Two substitutions, because a test can reach neither
GitHub nor port 8000:

* ``git clone https://github.com/djangoes/djangoes.git`` copies the checkout
  under test (what a clone holds and ``pip install`` reads: ``pyproject.toml``,
  ``README.md``, ``LICENSE``, ``src/``);
* ``python manage.py runserver`` serves on a free port, in the background,
  until the pages of the ``text`` blocks were read; it is then stopped with
  Ctrl-C.

``python3`` is the interpreter of the lane (Python 3.13 in the main lane),
whatever ``python3`` the machine has first on ``PATH``: the new environment
runs the same Python and Django versions as the lane, which the test checks.

``pip install`` fetches djangoes' dependencies from PyPI (from pip's cache
when it has them): most of the time of this test. It is skipped in the
compatibility and Django 6.0 lanes, whose versions the new environment would not use.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import django
import pytest

from tests.docs.blocks import DOCTEST_RUNNER, Block, blocks, page_text, text_lines
from tests.e2e.conftest import free_port
from tests.embedded.utils import default_sigint

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "docs" / "quickstart.md"
CLONE = "git clone https://github.com/djangoes/djangoes.git"
RUNSERVER = "python manage.py runserver"
DEFAULT_SITE = "http://127.0.0.1:8000"
#: Longest wait for one command (pip install downloads) or for the server to answer.
PATIENCE = 900.0

pytestmark = pytest.mark.skipif(
    os.environ.get("DJANGOES_LANE") in {"compat", "django60"},
    reason="the quickstart installs the newest releases in its own environment, whatever the lane",
)


class Session:
    """A shell as a reader of the quickstart has it: a folder, an environment, a server."""

    def __init__(self, home: Path) -> None:
        self.cwd = home
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV", "RUN_MAIN"}
            and not k.startswith("PYTEST_")
        }
        self.env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONUNBUFFERED": "1"}
        # `python3` is the lane's interpreter (the one the lane's venv was made from)
        lane_bin = home / "lane-bin"
        lane_bin.mkdir()
        (lane_bin / "python3").symlink_to(os.path.realpath(sys.executable))
        self.env["PATH"] = f"{lane_bin}{os.pathsep}{self.env['PATH']}"
        self.server: subprocess.Popen[str] | None = None
        self.site = ""
        self.log = home / "runserver.log"

    def run(self, command: str, block: Block) -> str:
        """Run one ``$`` line of ``block``; its output (fails the test on an error or warning)."""
        if command.startswith("cd "):
            self.cwd = (self.cwd / command[3:].strip()).resolve()
            return ""
        if command in {". .venv/bin/activate", "source .venv/bin/activate"}:
            venv = self.cwd / ".venv"
            self.env["VIRTUAL_ENV"] = str(venv)
            self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{self.env['PATH']}"
            return ""
        if command == CLONE:
            self.copy_checkout(self.cwd / "djangoes")
            return ""
        if command == RUNSERVER:
            self.serve()
            return ""
        done = subprocess.run(
            command, shell=True, cwd=self.cwd, env=self.env, capture_output=True, text=True,
            timeout=PATIENCE,
        )  # fmt: skip
        output = done.stdout + done.stderr
        where = f"`{command}` ({block.where(QUICKSTART)})"
        assert done.returncode == 0, f"{where} exited with {done.returncode}:\n{output}"
        # the path of the quickstart is clean: no traceback, no system check warning
        assert "Traceback" not in output, f"{where}:\n{output}"
        assert "WARNINGS:" not in output, f"{where} printed warnings:\n{output}"
        return output

    def copy_checkout(self, target: Path) -> None:
        target.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy2(ROOT / name, target / name)
        shutil.copytree(ROOT / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__"))

    def write(self, block: Block) -> None:
        path = self.cwd / block.path
        path.parent.mkdir(parents=True, exist_ok=True)
        if block.appends:
            assert path.exists(), (
                f"{block.where(QUICKSTART)} adds to {block.path}, which is missing"
            )
            with open(path, "a", encoding="utf-8") as out:
                out.write("\n" + block.body)
        else:
            path.write_text(block.body, encoding="utf-8")

    def shell_session(self, session_blocks: list[Block], number: int) -> None:
        """``pycon`` blocks, typed in one ``manage.py shell`` (doctest checks every answer).

        Blocks that follow each other, with only text between them, are one session.
        """
        block = session_blocks[0]
        session = self.cwd.parent / f"session-{number}.txt"
        session.write_text("\n".join(b.body for b in session_blocks), encoding="utf-8")
        done = subprocess.run(
            [self.python, "manage.py", "shell", "-c", DOCTEST_RUNNER],
            cwd=self.cwd, env=self.env | {"DOCS_SESSION": str(session)},
            capture_output=True, text=True, timeout=PATIENCE,
        )  # fmt: skip
        assert done.returncode == 0, (
            f"the session of {block.where(QUICKSTART)} differs:\n{done.stdout}{done.stderr}"
        )

    @property
    def python(self) -> str:
        return str(Path(self.env["VIRTUAL_ENV"]) / "bin" / "python")

    def serve(self) -> None:
        port = free_port()
        self.site = f"http://127.0.0.1:{port}"
        with open(self.log, "w") as out:
            self.server = subprocess.Popen(
                [self.python, "manage.py", "runserver", f"127.0.0.1:{port}"],
                cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=default_sigint,
                text=True,
            )  # fmt: skip
        deadline = time.monotonic() + PATIENCE
        while True:
            assert self.server.poll() is None, f"runserver exited:\n{self.log.read_text()}"
            try:
                with urllib.request.urlopen(self.site + "/admin/login/", timeout=30):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, (
                    f"runserver did not answer:\n{self.log.read_text()}"
                )
                time.sleep(0.3)

    def read_page(self, block: Block) -> None:
        """A ``text`` block titled with a URL: the page's text, line by line."""
        assert self.server is not None, f"{block.where(QUICKSTART)}: no server runs yet"
        url = block.title.replace(DEFAULT_SITE, self.site)
        with urllib.request.urlopen(url, timeout=60) as response:
            html = response.read().decode()
        assert page_text(html) == text_lines(block.body), (
            f"{block.title} ({block.where(QUICKSTART)}) reads:\n" + "\n".join(page_text(html))
        )

    def stop(self) -> None:
        """Ctrl-C to the server (and its autoreloader): it stops, the engine with it."""
        if self.server is None:
            return
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGINT)
            try:
                self.server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
                raise AssertionError(f"runserver ignored Ctrl-C:\n{self.log.read_text()}") from None


def test_the_quickstart_word_for_word(tmp_path: Path) -> None:
    session = Session(tmp_path)
    found = blocks(QUICKSTART)
    try:
        for number, block in enumerate(found):
            if block.lang == "pycon":
                if number > 0 and found[number - 1].lang == "pycon":
                    continue  # run with the session it continues
                session_blocks = [block]
                for following in found[number + 1 :]:
                    if following.lang != "pycon":
                        break
                    session_blocks.append(following)
                session.shell_session(session_blocks, number)
            elif block.lang == "console":
                assert block.commands, f"{block.where(QUICKSTART)}: a console block without $ lines"
                for command in block.commands:
                    session.run(command, block)
            elif block.lang == "text" and block.title.startswith(DEFAULT_SITE):
                session.read_page(block)
            else:
                assert block.title, f"{block.where(QUICKSTART)}: a {block.lang} block with no file"
                session.write(block)
        assert session.server is not None, "the quickstart ends with the site served"
        installed = subprocess.run(
            [session.python, "-c", "import django, sys; print(*sys.version_info[:2], "
             "*django.VERSION[:2])"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()  # fmt: skip
        # the lane's Python and Django (3.13 and 6.1 in the main lane)
        assert installed == [str(n) for n in (*sys.version_info[:2], *django.VERSION[:2])]
    finally:
        session.stop()
