"""The keeper: the process that runs one osmem-server, saves its data and stops it.

Three processes are involved::

    holders (owners of the processes using the engine: runserver's reloader,
     │       a shell, a test run...), listed in engine.json
     │   watched every POLL_INTERVAL seconds
    keeper  (this module: ``python -m djangoes.embedded``, or the
     │       ``search_server`` command itself in the foreground)
     │   child; exits when the keeper's pipe to its stdin closes, or the keeper's pid is gone
    osmem-server

A background keeper stops the engine when the last holder is gone; a
foreground one when it is told to (Ctrl-C, SIGTERM). Either way it first saves
the indices to the data directory while the engine still answers, then stops
it and removes ``engine.json``. Saving in the keeper, rather than in the
process that used the engine, is what makes it work when that process cannot
do it: Django's autoreloader SIGKILLs its child 0.25 s after Ctrl-C, and a
killed process runs no ``atexit``. If the keeper itself is killed, the engine
sees its stdin close and exits at once (nothing is saved then).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import IO, Any, NoReturn

from djangoes.embedded.config import EngineConfig
from djangoes.embedded.errors import EngineError, EngineStartError, SnapshotError
from djangoes.embedded.procs import ProcessRef
from djangoes.embedded.snapshot import (
    SnapshotInfo,
    current_snapshot,
    prepare_seed,
    save_snapshot,
)
from djangoes.embedded.state import (
    LOCK_FILE,
    EngineState,
    FileLock,
    read_state,
    remove_state,
    write_state,
)

__all__ = ["LOCK_TIMEOUT", "POLL_INTERVAL", "Keeper", "main"]

logger = logging.getLogger("djangoes.embedded")

#: How often a keeper looks at its holders and its engine (seconds).
POLL_INTERVAL = 0.2
#: How long anyone waits for the runtime directory's lock (a save may hold it).
LOCK_TIMEOUT = 120.0
#: How long the engine gets to exit after its stdin is closed.
STOP_GRACE = 5.0
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


class Keeper:
    """Starts one engine for ``config``, watches it, saves and stops it.

    ``holders`` are the processes whose exit stops a background keeper;
    ``foreground`` keepers ignore them and stop only on a signal or :meth:`request_stop`.
    """

    def __init__(
        self, config: EngineConfig, *, holders: Sequence[ProcessRef], foreground: bool
    ) -> None:
        self.config = config
        self.holders = list(holders)
        self.foreground = foreground
        self.me = ProcessRef.current()
        self.process: subprocess.Popen[bytes] | None = None
        self.state: EngineState | None = None
        self.stop_reason: str | None = None
        self._data_lock: FileLock | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._stderr_relay: threading.Thread | None = None
        self._old_handlers: dict[int, Any] = {}
        # While signal handlers are installed, they write to this pipe to wake
        # the watch loop at once instead of after its next poll.
        self._wake: tuple[int, int] | None = None

    # -- signals ----------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        """Ask :meth:`serve` to save and stop (safe from a signal handler)."""
        self.stop_reason = self.stop_reason or reason

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.request_stop(signal.Signals(signum).name)
        if self._wake is not None:
            # A full pipe means earlier wake-ups are pending: the loop wakes anyway.
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake[1], b"!")

    def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if a stop signal comes in."""
        import select

        if self._wake is None:
            time.sleep(seconds)
            return
        readable, _, _ = select.select([self._wake[0]], [], [], seconds)
        if readable:
            os.read(self._wake[0], 512)

    def install_signal_handlers(self) -> None:
        """Turn SIGTERM, SIGINT and SIGHUP into a graceful stop (main thread only).

        Raises :class:`EngineError` when called from another thread, where
        Python cannot receive signals.
        """
        if threading.current_thread() is not threading.main_thread():
            raise EngineError(
                f"{self.config.label} can only be run in the foreground from the main "
                "thread (it needs to receive Ctrl-C and SIGTERM to save and stop)."
            )
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        self._wake = (wake_r, wake_w)
        for sig in _STOP_SIGNALS:
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)

    def restore_signal_handlers(self) -> None:
        """Put back the handlers replaced by :meth:`install_signal_handlers`."""
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)
        self._old_handlers.clear()
        wake, self._wake = self._wake, None
        if wake is not None:
            os.close(wake[0])
            os.close(wake[1])

    # -- start --------------------------------------------------------------------

    def start(self) -> EngineState:
        """Start the engine, wait until it answers and record it in ``engine.json``.

        The caller holds the runtime directory's lock. Raises
        :class:`EngineStartError` (with what the engine said) when it cannot start.
        """
        config = self.config
        binary = config.resolve_binary()
        seed = self._claim_data_dir()
        args = [
            binary,
            "--addr", f"127.0.0.1:{config.port}",
            "--no-ja",  # the Japanese dictionary alone costs ~140 MiB
            "--parent-pid", str(self.me.pid),
        ]  # fmt: skip
        if seed is not None:
            args += ["--seed", str(seed)]
        logger.info("Starting %s: %s", config.label, " ".join(args))
        try:
            # stdin stays a pipe from us: osmem-server exits when it closes, i.e.
            # as soon as this keeper is gone, however it died. Its own session
            # keeps a terminal's Ctrl-C away from it so that we can save first.
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            self._release_data_dir()
            raise EngineStartError(f"Cannot run osmem-server {args[0]!r}: {exc}") from exc
        self._stderr_relay = self._relay(self.process.stderr, self._stderr_tail.append)
        try:
            ready = self._wait_ready(seed)
        except EngineStartError:
            self._stop_engine_process()
            self._release_data_dir()
            raise
        self._relay(self.process.stdout, None)
        self.state = EngineState(
            url=str(ready["url"]),
            engine=ProcessRef.of(self.process.pid),
            keeper=self.me,
            runtime_dir=str(config.runtime_dir),
            holders=self.holders,
            foreground=self.foreground,
            data_dir=str(config.data_dir) if config.data_dir else None,
            version=str(ready.get("version", "")),
            osmem_version=_osmem_version(),
            started_at=time.time(),
        )
        write_state(config.runtime_dir, self.state)
        logger.info("%s listens on %s (pid %s)", config.label, self.state.url, self.process.pid)
        return self.state

    def _claim_data_dir(self) -> Path | None:
        """Lock the data directory for this engine; returns the snapshot to load, if any."""
        data_dir = self.config.data_dir
        if data_dir is None:
            return None
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EngineStartError(f"Cannot create the data_dir {str(data_dir)!r}: {exc}") from exc
        lock = FileLock(data_dir / LOCK_FILE, 0.0, what=str(data_dir))
        if not lock.try_acquire():
            holder = (data_dir / LOCK_FILE).read_text(encoding="utf-8", errors="replace")
            raise EngineStartError(
                f"The data_dir {str(data_dir)!r} is used by another running engine "
                f"({holder.strip() or 'unknown'}). Give each connection its own data_dir."
            )
        os.ftruncate(lock.fd, 0)
        os.write(
            lock.fd,
            json.dumps(
                {"keeper_pid": self.me.pid, "runtime_dir": str(self.config.runtime_dir)}
            ).encode(),
        )
        self._data_lock = lock
        try:
            snapshot = current_snapshot(data_dir)
            if snapshot is not None:
                prepare_seed(snapshot)
            return snapshot
        except SnapshotError as exc:
            self._release_data_dir()
            raise EngineStartError(str(exc)) from exc

    def _release_data_dir(self) -> None:
        if self._data_lock is not None:
            self._data_lock.release()
            self._data_lock = None

    def _wait_ready(self, seed: Path | None) -> dict[str, Any]:
        """The ready line osmem-server prints on stdout; EngineStartError if none comes."""
        import selectors

        process = self.process
        assert process is not None
        assert process.stdout is not None
        deadline = time.monotonic() + self.config.startup_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while (remaining := deadline - time.monotonic()) > 0:
                if not selector.select(remaining):
                    continue
                line = process.stdout.readline()
                if not line:
                    break  # EOF: the engine exited
                try:
                    message = json.loads(line)
                except ValueError:
                    logger.info("osmem-server: %s", line.decode(errors="replace").rstrip())
                    continue
                if isinstance(message, dict) and "url" in message:
                    return message
        try:
            code: int | None = process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and self._stderr_relay is not None:
            self._stderr_relay.join(timeout=1.0)  # it ends at EOF: all was said
        said = " | ".join(self._stderr_tail) or "nothing"
        where = f" loading the snapshot {str(seed)!r}" if seed else ""
        if code is None:
            problem = f"did not answer within {self.config.startup_timeout:g} s"
        else:
            problem = f"exited with status {code}"
        raise EngineStartError(
            f"{self.config.label}: osmem-server {problem}{where}. It said: {said}"
        )

    def _relay(
        self, stream: IO[bytes] | None, keep: Callable[[str], None] | None
    ) -> threading.Thread | None:
        """Copy the engine's output to our stderr (the log file for a background keeper).

        Reading it also keeps the pipe from filling up and blocking the engine.
        Returns the thread that does it.
        """
        if stream is None:
            return None

        def run() -> None:
            for raw in stream:
                line = raw.decode(errors="replace").rstrip()
                if keep is not None:
                    keep(line)
                sys.stderr.write(line + "\n")
                sys.stderr.flush()

        thread = threading.Thread(target=run, name="osmem-relay", daemon=True)
        thread.start()
        return thread

    # -- watch ---------------------------------------------------------------------

    def serve(self) -> SnapshotInfo | None:
        """Watch until it is time to stop, then save and stop; returns what was saved.

        Raises :class:`SnapshotError` if the engine was stopped but the save
        failed (the previous snapshot is kept), :class:`EngineError` if the
        engine died on its own.
        """
        process = self.process
        if process is None or self.state is None:
            raise EngineError("Keeper.serve() called before start()")
        try:
            while True:
                if self.stop_reason is not None:
                    logger.info("Stopping %s (%s)", self.config.label, self.stop_reason)
                    return self.stop(force=True)
                if process.poll() is not None:
                    return self._engine_died(process.returncode)
                if not self.foreground and not self._holders_alive():
                    result = self.stop(force=False)
                    if self.process is None:
                        return result
                self._sleep(POLL_INTERVAL)
        finally:
            self.restore_signal_handlers()

    def _holders_alive(self) -> bool:
        state = read_state(self.config.runtime_dir)
        if state is None or state.keeper != self.me:
            # Our state file is gone or replaced: nobody can find this engine any more.
            logger.warning("%s: its engine.json disappeared; stopping", self.config.label)
            return False
        return bool(state.live_holders())

    def _engine_died(self, code: int) -> NoReturn:
        with self._lock():
            remove_state(self.config.runtime_dir, keeper=self.me)
        self._release_data_dir()
        said = " | ".join(self._stderr_tail) or "nothing"
        raise EngineError(f"{self.config.label}: osmem-server exited with status {code}: {said}")

    # -- stop ----------------------------------------------------------------------

    def _lock(self) -> FileLock:
        return FileLock(self.config.runtime_dir / LOCK_FILE, LOCK_TIMEOUT, self.config.label)

    def stop(self, *, force: bool) -> SnapshotInfo | None:
        """Save (with a data directory) and stop the engine, holding the runtime lock.

        Unless ``force``, first checks again, under the lock, that no holder came
        in meanwhile; if one did, nothing happens (:attr:`process` stays set).
        Raises :class:`SnapshotError` after stopping if the save failed.
        """
        with self._lock():
            if not force:
                state = read_state(self.config.runtime_dir)
                if state is not None and state.keeper == self.me and state.live_holders():
                    return None
            error: SnapshotError | None = None
            saved: SnapshotInfo | None = None
            if self.config.data_dir is not None and self.state is not None:
                try:
                    saved = save_snapshot(self.state.url, self.config.data_dir)
                except SnapshotError as exc:
                    logger.error("%s", exc)
                    error = exc
            self._stop_engine_process()
            remove_state(self.config.runtime_dir, keeper=self.me)
        self._release_data_dir()
        if error is not None:
            raise error
        return saved

    def _stop_engine_process(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # osmem-server exits when its stdin closes
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            logger.warning("osmem-server did not exit within %s s; killing it", STOP_GRACE)
            process.kill()
            process.wait()


def _osmem_version() -> str:
    try:
        return metadata.version("osmem-server")
    except metadata.PackageNotFoundError:
        return ""


# -- the background keeper process --------------------------------------------------


def _announce(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m djangoes.embedded`` (started by ``ensure_engine``).

    Prints JSON lines on stdout for the starting process: ``{"pid": ...}`` once
    detached, then ``{"url": ...}`` when the engine answers or ``{"error": ...}``.
    Returns the exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m djangoes.embedded")
    parser.add_argument("--config", required=True, help="EngineConfig as JSON")
    parser.add_argument("--holder", action="append", default=[], help="ProcessRef as JSON")
    args = parser.parse_args(argv)
    config = EngineConfig.from_json(json.loads(args.config))
    holders = [ProcessRef.from_json(json.loads(h)) for h in args.holder]

    # Detach: the starting process reaps our parent at once, and this process
    # lives on in its own session, out of reach of the terminal's Ctrl-C.
    if os.fork() > 0:
        os._exit(0)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s keeper: %(message)s"
    )
    _announce({"pid": os.getpid()})
    keeper = Keeper(config, holders=holders, foreground=False)
    keeper.install_signal_handlers()
    try:
        state = keeper.start()
    except EngineError as exc:
        logger.error("%s", exc)
        _announce({"error": str(exc)})
        return 1
    _announce({"url": state.url})
    # The starting process reads until EOF: give it one now.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    try:
        keeper.serve()
    except EngineError as exc:
        logger.error("%s", exc)
        return 1
    logger.info("%s stopped", config.label)
    return 0
