"""The real-engine lanes when a real engine cannot run: skipped and saying why, failed in CI.

These run the lane runner (``python -m tests.lanes os219``) in a subprocess
with Maven or Java taken away; no JVM starts. The lanes themselves, with a
node, are ``make os219 os38`` (``tests/real``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import engines

ROOT = Path(__file__).resolve().parent.parent


def lane(name: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run lane ``name`` with an empty artifact cache (a command that would fail if reached)."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("DJANGOES_")}
    environ.update(DJANGOES_ENGINE_CACHE=str(tmp_path / "cache"), **env)
    return subprocess.run(
        [sys.executable, "-m", "tests.lanes", name, "--", sys.executable, "-c", "exit(3)"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_without_maven_a_lane_is_skipped_and_says_why(tmp_path: Path) -> None:
    done = lane("os219", tmp_path, MVN=str(tmp_path / "no-mvn"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OpenSearch 2.19 lane SKIPPED" in done.stdout
    assert f"Maven ({tmp_path / 'no-mvn'}) is missing" in done.stdout


def test_under_ci_a_lane_that_cannot_run_fails(tmp_path: Path) -> None:
    done = lane("os38", tmp_path, MVN=str(tmp_path / "no-mvn"), DJANGOES_CI="1")
    assert done.returncode == 1
    assert "OpenSearch 3.8 lane FAILED (CI runs every lane)" in done.stdout


def test_a_java_home_without_java_is_named(tmp_path: Path) -> None:
    done = lane("os38", tmp_path, DJANGOES_OS38_JAVA_HOME=str(tmp_path))
    assert done.returncode == 0
    assert f"DJANGOES_OS38_JAVA_HOME={tmp_path}: no bin/java there" in done.stdout


@pytest.mark.parametrize(
    ("line", "major"),
    [('JAVA_VERSION="17.0.15"', 17), ('JAVA_VERSION="25"', 25), ('JAVA_VERSION="1.8.0_392"', 8)],
)
def test_the_java_version_is_read_from_the_release_file(
    tmp_path: Path, line: str, major: int
) -> None:
    (tmp_path / "release").write_text(f'IMPLEMENTOR="x"\n{line}\n')
    assert engines.java_major(tmp_path) == major


def test_a_java_of_the_wrong_version_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").touch()
    (home / "release").write_text('JAVA_VERSION="11.0.2"\n')
    monkeypatch.setenv("JAVA_HOME", str(home))  # looked at first
    assert engines.java_homes()[0] == home
    found = engines.find_java(engines.Release("x", "0", "0", 17, None, 1, 2)).parent.parent
    assert found != home
    assert (engines.java_major(found) or 0) >= 17
    with pytest.raises(engines.EngineUnavailable, match=r"OpenSearch x needs Java 99 or newer"):
        engines.find_java(engines.Release("x", "0", "0", 99, None, 1, 2))
