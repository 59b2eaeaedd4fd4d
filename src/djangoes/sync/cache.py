"""The unchanged-document cache: skip re-sending a document the index already has.

After the engine accepted a document, a fingerprint of it is kept in Django's
cache (``CACHE_ALIAS``) for ``CACHE_EXPIRY`` seconds, under a key made of the
index name, the model and the document id. An identical document saved again
within that time is not sent. Keys also hold the index's generation, which
djangoes bumps whenever it creates or deletes the index, so a new, empty index
is never mistaken for one that has the document.

All cache calls are made once per batch (``get_many`` / ``set_many``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.core.cache import caches

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache

    from djangoes.options import Options
    from djangoes.sync.operations import Operation

PREFIX = "djangoes"


def fingerprint(body: bytes) -> str:
    """A short digest of a serialised document."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def _cache(options: Options) -> BaseCache:
    return caches[options.CACHE_ALIAS]


def _generation_key(index_name: str) -> str:
    return f"{PREFIX}:gen:{index_name}"


def _generations(cache: BaseCache, names: Iterable[str]) -> dict[str, int]:
    keys = {name: _generation_key(name) for name in set(names)}
    found = cache.get_many(list(keys.values()))
    return {name: int(found.get(key, 0)) for name, key in keys.items()}


def _doc_key(index_name: str, generation: int, op: Operation) -> str:
    meta = op.model._meta
    return f"{PREFIX}:doc:{index_name}:{generation}:{meta.app_label}.{meta.model_name}:{op.doc_id}"


def unchanged(entries: Sequence[tuple[str, Operation, str]], options: Options) -> set[int]:
    """``id()`` of the operations whose document the index already has (``(name, op, fp)``)."""
    if not options.CACHE_EXPIRY or not entries:
        return set()
    cache = _cache(options)
    generations = _generations(cache, (name for name, _, _ in entries))
    keys = {_doc_key(name, generations[name], op): (op, fp) for name, op, fp in entries}
    found = cache.get_many(list(keys))
    return {id(op) for key, (op, fp) in keys.items() if found.get(key) == fp}


def remember(entries: Sequence[tuple[str, Operation, str]], options: Options) -> None:
    """Record documents the engine accepted (``(index name, op, fingerprint)``)."""
    if not options.CACHE_EXPIRY or not entries:
        return
    cache = _cache(options)
    generations = _generations(cache, (name for name, _, _ in entries))
    cache.set_many(
        {_doc_key(name, generations[name], op): fp for name, op, fp in entries},
        timeout=options.CACHE_EXPIRY,
    )


def forget(entries: Sequence[tuple[str, Operation]], options: Options) -> None:
    """Drop the fingerprints of documents that were updated partially or deleted."""
    if not options.CACHE_EXPIRY or not entries:
        return
    cache = _cache(options)
    generations = _generations(cache, (name for name, _ in entries))
    cache.delete_many([_doc_key(name, generations[name], op) for name, op in entries])


def new_generation(index_names: Iterable[str], options: Options | None = None) -> None:
    """Forget every fingerprint of these indexes (they were created, deleted or rebuilt)."""
    if options is None:
        from djangoes import connections

        options = connections.options
    if not options.CACHE_EXPIRY:
        return
    cache = _cache(options)
    for name in index_names:
        key = _generation_key(name)
        cache.add(key, 0, timeout=None)
        cache.incr(key)
