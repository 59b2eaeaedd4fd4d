"""Loaded with ``-p report_plugin``: records the names in use once the session is over."""

import json
import os

from djangoes import connections


def pytest_sessionfinish(session, exitstatus):
    entry = {
        "after_session": True,
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        "test_names": None if connections.test_names is None else connections.test_names.suffix,
    }
    with open(os.environ["PYTESTPROJECT_REPORT"], "a") as out:
        out.write(json.dumps(entry) + "\n")
