"""A writer that keeps changing the blog's rows, for the rebuild tests.

Used by a thread of the test process and, as ``python -m tests.rebuild.writers``,
by a separate Django process (settings ``tests.rebuild.settings``). Each step
is one transaction of one to three changes — an edit, a new post, a delete, a
post unpublished (it leaves the search queryset) or published again, a page
edited, added or removed — chosen by a seeded random generator, so that rows
loaded long ago and rows not loaded yet are both hit. At least
:data:`KEEP_PUBLISHED` posts stay published, so a search always finds that many.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

#: Posts that always stay published (a lower bound for what searches find).
KEEP_PUBLISHED = 20


def one_step(rng: random.Random, author_id: int) -> None:
    """One transaction of one to three random changes."""
    from django.db import transaction

    with transaction.atomic():
        for _ in range(rng.randint(1, 3)):
            _one_change(rng, author_id)


def _one_change(rng: random.Random, author_id: int) -> None:
    from tests.testapp.models import Page, Post

    published = list(Post.objects.filter(published=True).values_list("pk", flat=True))
    kind = rng.choice(["edit", "edit", "edit", "create", "delete", "unpublish", "publish", "page"])
    if kind in ("delete", "unpublish") and len(published) <= KEEP_PUBLISHED:
        kind = "create"
    if kind == "edit":
        # the oldest rows too: they are loaded first, so only a copied write reaches them
        post = Post.objects.get(pk=rng.choice(published))
        post.title = f"{post.title.split(' #')[0]} #{rng.randint(0, 10**6)}"
        post.views += 1
        post.save()
    elif kind == "create":
        Post.objects.create(title=f"new {rng.randint(0, 10**6)}", author_id=author_id)
    elif kind == "delete":
        Post.objects.get(pk=rng.choice(published)).delete()
    elif kind == "unpublish":
        post = Post.objects.get(pk=rng.choice(published))
        post.published = False
        post.save()
    elif kind == "publish":
        draft = Post.objects.filter(published=False).order_by("?").first()
        if draft is not None:
            draft.published = True
            draft.save()
    else:
        pages = list(Page.objects.values_list("pk", flat=True))
        choice = rng.choice(["edit", "add", "remove"]) if len(pages) > 2 else "add"
        if choice == "add":
            Page.objects.create(title=f"page {rng.randint(0, 10**6)}")
        elif choice == "remove":
            Page.objects.get(pk=rng.choice(pages)).delete()
        else:
            page = Page.objects.get(pk=rng.choice(pages))
            page.title = f"page #{rng.randint(0, 10**6)}"
            page.save()


#: Tries of a step SQLite refuses for a lock (with a growing pause: about 17 s in all).
ATTEMPTS = 40


def _step_retrying(rng: random.Random, author_id: int) -> None:
    """``one_step``, again if SQLite refused it at once for a lock (Django < 5.1 cannot ask
    for BEGIN IMMEDIATE): a refused transaction left no trace, so doing it again is exact."""
    from django.db import OperationalError

    state = rng.getstate()
    for attempt in range(ATTEMPTS):
        try:
            one_step(rng, author_id)
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == ATTEMPTS - 1:
                raise
            rng.setstate(state)
            time.sleep(min(0.5, 0.01 * 2**attempt))  # the other writer's commit needs a moment


def main(argv: list[str]) -> int:
    """``python -m tests.rebuild.writers STOP_FILE COUNT_FILE SEED [STEPS]``.

    Writes until STOP_FILE exists (or STEPS steps are done). After each step
    the number of steps done is written to COUNT_FILE.
    """
    import django

    django.setup()
    from tests.testapp.models import Author

    stop, count_file, seed = Path(argv[0]), Path(argv[1]), int(argv[2])
    most = int(argv[3]) if len(argv) > 3 else None
    rng = random.Random(seed)
    author_id = Author.objects.values_list("pk", flat=True).first()
    assert author_id is not None, "the database has no author"
    steps = 0
    while not stop.exists() and (most is None or steps < most):
        _step_retrying(rng, author_id)
        steps += 1
        partial = count_file.with_suffix(".tmp")
        partial.write_text(str(steps))
        partial.replace(count_file)  # never read half-written
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
