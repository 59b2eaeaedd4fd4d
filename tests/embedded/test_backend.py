"""EmbeddedBackend: configuration, errors, features, and the engine it starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from djangoes import connections
from djangoes.backends import embedded as embedded_backend
from djangoes.backends.embedded import EmbeddedBackend
from djangoes.embedded import (
    ENGINE_PARAMS,
    EngineConfig,
    EngineError,
    EngineStartError,
    ensure_engine,
    stop_engine,
)
from djangoes.embedded.config import default_runtime_dir
from djangoes.embedded.state import prepare_runtime_dir
from djangoes.exceptions import ConnectionError
from tests.embedded.utils import ROOT, Dirs, running_state

ENGINE = "djangoes.backends.embedded.EmbeddedBackend"


def configure(settings: Any, **params: Any) -> None:
    settings.ES_SERVERS = {"default": {"ENGINE": ENGINE, "INDICES": ["blog"], "PARAMS": params}}
    settings.ES_INDICES = {
        "blog": {"SETTINGS": {"mappings": {"properties": {"title": {"type": "text"}}}}}
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_connection_starts_the_engine_with_every_param(settings: Any, dirs: Dirs) -> None:
    import osmem_server

    port = free_port()
    configure(
        settings,
        runtime_dir=dirs.runtime,
        data_dir=str(dirs.data),
        port=port,
        startup_timeout=20,
        binary=osmem_server.resolve_binary(),
        timeout=5,  # a client PARAM: goes to opensearch-py, unlike the five above
    )
    conn = connections["default"]
    assert conn.server["HOSTS"] == []  # nothing started yet
    conn.create_indices()
    conn.index(id="1", document={"title": "Hello"})

    url = f"http://127.0.0.1:{port}"
    assert conn.server["HOSTS"] == [url]
    assert url in repr(conn)
    assert conn.search(query={"match": {"title": "hello"}})["hits"]["total"]["value"] == 1
    state = running_state(dirs.runtime)
    assert state.url == url
    assert state.data_dir == str(dirs.data)
    assert conn.check_server() == []  # the deploy check accepts osmem-server's version


def test_relative_directories_are_taken_from_base_dir(settings: Any, dirs: Dirs) -> None:
    settings.BASE_DIR = dirs.base
    configure(settings, runtime_dir="run", data_dir="var/search")
    config = connections["default"].engine_config()
    assert config.runtime_dir == dirs.base / "run"
    assert config.data_dir == dirs.base / "var" / "search"
    assert config.label == "the embedded engine of ES_SERVERS['default']"


def test_features_say_what_osmem_cannot_do(settings: Any, dirs: Dirs) -> None:
    configure(settings, runtime_dir=dirs.runtime)
    features = connections["default"].features
    assert features.refresh_needed is False
    assert features.supports_scripts is False
    assert features.supports_synonyms is False
    assert features.supports_snapshots is False
    assert features.exact_scores is False
    assert features.point_in_time_api == "opensearch"
    assert EmbeddedBackend.uses_hosts is False
    assert EmbeddedBackend.install_hint == "'djangoes[embedded]'"
    # The backend keeps its own copy of the key list so as not to import the engine.
    assert embedded_backend.ENGINE_PARAMS == ENGINE_PARAMS
    assert repr(features) == (
        "<EmbeddedFeatures of 'default': refresh_needed=False, supports_scripts=False, "
        "supports_synonyms=False, point_in_time_api='opensearch', supports_snapshots=False, "
        "exact_scores=False, supports_external_versions=True>"
    )


def test_the_repr_of_features_shows_every_flag() -> None:
    from djangoes.backends.features import BaseFeatures

    declared = {
        name
        for name, value in vars(BaseFeatures).items()
        if not name.startswith("_")
        and (isinstance(value, (bool, str)) or (name.endswith("_api") and value is None))
    }
    assert declared == set(BaseFeatures.flags)


def test_hosts_are_ignored_with_a_warning(settings: Any, dirs: Dirs) -> None:
    configure(settings, runtime_dir=dirs.runtime)
    settings.ES_SERVERS["default"]["HOSTS"] = ["search.example.com:9200"]
    problems = connections.check_problems()
    assert [p.id for p in problems] == ["djangoes.W002"]
    assert "HOSTS'] is ignored" in problems[0].msg


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("port", "9200", "an int between 0 and 65535"),
        ("port", 70000, "an int between 0 and 65535"),
        ("port", True, "an int between 0 and 65535"),
        ("startup_timeout", 0, "a number of seconds > 0"),
        ("startup_timeout", "30", "a number of seconds > 0"),
        ("data_dir", 5, "a path (str or pathlib.Path)"),
        ("runtime_dir", ["run"], "a path (str or pathlib.Path)"),
        ("binary", "/nonexistent/osmem-server", "the path of an executable osmem-server"),
    ],
)
def test_bad_engine_params_name_alias_key_and_value(
    settings: Any, dirs: Dirs, key: str, value: Any, expected: str
) -> None:
    configure(settings, **{"runtime_dir": str(dirs.runtime), key: value})
    problems = [p for p in connections.check_problems() if p.level == "error"]
    assert [p.id for p in problems] == ["djangoes.E012"]
    message = f"ES_SERVERS['default']['PARAMS'][{key!r}] = {value!r} is not valid"
    assert message in problems[0].msg
    assert expected in problems[0].msg
    with pytest.raises(ImproperlyConfigured) as info:
        connections["default"]
    assert message in str(info.value)
    assert not (dirs.runtime / "engine.json").exists()  # nothing was started


def test_other_params_are_still_checked_as_the_clients(settings: Any, dirs: Dirs) -> None:
    configure(settings, runtime_dir=str(dirs.runtime), data_dir=str(dirs.data), timout=5)
    problems = connections.check_problems()
    assert len(problems) == 1
    assert "has 'timout', which the OpenSearch client does not accept" in problems[0].msg
    assert "Did you mean 'timeout'?" in problems[0].msg


def test_an_engine_that_cannot_start_says_why(settings: Any, dirs: Dirs) -> None:
    false = "/bin/false" if os.path.exists("/bin/false") else "/usr/bin/false"
    configure(settings, runtime_dir=str(dirs.runtime), binary=false)
    with pytest.raises(EngineStartError) as info:
        connections["default"].info()
    message = str(info.value)
    assert "the embedded engine of ES_SERVERS['default']" in message
    assert "osmem-server exited with status 1" in message
    assert str(dirs.runtime / "engine.log") in message
    assert not (dirs.runtime / "engine.json").exists()


def test_a_startup_timeout_is_reported(dirs: Dirs) -> None:
    with pytest.raises(EngineStartError) as info:
        ensure_engine(EngineConfig(runtime_dir=dirs.runtime, startup_timeout=1e-9))
    assert "osmem-server did not answer within 1e-09 s" in str(info.value)
    assert not (dirs.runtime / "engine.json").exists()


def test_a_busy_port_is_reported(dirs: Dirs) -> None:
    port = free_port()
    first = ensure_engine(EngineConfig(runtime_dir=dirs.runtime, port=port))
    assert first.port == port
    with pytest.raises(EngineStartError) as info:
        ensure_engine(EngineConfig(runtime_dir=dirs.base / "other", port=port))
    assert "address already in use" in str(info.value)
    with pytest.raises(EngineError) as mismatch:
        ensure_engine(EngineConfig(runtime_dir=dirs.runtime, port=port + 1))
    assert f"listens on port {port}, not on the configured port {port + 1}" in str(mismatch.value)


def test_the_default_runtime_dir_is_per_user_project_settings_and_alias(tmp_path: Path) -> None:
    one = default_runtime_dir(
        "default", base_dir=tmp_path / "shop", settings_module="shop.settings"
    )
    assert one == default_runtime_dir(
        "default", base_dir=tmp_path / "shop", settings_module="shop.settings"
    )
    assert one.parent.name == f"djangoes-{os.getuid()}"
    assert one.name.startswith("shop-default-")
    others = {
        default_runtime_dir("search", base_dir=tmp_path / "shop", settings_module="shop.settings"),
        default_runtime_dir("default", base_dir=tmp_path / "blog", settings_module="shop.settings"),
        default_runtime_dir("default", base_dir=tmp_path / "shop", settings_module="shop.test"),
    }
    assert one not in others
    assert len(others) == 3


def test_a_runtime_dir_writable_by_others_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "djangoes-shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(EngineError) as info:
        prepare_runtime_dir(shared / "project")
    assert f"{str(shared)!r} belongs to another user or is writable by others" in str(info.value)


def run_python(code: str, *args: str, pythonpath: list[Path], isolated: bool = False) -> str:
    """Run ``code`` in a new interpreter; returns its stdout (CalledProcessError on failure)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    command = [sys.executable, *(["-S"] if isolated else []), "-c", code, *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


CHECK_LIBRARY = """
from django.conf import settings
settings.configure(ES_SERVERS={"default": {"ENGINE": "ENGINE_PATH"}})
from djangoes import connections
problems = [p for p in connections.check_problems() if p.id == "djangoes.E011"]
print(problems[0].msg, problems[0].hint)
try:
    connections["default"]
except Exception as exc:
    print(type(exc).__name__, exc)
""".replace("ENGINE_PATH", ENGINE)


def test_without_osmem_server_the_error_names_the_pip_install(tmp_path: Path) -> None:
    """An interpreter whose packages are this one's minus osmem-server (no mock involved)."""
    site = Path(sysconfig.get_paths()["purelib"])
    packages = tmp_path / "site"
    packages.mkdir()
    for entry in site.iterdir():
        if not entry.name.lower().startswith(("osmem", "__editable__", "_djangoes")):
            (packages / entry.name).symlink_to(entry)
    out = run_python(CHECK_LIBRARY, pythonpath=[ROOT / "src", packages], isolated=True)
    assert "EmbeddedBackend needs osmem-server>=0.1.6,<0.2, which is not installed." in out
    assert "Run: pip install 'djangoes[embedded]'" in out
    assert "ConfigurationError" in out


def test_a_too_old_osmem_server_is_named_with_its_version(tmp_path: Path) -> None:
    """An installed (metadata-only) osmem-server 0.1.0 found first on the path."""
    dist = tmp_path / "osmem_server-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: osmem-server\nVersion: 0.1.0\n")
    out = run_python(CHECK_LIBRARY, pythonpath=[tmp_path])
    assert "needs osmem-server>=0.1.6,<0.2, found 0.1.0." in out
    assert "Run: pip install 'djangoes[embedded]'" in out


def test_importing_the_backend_imports_no_engine_and_reads_no_settings() -> None:
    code = (
        "import sys\n"
        "import djangoes.backends.embedded, djangoes.embedded\n"
        "import djangoes.management.commands.search_server\n"
        "from django.conf import settings\n"
        "assert not settings.configured, 'settings were read at import'\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'osmem_server', 'opensearchpy', 'urllib3', 'elasticsearch'}))\n"
    )
    assert run_python(code, pythonpath=[ROOT / "src"]) == "[]"


def test_after_its_engine_stopped_a_new_connection_starts_another(
    settings: Any, dirs: Dirs
) -> None:
    configure(settings, runtime_dir=str(dirs.runtime))
    conn = connections["default"]
    conn.create_indices()
    old = conn.engine
    assert old is not None
    assert stop_engine(conn.engine_config())

    with pytest.raises(ConnectionError) as info:
        connections["default"].count()
    assert info.value.status is None

    connections.close_all()
    fresh = connections["default"]
    assert fresh.meta.indices.exists(index="blog") is False  # a new, empty engine
    assert fresh.engine is not None
    assert fresh.engine.engine != old.engine
