"""Configuration of an embedded engine: the PARAMS it takes and where it keeps its files.

The embedded-only PARAMS (:data:`ENGINE_PARAMS`) are validated here and turned
into an :class:`EngineConfig`; every other PARAMS key goes to the client.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from djangoes.conf import Problem

__all__ = [
    "DEFAULT_STARTUP_TIMEOUT",
    "ENGINE_PARAMS",
    "EngineConfig",
    "config_from_params",
    "default_runtime_dir",
    "param_problems",
]

#: PARAMS keys used by the embedded engine itself (never passed to the client).
ENGINE_PARAMS = ("data_dir", "runtime_dir", "port", "startup_timeout", "binary")
DEFAULT_STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class EngineConfig:
    """Everything needed to start, find or stop one embedded engine.

    ``runtime_dir`` holds the state file, the lock and the log; processes that
    use the same ``runtime_dir`` share one engine. ``data_dir`` (optional) keeps
    the indices across restarts. ``label`` names the engine in messages.
    """

    runtime_dir: Path
    data_dir: Path | None = None
    port: int = 0
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    binary: str | None = None
    label: str = "the embedded engine"

    def resolve_binary(self) -> str:
        """Path of the osmem-server executable (``binary``, else the bundled one).

        Raises :class:`~djangoes.embedded.errors.EngineStartError` if there is none.
        """
        from djangoes.embedded.errors import EngineStartError

        if self.binary:
            return self.binary
        try:
            from osmem_server import OsmemError, resolve_binary
        except ImportError as exc:
            raise EngineStartError(
                f"{self.label} needs the osmem-server package ({exc}). "
                "Run: pip install 'djangoes[embedded]'"
            ) from exc
        try:
            return str(resolve_binary())
        except OsmemError as exc:
            raise EngineStartError(f"{self.label}: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "runtime_dir": str(self.runtime_dir),
            "data_dir": str(self.data_dir) if self.data_dir is not None else None,
            "port": self.port,
            "startup_timeout": self.startup_timeout,
            "binary": self.binary,
            "label": self.label,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EngineConfig:
        return cls(
            runtime_dir=Path(data["runtime_dir"]),
            data_dir=Path(data["data_dir"]) if data.get("data_dir") else None,
            port=int(data.get("port") or 0),
            startup_timeout=float(data.get("startup_timeout") or DEFAULT_STARTUP_TIMEOUT),
            binary=data.get("binary") or None,
            label=str(data.get("label") or "the embedded engine"),
        )


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike)) and bool(os.fspath(value))


def param_problems(alias: str, params: Mapping[str, Any]) -> list[Problem]:
    """Problems with the embedded-only PARAMS of connection ``alias`` (no I/O but a stat)."""
    where = f"ES_SERVERS[{alias!r}]['PARAMS']"
    problems: list[Problem] = []

    def bad(key: str, expected: str, hint: str) -> None:
        value = params[key]
        problems.append(
            Problem(
                "djangoes.E012",
                f"{where}[{key!r}] = {value!r} is not valid for the embedded engine: "
                f"it must be {expected}.",
                hint=hint,
            )
        )

    for key in ("data_dir", "runtime_dir", "binary"):
        if key in params and params[key] is not None and not _is_path(params[key]):
            bad(key, "a path (str or pathlib.Path)", f"Example: {key!r}: BASE_DIR / '.search'.")
    port = params.get("port")
    if "port" in params and (
        isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535
    ):
        bad("port", "an int between 0 and 65535", "Use 0 (the default) to pick any free port.")
    timeout = params.get("startup_timeout")
    if "startup_timeout" in params and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        bad("startup_timeout", "a number of seconds > 0", "The default is 30.")
    binary = params.get("binary")
    if _is_path(binary) and not (
        os.path.isfile(binary) and os.access(binary, os.X_OK)  # type: ignore[arg-type]
    ):
        bad(
            "binary",
            "the path of an executable osmem-server",
            "Remove 'binary' to use the one installed with 'djangoes[embedded]'.",
        )
    return problems


def _settings_value(name: str) -> Any:
    from django.conf import settings

    return getattr(settings, name, None) if settings.configured else None


def _project_dir() -> Path:
    base = _settings_value("BASE_DIR")
    return Path(os.fspath(base)) if base else Path.cwd()


def default_runtime_dir(
    alias: str,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    settings_module: str | None = None,
) -> Path:
    """The runtime directory every process of one project uses for ``alias``.

    Under the system temporary directory, one folder per user (mode 0700), then
    one per project: a hash of the project directory (``settings.BASE_DIR`` or
    the working directory), the settings module and the alias, so that two
    projects, or two connections, never share an engine by accident.
    """
    base = Path(os.fspath(base_dir)) if base_dir is not None else _project_dir()
    if settings_module is None:
        settings_module = _settings_value("SETTINGS_MODULE") or os.environ.get(
            "DJANGO_SETTINGS_MODULE", ""
        )
    key = "\0".join((str(base.resolve()), settings_module or "", alias))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", base.name)[:40] or "project"
    user = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    return Path(tempfile.gettempdir()) / f"djangoes-{user}" / f"{slug}-{alias}-{digest}"


def config_from_params(alias: str, params: Mapping[str, Any]) -> EngineConfig:
    """The :class:`EngineConfig` of connection ``alias`` from its PARAMS.

    Relative ``data_dir`` / ``runtime_dir`` are taken from ``settings.BASE_DIR``
    (the working directory without it). Raises
    :class:`~djangoes.exceptions.ConfigurationError` on an invalid value.
    """
    problems = param_problems(alias, params)
    if problems:
        raise problems[0].as_exception()
    project = _project_dir()

    def path(key: str) -> Path | None:
        value = params.get(key)
        if value is None:
            return None
        return Path(project, os.fspath(value)).absolute()

    binary = params.get("binary")
    return EngineConfig(
        runtime_dir=path("runtime_dir") or default_runtime_dir(alias),
        data_dir=path("data_dir"),
        port=int(params.get("port") or 0),
        startup_timeout=float(params.get("startup_timeout") or DEFAULT_STARTUP_TIMEOUT),
        binary=os.fspath(binary) if binary else None,
        label=f"the embedded engine of ES_SERVERS[{alias!r}]",
    )
