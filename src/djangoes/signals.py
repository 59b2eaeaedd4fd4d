"""Signals sent when a configured model changes, before djangoes syncs it.

Each is sent with ``sender`` (the model class), ``instance``, ``index`` (the
ES_INDICES key) and ``update_fields`` (None for a full save), at the moment of
the change, inside the transaction. They are sent even when ``AUTO_SYNC`` is
off, so a project can route the work to its own queue; a receiver that
enqueues work should do it with ``transaction.on_commit``.
"""

from django.dispatch import Signal

#: A full document is about to be (re)indexed.
pre_index = Signal()
#: A partial update (``save(update_fields=...)``) is about to be sent.
pre_update = Signal()
#: A document is about to be deleted from the index.
pre_delete = Signal()
