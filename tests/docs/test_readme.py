"""The README's "Ten lines", run as they are in a new project.

The first block's ``# settings.py`` part is added to the settings of a new
``startproject``, its ``# blog/models.py`` part is the models of a new app;
the console line runs; the last block runs in ``manage.py shell``, and what
it leaves in ``posts`` is looked at. It uses the suite's interpreter (the
quickstart test installs djangoes in a new environment).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.docs.blocks import Block, blocks

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: What the test adds after the README's last block, in the same shell.
LOOK = """
found = [(post.title, post.search_rank) for post in posts]
assert found == [("Hello, django", 1)], found
print("found", found)
"""


def ten_lines() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    start = text.count("\n", 0, text.index("## Ten lines"))
    end = text.count("\n", 0, text.index("\n## ", text.index("## Ten lines") + 1))
    return [b for b in blocks(README) if start < b.line < end]


def test_the_ten_lines_of_the_readme_run(tmp_path: Path) -> None:
    code, console, anywhere = ten_lines()
    assert (code.lang, console.lang, anywhere.lang) == ("python", "console", "python")
    settings_part, models_part = code.body.split("# blog/models.py\n")
    assert settings_part.startswith("# settings.py")

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "RUN_MAIN"}
        and not k.startswith("PYTEST_")
    }
    env["PYTHONPATH"] = str(ROOT / "src")  # the checkout's djangoes, whatever is installed
    # `python` of the console block is the suite's interpreter
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"

    def run(command: str | list[str], cwd: Path) -> str:
        done = subprocess.run(
            command, shell=isinstance(command, str), cwd=cwd, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{command} exited with {done.returncode}:\n{output}"
        assert "WARNINGS:" not in output, output
        return output

    run([sys.executable, "-m", "django", "startproject", "mysite"], tmp_path)
    project = tmp_path / "mysite"
    run([sys.executable, "manage.py", "startapp", "blog"], project)
    with open(project / "mysite" / "settings.py", "a", encoding="utf-8") as settings:
        settings.write("\n" + settings_part)
    (project / "blog" / "models.py").write_text(models_part, encoding="utf-8")
    for command in console.commands:
        run(command, project)
    out = run([sys.executable, "manage.py", "shell", "-c", anywhere.body + LOOK], project)
    assert "found [('Hello, django', 1)]" in out
