"""The benchmark's own virtualenv, ``.venv-bench`` (standard library only: runs before it).

Made with the Python running ``python -m bench``; holds djangoes (editable, with
its embedded extra for osmem-server) and ``bench/requirements.txt``. It is
rebuilt when ``pyproject.toml`` or the requirements change.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
STAMP = VENV / ".bench-installed"


class EnvironmentFailed(RuntimeError):
    """The environment could not be built; the message has the command and its output."""


def python() -> Path:
    """The environment's interpreter."""
    return VENV / "bin" / "python"


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", REQUIREMENTS):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _run(*args: str) -> None:
    process = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if process.returncode != 0:
        output = (process.stdout + process.stderr).strip().splitlines()[-30:]
        raise EnvironmentFailed(
            f"{' '.join(args)} failed (exit status {process.returncode}):\n" + "\n".join(output)
        )


def ensure() -> Path:
    """Build or update ``.venv-bench`` if needed; returns its interpreter."""
    wanted = fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and python().exists():
        return python()
    print(f"Building the benchmark environment in {VENV.name} (about a minute)...", flush=True)
    if not python().exists():
        _run(sys.executable, "-m", "venv", str(VENV))
    pip = (str(python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    _run(*pip, "--upgrade", "pip")
    _run(*pip, "-e", ".[embedded]", "-r", str(REQUIREMENTS))
    STAMP.write_text(wanted + "\n")
    return python()
