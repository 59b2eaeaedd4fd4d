"""The embedded engine: osmem-server run for you (``pip install 'djangoes[embedded]'``).

``ENGINE = 'djangoes.backends.embedded.EmbeddedBackend'`` needs no server:
on first use the connection starts osmem-server on a loopback port, shared by
every process of the project, or finds it already running
(:mod:`djangoes.embedded` does the work). The client is opensearch-py, as for
:class:`djangoes.backends.opensearch.SimpleHttpBackend`.

HOSTS is ignored. Besides the client's PARAMS it takes ``data_dir``,
``runtime_dir``, ``port``, ``startup_timeout`` and ``binary``. For
development and tests: see ``docs/embedded.md`` for what osmem-server
does differently from OpenSearch (:class:`EmbeddedFeatures`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar

from djangoes.backends.features import parse_version
from djangoes.backends.opensearch import OpenSearchFeatures, SimpleHttpBackend
from djangoes.conf import Problem

if TYPE_CHECKING:
    from djangoes.conf import IndexSettings, ServerSettings
    from djangoes.embedded import EngineConfig, EngineState

__all__ = ["EmbeddedBackend", "EmbeddedFeatures"]

#: PARAMS used by the engine itself; the same tuple as djangoes.embedded.ENGINE_PARAMS,
#: repeated here so that importing this module imports nothing of the engine.
ENGINE_PARAMS = ("data_dir", "runtime_dir", "port", "startup_timeout", "binary")


class EmbeddedFeatures(OpenSearchFeatures):
    """What osmem-server does differently from OpenSearch.

    Documents are visible as soon as they are written, scripts, synonym
    filters and snapshots are not supported, and scores are not Lucene's.
    """

    refresh_needed = False
    supports_scripts = False
    supports_synonyms = False
    supports_snapshots = False
    exact_scores = False


class EmbeddedBackend(SimpleHttpBackend):
    """OpenSearch over urllib3, to an osmem-server this backend starts or finds running."""

    display_name = "osmem-server (embedded)"
    features_class = EmbeddedFeatures
    install_hint = "'djangoes[embedded]'"
    uses_hosts = False
    #: The engine's distribution and the versions this backend works with.
    engine_distribution: ClassVar[str] = "osmem-server"
    engine_version_range: ClassVar[tuple[tuple[int, ...], tuple[int, ...]]] = ((0, 1, 6), (0, 2))

    def __init__(
        self, alias: str, server: ServerSettings, indices: Sequence[IndexSettings]
    ) -> None:
        super().__init__(alias, server, indices)
        # The engine picks its address when it starts: until then there is none
        # (``server`` is this backend's own copy of the settings).
        self.server["HOSTS"] = []
        self.engine: EngineState | None = None

    @classmethod
    def check_client_library(cls) -> list[Problem]:
        """opensearch-py and osmem-server must both be installed, in supported versions."""
        problems = super().check_client_library()
        dist = cls.engine_distribution
        low, high = cls.engine_version_range
        wanted = f"{dist}>={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"
        where = f"{cls.__module__}.{cls.__qualname__}"
        try:
            found = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found = None
        if found is None or not low <= parse_version(found) < high:
            state = "which is not installed" if found is None else f"found {found}"
            problems.append(
                Problem(
                    "djangoes.E011",
                    f"{where} needs {wanted}, {state}.",
                    hint=f"Run: pip install {cls.install_hint}",
                )
            )
        return problems

    @classmethod
    def check_params(cls, alias: str, params: Mapping[str, Any]) -> list[Problem]:
        """The client's PARAMS as for OpenSearch, plus the engine's own (``djangoes.E012``)."""
        from djangoes.embedded.config import param_problems

        client_params = {k: v for k, v in params.items() if k not in ENGINE_PARAMS}
        return super().check_params(alias, client_params) + param_problems(alias, params)

    def client_params(self) -> dict[str, Any]:
        """The client's PARAMS: the engine's own are not the client's business."""
        params = super().client_params()
        for key in ENGINE_PARAMS:
            params.pop(key, None)
        return params

    def engine_config(self) -> EngineConfig:
        """Where and how this connection's engine runs (from its PARAMS)."""
        from djangoes.embedded import config_from_params

        return config_from_params(self.alias, self.server["PARAMS"])

    def configure_client(self) -> None:
        """Make sure the engine runs (starting it if needed), then connect to it.

        Raises :class:`~djangoes.embedded.EngineError` when it cannot be started.
        """
        self.start_engine()
        super().configure_client()

    def start_engine(self) -> None:
        """Make sure the engine runs (starting it if needed); HOSTS become its address."""
        from djangoes.embedded import ensure_engine

        self.ensure_client_library()
        self.engine = ensure_engine(self.engine_config())
        self.server["HOSTS"] = [self.engine.url]

    async def async_hosts(self) -> list[str] | None:
        """The engine's address, once it runs (started in a thread: it may take a moment)."""
        from asgiref.sync import sync_to_async

        await sync_to_async(self.start_engine, thread_sensitive=False)()
        return list(self.server["HOSTS"])
