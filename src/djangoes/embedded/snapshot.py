"""Saving the engine's indices to a data directory, in the format osmem-server loads.

osmem-server keeps everything in memory; what survives a restart is what we
dump here and hand back to it with ``--seed``::

    <data_dir>/
        current -> snapshots/<stamp>       symlink to the last complete snapshot
        snapshots/<stamp>/
            <index>.index.json             PUT /<index> body: settings and mappings
            <index>.ndjson                 bulk body: every document with its id (and routing);
                                           absent for an index with no documents
            aliases.json                   POST /_aliases body
            <name>.template.json           PUT /_index_template/<name> body
            manifest.json                  what was saved (written last)
        engine.lock                        held by the engine that uses this directory

A save writes a new snapshot folder beside the old one, then points ``current``
at it with one atomic rename. Until that rename the old snapshot is what a
restart loads, so a save that fails or is killed half-way loses nothing that
was saved before; its leftovers are removed by the next save.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from djangoes.embedded._http import EngineHTTPError, request_json
from djangoes.embedded.errors import SnapshotError

__all__ = ["SnapshotInfo", "current_snapshot", "save_snapshot"]

logger = logging.getLogger("djangoes.embedded")

CURRENT = "current"
SNAPSHOTS = "snapshots"
MANIFEST = "manifest.json"
SNAPSHOT_FORMAT = 1
SCROLL_SIZE = 1000
SCROLL_KEEPALIVE = "5m"

#: Index settings the engine sets itself; giving them back at creation is an error.
READ_ONLY_SETTINGS = frozenset(
    {"uuid", "creation_date", "creation_date_string", "provided_name", "version", "history"}
)
#: Properties of an alias that ``POST /_aliases`` accepts back.
ALIAS_PROPERTIES = frozenset(
    {"filter", "routing", "index_routing", "search_routing", "is_write_index", "is_hidden"}
)


@dataclass(frozen=True)
class SnapshotInfo:
    """What a snapshot holds: documents per index, aliases, templates, and what was left out."""

    path: Path
    documents: dict[str, int] = field(default_factory=dict)
    aliases: int = 0
    templates: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    saved_at: float = 0.0

    @property
    def total_documents(self) -> int:
        return sum(self.documents.values())

    def describe(self) -> str:
        """One line for people: counts and where."""
        return (
            f"{self.total_documents} documents in {len(self.documents)} indices, "
            f"{self.aliases} aliases, {len(self.templates)} templates in {self.path}"
        )


def _is_user_index(name: str) -> bool:
    # Dot-prefixed indices are the engine's own (system and hidden indices).
    return not name.startswith(".")


def _clean_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    index = dict(settings.get("index") or {})
    for key in READ_ONLY_SETTINGS:
        index.pop(key, None)
    rest = {k: v for k, v in settings.items() if k != "index"}
    return {"index": index, **rest} if index else rest


def current_snapshot(data_dir: Path) -> Path | None:
    """The snapshot a restart loads, or None when ``data_dir`` has none yet.

    Raises :class:`SnapshotError` when ``current`` points to something that is
    not a complete snapshot (a hand-edited data directory).
    """
    link = data_dir / CURRENT
    if not os.path.lexists(link):
        return None
    target = link.resolve()
    if not (target / MANIFEST).is_file():
        raise SnapshotError(
            f"{str(link)!r} points to {str(target)!r}, which is not a complete snapshot. "
            f"Remove {str(link)!r} to start with empty indices, or point it at a folder "
            f"of {str(data_dir / SNAPSHOTS)!r} that has a {MANIFEST}."
        )
    return target


def prepare_seed(path: Path) -> None:
    """Make snapshot folder ``path`` loadable by osmem-server's ``--seed``.

    Earlier versions wrote an empty ``<index>.ndjson`` for an index with no
    documents, which osmem-server refuses ("request body is required"): such
    files hold nothing and are removed. The caller holds the data directory's
    lock. Raises :class:`SnapshotError` when one cannot be removed.
    """
    for bulk in path.glob("*.ndjson"):
        try:
            if bulk.stat().st_size == 0:
                bulk.unlink()
        except OSError as exc:
            raise SnapshotError(
                f"The snapshot {str(path)!r} has an empty {bulk.name}, which the engine "
                f"cannot load, and it could not be removed: {exc}. Remove it by hand."
            ) from exc


def read_manifest(path: Path) -> SnapshotInfo:
    """The :class:`SnapshotInfo` recorded in snapshot folder ``path``."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        return SnapshotInfo(
            path=path,
            documents={str(k): int(v) for k, v in data["documents"].items()},
            aliases=int(data["aliases"]),
            templates=[str(t) for t in data["templates"]],
            skipped=[str(s) for s in data.get("skipped", [])],
            saved_at=float(data["saved_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SnapshotError(f"Cannot read the snapshot manifest in {str(path)!r}: {exc}") from exc


def save_snapshot(url: str, data_dir: Path) -> SnapshotInfo:
    """Dump every user index of the engine at ``url`` into ``data_dir``; returns what was saved.

    The caller must be the only one saving into ``data_dir`` (the keeper holds
    its ``engine.lock``). Raises :class:`SnapshotError` when the engine or the
    disk fails; the previous snapshot then stays the current one.
    """
    snapshots = data_dir / SNAPSHOTS
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**9:09d}"
    partial = snapshots / f".partial-{stamp}-{os.getpid()}"
    final = snapshots / stamp
    try:
        snapshots.mkdir(parents=True, exist_ok=True)
        partial.mkdir()
        info = _dump(url, partial)
        _fsync_dir(partial)
        partial.rename(final)
        _fsync_dir(snapshots)
        _point_current(data_dir, final)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # OSError covers the disk and the engine (EngineHTTPError); the others an
        # answer that is not what the engine documents. Only our own unfinished
        # folder is removed: `current` still points to the previous snapshot.
        shutil.rmtree(partial, ignore_errors=True)
        raise SnapshotError(
            f"Saving the embedded engine at {url} to {str(data_dir)!r} failed: {exc}. "
            "The previous snapshot was kept."
        ) from exc
    _remove_old_snapshots(snapshots, keep=final)
    result = dataclasses.replace(info, path=final)
    logger.info("Saved the embedded engine: %s", result.describe())
    return result


def _dump(url: str, folder: Path) -> SnapshotInfo:
    indices = request_json("GET", f"{url}/_all?expand_wildcards=all") or {}
    documents: dict[str, int] = {}
    actions: list[dict[str, Any]] = []
    for name in sorted(indices):
        if not _is_user_index(name):
            continue
        meta = indices[name]
        body = {
            "settings": _clean_settings(meta.get("settings") or {}),
            "mappings": meta.get("mappings") or {},
        }
        _write_json(folder / f"{name}.index.json", body)
        bulk = folder / f"{name}.ndjson"
        with _open_for_write(bulk) as fh:
            documents[name] = _dump_documents(url, name, fh)
        if not documents[name]:
            # osmem-server refuses an empty bulk body as a seed: no file, no documents
            bulk.unlink()
        for alias, props in sorted((meta.get("aliases") or {}).items()):
            add = {"index": name, "alias": alias}
            add.update({k: v for k, v in (props or {}).items() if k in ALIAS_PROPERTIES})
            actions.append({"add": add})
    if actions:
        _write_json(folder / "aliases.json", {"actions": actions})
    templates, skipped = _dump_templates(url, folder)
    info = SnapshotInfo(
        path=folder,
        documents=documents,
        aliases=len(actions),
        templates=templates,
        skipped=skipped,
        saved_at=time.time(),
    )
    _write_json(
        folder / MANIFEST,
        {
            "format": SNAPSHOT_FORMAT,
            "saved_at": info.saved_at,
            "url": url,
            "documents": documents,
            "aliases": info.aliases,
            "templates": templates,
            "skipped": skipped,
        },
    )
    return info


def _dump_documents(url: str, index: str, out: IO[str]) -> int:
    """Write the bulk lines for every document of ``index``; returns how many."""
    count = 0
    for hit in _scroll(url, index):
        action: dict[str, Any] = {"_id": hit["_id"]}
        if hit.get("_routing") is not None:
            action["routing"] = hit["_routing"]
        out.write(_line({"index": action}))
        out.write(_line(hit.get("_source", {})))
        count += 1
    return count


def _scroll(url: str, index: str) -> Iterator[dict[str, Any]]:
    page = request_json(
        "POST",
        f"{url}/{index}/_search?scroll={SCROLL_KEEPALIVE}",
        {"size": SCROLL_SIZE, "sort": ["_doc"], "query": {"match_all": {}}},
    )
    scroll_id = page.get("_scroll_id")
    try:
        while page["hits"]["hits"]:
            yield from page["hits"]["hits"]
            page = request_json(
                "POST",
                f"{url}/_search/scroll",
                {"scroll": SCROLL_KEEPALIVE, "scroll_id": scroll_id},
            )
            scroll_id = page.get("_scroll_id", scroll_id)
    finally:
        if scroll_id:
            # Freeing the scroll only saves the engine some memory: if it fails
            # (the engine is going away), the dump itself is not affected.
            with contextlib.suppress(EngineHTTPError):
                request_json("DELETE", f"{url}/_search/scroll", {"scroll_id": scroll_id})


def _dump_templates(url: str, folder: Path) -> tuple[list[str], list[str]]:
    """Write the composable index templates; returns (saved, skipped) names.

    osmem-server cannot load component templates from a seed, so a template
    composed of them would stop the engine from starting: those are skipped
    (and listed in the manifest and the log).
    """
    answer = request_json("GET", f"{url}/_index_template") or {}
    saved: list[str] = []
    skipped: list[str] = []
    for item in answer.get("index_templates", []):
        name, body = item["name"], item["index_template"]
        if body.get("composed_of") or "/" in name or name.startswith("."):
            skipped.append(name)
            continue
        _write_json(folder / f"{name}.template.json", body)
        saved.append(name)
    if skipped:
        logger.warning(
            "Index templates not saved (they use component templates, which osmem-server "
            "cannot load at start): %s",
            ", ".join(skipped),
        )
    return saved, skipped


def _line(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


@contextlib.contextmanager
def _open_for_write(path: Path) -> Iterator[IO[str]]:
    with open(path, "w", encoding="utf-8") as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def _write_json(path: Path, data: Any) -> None:
    with _open_for_write(path) as fh:
        json.dump(data, fh, ensure_ascii=False)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _point_current(data_dir: Path, target: Path) -> None:
    tmp = data_dir / f".{CURRENT}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(os.path.relpath(target, data_dir), tmp)
    os.replace(tmp, data_dir / CURRENT)
    _fsync_dir(data_dir)


def _remove_old_snapshots(snapshots: Path, keep: Path) -> None:
    for entry in snapshots.iterdir():
        if entry != keep:
            try:
                shutil.rmtree(entry)
            except OSError as exc:
                # The new snapshot is already current; an old folder that cannot
                # be removed only costs disk space, so say so and carry on.
                logger.warning("Could not remove the old snapshot %s: %s", entry, exc)
