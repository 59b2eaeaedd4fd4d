"""Finding, starting and stopping the engine of a runtime directory, from any process.

Every step that reads or changes ``engine.json`` holds the runtime directory's
lock, so two processes starting at the same moment start one engine: the
second one waits for the lock, then finds the engine the first one started
and uses it.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from djangoes.embedded._http import engine_answers
from djangoes.embedded.config import EngineConfig
from djangoes.embedded.errors import EngineAlreadyRunning, EngineError, EngineStartError
from djangoes.embedded.keeper import LOCK_TIMEOUT, Keeper
from djangoes.embedded.procs import ProcessRef, owner_process
from djangoes.embedded.snapshot import SnapshotInfo
from djangoes.embedded.state import (
    LOCK_FILE,
    LOG_FILE,
    EngineState,
    FileLock,
    prepare_runtime_dir,
    read_state,
    remove_state,
    write_state,
)

__all__ = ["ensure_engine", "find_engine", "run_engine", "stop_engine"]

logger = logging.getLogger("djangoes.embedded")

#: Extra time a starting keeper gets beyond ``startup_timeout`` (Python's own start).
KEEPER_START_MARGIN = 30.0


class Status(enum.Enum):
    NONE = "none"  # no engine.json
    RUNNING = "running"  # keeper and engine alive, engine answers
    STOPPING = "stopping"  # keeper alive, engine gone or going: wait for the keeper
    STALE = "stale"  # keeper gone: engine.json is a leftover


def _status(state: EngineState | None) -> Status:
    if state is None:
        return Status.NONE
    if not state.keeper.is_alive():
        return Status.STALE
    if state.engine.is_alive() and engine_answers(state.url):
        return Status.RUNNING
    return Status.STOPPING


def _require_posix() -> None:
    if os.name != "posix":
        raise EngineError(
            "The embedded engine needs a POSIX system (Linux, macOS): it coordinates "
            "processes with flock(2) and signals. Use an OpenSearch server elsewhere."
        )


def _lock(config: EngineConfig, runtime_dir: Path) -> FileLock:
    return FileLock(runtime_dir / LOCK_FILE, LOCK_TIMEOUT, config.label)


def _clear_stale(runtime_dir: Path, state: EngineState) -> None:
    """Remove what a dead keeper left behind (call with the lock held)."""
    logger.info("Clearing the state of a stopped engine (keeper pid %s)", state.keeper.pid)
    # The engine exits by itself once its keeper is gone (its stdin closes);
    # this is only for an engine that somehow did not.
    state.engine.terminate()
    remove_state(runtime_dir, keeper=state.keeper)


def _wait_for_stop(config: EngineConfig, state: EngineState, deadline: float) -> None:
    """Wait a moment (without the lock, which the keeper needs) for a stopping keeper.

    The caller looks again afterwards: the keeper may be gone, or its engine
    may answer again (it was only busy). Raises :class:`EngineError` once
    ``deadline`` has passed.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise EngineError(
            f"{config.label} at {state.url} (engine pid {state.engine.pid}) does not answer, "
            f"and its keeper (pid {state.keeper.pid}) did not stop it. Stop that process, "
            f"then try again; its log is {str(state.log_file)!r}."
        )
    state.keeper.wait_gone(min(1.0, remaining))


def _check_matches(config: EngineConfig, state: EngineState) -> None:
    wanted = str(config.data_dir) if config.data_dir else None
    if state.data_dir != wanted:
        raise EngineError(
            f"{config.label}: the engine running for {str(config.runtime_dir)!r} (at "
            f"{state.url}, keeper pid {state.keeper.pid}) uses data_dir {state.data_dir!r}, "
            f"not {wanted!r}. Stop it first, or give this connection its own runtime_dir."
        )
    if config.port and state.port != config.port:
        raise EngineError(
            f"{config.label}: the engine running for {str(config.runtime_dir)!r} listens on "
            f"port {state.port}, not on the configured port {config.port}. Stop it first "
            f"(keeper pid {state.keeper.pid})."
        )


def find_engine(config: EngineConfig) -> EngineState | None:
    """The engine running for ``config.runtime_dir``, or None; starts nothing."""
    runtime_dir = config.runtime_dir
    if not (runtime_dir / LOCK_FILE).exists():
        return None
    with _lock(config, runtime_dir):
        state = read_state(runtime_dir)
        return state if _status(state) is Status.RUNNING else None


def ensure_engine(config: EngineConfig, *, holder: ProcessRef | None = None) -> EngineState:
    """The running engine for ``config``: the one already running, or a new one.

    ``holder`` (default: :func:`~djangoes.embedded.procs.owner_process`) is
    recorded as a user of the engine, which keeps running until every holder
    has exited. Raises :class:`EngineStartError` when a new engine cannot start,
    :class:`EngineError` when the running one cannot be used.
    """
    _require_posix()
    holder = holder or owner_process()
    runtime_dir = prepare_runtime_dir(config.runtime_dir)
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        with _lock(config, runtime_dir):
            state = read_state(runtime_dir)
            status = _status(state)
            if status is Status.RUNNING:
                assert state is not None
                _check_matches(config, state)
                return _add_holder(runtime_dir, state, holder)
            if status is Status.STALE:
                assert state is not None
                _clear_stale(runtime_dir, state)
            if status in (Status.NONE, Status.STALE):
                return _spawn_keeper(config, holder)
        assert state is not None
        _wait_for_stop(config, state, deadline)


def _add_holder(runtime_dir: Path, state: EngineState, holder: ProcessRef) -> EngineState:
    if holder not in state.holders or len(state.live_holders()) != len(state.holders):
        state.holders = [h for h in state.live_holders() if h != holder] + [holder]
        write_state(runtime_dir, state)
        logger.debug("Using the embedded engine at %s (holder pid %s)", state.url, holder.pid)
    return state


def _package_root() -> str:
    import djangoes

    return str(Path(djangoes.__file__).resolve().parent.parent)


def _spawn_keeper(config: EngineConfig, holder: ProcessRef) -> EngineState:
    """Start a background keeper and wait for its engine (call with the lock held)."""
    runtime_dir = config.runtime_dir
    env = dict(os.environ)
    # The keeper must import this very djangoes, wherever it was imported from.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_package_root(), env.get("PYTHONPATH", "")) if p
    )
    command = [
        sys.executable, "-m", "djangoes.embedded",
        "--config", json.dumps(config.to_json()),
        "--holder", json.dumps(holder.to_json()),
    ]  # fmt: skip
    log_path = runtime_dir / LOG_FILE
    try:
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=runtime_dir,
                env=env,
                start_new_session=True,
            )
    except OSError as exc:
        raise EngineStartError(f"{config.label}: cannot run {command[0]!r}: {exc}") from exc
    try:
        messages = _read_keeper(process, config.startup_timeout + KEEPER_START_MARGIN)
    finally:
        if process.stdout is not None:
            process.stdout.close()
        # The keeper forks at once and its first process exits: reap it. One that
        # hangs before forking is of no use to anyone.
        try:
            process.wait(timeout=KEEPER_START_MARGIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    keeper_pid = messages.get("pid")
    if "url" not in messages:
        if isinstance(keeper_pid, int) and "error" not in messages:
            ProcessRef.of(keeper_pid).send(signal.SIGTERM)  # it missed its deadline
        reason = messages.get("error") or _log_tail(log_path) or "no reason given"
        raise EngineStartError(f"{config.label} did not start: {reason} (log: {str(log_path)!r})")
    state = read_state(runtime_dir)
    if state is None or state.keeper.pid != keeper_pid:
        raise EngineStartError(
            f"{config.label} started at {messages['url']} but did not record itself in "
            f"{str(runtime_dir)!r} (log: {str(log_path)!r})."
        )
    return state


def _read_keeper(process: subprocess.Popen[bytes], timeout: float) -> dict[str, object]:
    """Merge the JSON lines the keeper prints until it gives a url or an error, or EOF."""
    import selectors

    assert process.stdout is not None
    merged: dict[str, object] = {}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(remaining):
                continue
            line = process.stdout.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not one of ours (a warning printed at start-up)
            if isinstance(message, dict):
                merged.update(message)
                if "url" in message or "error" in message:
                    break
        else:
            merged.setdefault("error", f"no answer within {timeout:g} s")
    return merged


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])


def stop_engine(config: EngineConfig, *, timeout: float = LOCK_TIMEOUT) -> bool:
    """Save (with a data directory) and stop the engine of ``config``, whoever started it.

    Returns False if none was running. Raises :class:`EngineError` if its
    keeper did not finish within ``timeout`` seconds.
    """
    runtime_dir = config.runtime_dir
    state = read_state(runtime_dir)
    if state is None:
        return False
    if not state.keeper.is_alive():
        with _lock(config, runtime_dir):
            _clear_stale(runtime_dir, state)
        return False
    state.keeper.send(signal.SIGTERM)
    if not state.keeper.wait_gone(timeout):
        raise EngineError(
            f"{config.label}: its keeper (pid {state.keeper.pid}) did not stop within "
            f"{timeout:g} s; see {str(state.log_file)!r}."
        )
    return True


def run_engine(
    config: EngineConfig, *, ready: Callable[[EngineState], None] | None = None
) -> SnapshotInfo | None:
    """Run the engine in this process until SIGINT/SIGTERM, then save and stop it.

    This process is the engine's keeper (``search_server``): other processes
    find and use the engine while it runs. ``ready`` is called once it answers.
    Returns what was saved (None without a data directory). Raises
    :class:`EngineAlreadyRunning` if an engine already runs for this runtime
    directory, :class:`EngineStartError` if it cannot start,
    :class:`~djangoes.embedded.errors.SnapshotError` if the final save failed.
    """
    _require_posix()
    runtime_dir = prepare_runtime_dir(config.runtime_dir)
    keeper = Keeper(config, holders=[ProcessRef.current()], foreground=True)
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        with _lock(config, runtime_dir):
            state = read_state(runtime_dir)
            status = _status(state)
            if status is Status.RUNNING:
                assert state is not None
                raise EngineAlreadyRunning(
                    f"{config.label} is already running at {state.url} (engine pid "
                    f"{state.engine.pid}, started by pid {state.keeper.pid}). Processes of "
                    "this project use it already; stop that process first to run it here.",
                    state,
                )
            if status is Status.STALE:
                assert state is not None
                _clear_stale(runtime_dir, state)
            if status in (Status.NONE, Status.STALE):
                keeper.install_signal_handlers()
                try:
                    started = keeper.start()
                except BaseException:
                    keeper.restore_signal_handlers()
                    raise
                break
        assert state is not None
        _wait_for_stop(config, state, deadline)
    if ready is not None:
        ready(started)
    return keeper.serve()
