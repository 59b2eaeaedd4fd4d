"""The lanes of ``make test``: each prints its Python and Django versions, and runs its stack."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import django
import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests import lanes
from tests.queue.test_command import ROOT


@pytest.mark.parametrize(
    ("lane", "title"), [("main", "Main"), ("compat", "Compatibility"), ("django60", "Django 6.0")]
)
def test_a_lane_prints_its_python_and_django_versions_first(lane: str, title: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.lanes", lane, "--", sys.executable, "-c",
         "import os; print('lane', os.environ['DJANGOES_LANE'])"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.startswith(
        f"{title} lane: Python {platform.python_version()}, Django {django.get_version()}, "
    )
    assert second == f"lane {lane}"  # then the command, told its lane


@pytest.mark.skipif(
    os.environ.get("DJANGOES_LANE") not in lanes.STACKS,
    reason="run by the lanes of STACKS (python -m tests.lanes main|compat|django60)",
)
def test_the_lane_runs_its_stack() -> None:
    """Django 6.1 on Python 3.13 with elasticsearch-py 9 and opensearch-py 3 in the main
    lane; Django 5.2 on Python 3.11 with elasticsearch-py 8 and opensearch-py 2 in the
    compatibility lane."""
    assert lanes.stack() == lanes.STACKS[os.environ["DJANGOES_LANE"]]


def test_the_package_supports_the_django_releases_the_lanes_run() -> None:
    """Django 5.2, 6.0 and 6.1 (each lane runs one), not 4.2 or 6.2: in the pin and the
    classifiers; the Python classifiers from ``requires-python`` on, each lane's among them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    [pin] = [r for r in map(Requirement, project["dependencies"]) if r.name == "Django"]
    supported = {stack["Django"] for stack in lanes.STACKS.values()}
    assert supported == {"5.2", "6.0", "6.1"}
    releases = ("4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2", "7.0")
    assert {r for r in releases if pin.specifier.contains(f"{r}.3")} == supported
    classifiers = project["classifiers"]
    django_classifiers = {c.split(" :: ")[2] for c in classifiers if c.count(" :: ") == 2
                          and c.startswith("Framework :: Django :: ")}  # fmt: skip
    assert django_classifiers == supported
    pythons = {c.split(" :: ")[2] for c in classifiers if c.count(" :: ") == 2
               and c.startswith("Programming Language :: Python :: 3.")}  # fmt: skip
    assert {stack["Python"] for stack in lanes.STACKS.values()} <= pythons
    requires = SpecifierSet(project["requires-python"])
    assert min(pythons, key=lambda v: tuple(map(int, v.split(".")))) == "3.10"
    assert requires.contains("3.10.0")
    assert not requires.contains("3.9.18")
