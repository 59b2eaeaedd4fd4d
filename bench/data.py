"""The data set: deterministic publishers and books, and the databases that hold them.

Every data set of ``rows`` books is the first ``rows`` books of one seeded
stream, so the 25,000-row set is a prefix of the 200,000-row one. Text is
drawn from a generated vocabulary with a Zipf-like frequency, as in real
text. Nothing is downloaded.

A database is a SQLite file under ``.bench/`` or a PostgreSQL database
``djangoes_bench_<rows>``; a loaded one is reused while its ``Dataset`` row
says it holds this version of the data (the reindex scenarios only read it).
The work database of the save and search scenarios is made anew each run.
"""

from __future__ import annotations

import itertools
import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

#: Change when the generator changes: loaded databases are then rebuilt.
DATA_VERSION = "books-1"
SEED = 20_240_229
PUBLISHERS = 1_000
ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".bench"

CATEGORIES = (
    "fiction", "history", "science", "poetry", "travel", "cooking", "art", "music",
    "philosophy", "religion", "law", "medicine", "economics", "politics", "sport",
    "nature", "technology", "mathematics", "children", "comics", "crime", "fantasy",
    "romance", "biography", "essays", "drama", "education", "languages", "reference",
    "architecture",
)  # fmt: skip
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "sv", "pl", "ja", "zh", "ru")
LANGUAGE_WEIGHTS = (40, 12, 10, 9, 6, 5, 4, 3, 3, 3, 3, 2)
COUNTRIES = ("GB", "US", "FR", "DE", "ES", "IT", "NL", "SE", "PL", "JP", "CN", "BR")
SYLLABLES = (
    "ka", "lo", "mi", "ren", "sta", "vel", "dor", "an", "is", "ter", "bra", "cu",
    "fen", "gal", "hu", "jor", "lin", "mar", "nor", "pel", "qui", "ros", "sil", "tam",
    "ur", "vin", "wes", "yor", "zel", "ba", "ce", "di", "fo", "gu", "he", "ja",
)  # fmt: skip


@dataclass(frozen=True)
class Database:
    """Where a data set lives: a SQLite file or a PostgreSQL database."""

    vendor: str  # "sqlite" or "postgresql"
    name: str  # file path or database name

    @property
    def label(self) -> str:
        return "SQLite" if self.vendor == "sqlite" else "PostgreSQL"

    def environ(self) -> dict[str, str]:
        """The variables :mod:`bench.project.settings` reads to use this database."""
        return {"BENCH_DB_VENDOR": self.vendor, "BENCH_DB_NAME": self.name}


def database_for(vendor: str, dataset: str) -> Database:
    """The database of ``dataset`` (a number of rows, or ``"work"``) on ``vendor``."""
    if vendor == "sqlite":
        DATA_DIR.mkdir(exist_ok=True)
        return Database("sqlite", str(DATA_DIR / f"books-{dataset}.sqlite3"))
    return Database("postgresql", f"djangoes_bench_{dataset}")


def pg_params() -> dict[str, Any]:
    """Connection parameters of the PostgreSQL server (``BENCH_PG_*`` variables)."""
    return {
        "host": os.environ.get("BENCH_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("BENCH_PG_PORT", "5432")),
        "user": os.environ.get("BENCH_PG_USER", "postgres"),
    }


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    import psycopg

    params = pg_params()
    try:
        with psycopg.connect(**params, dbname="postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server answers on {params['host']}:{params['port']} ({exc})"
    return None


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(**pg_params(), dbname="postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
    assert row is not None
    return str(row[0]).split()[0]


def create_database(database: Database, *, fresh: bool) -> None:
    """Make sure ``database`` exists; with ``fresh``, empty (dropped and created again)."""
    if database.vendor == "sqlite":
        path = Path(database.name)
        if fresh:
            path.unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(**pg_params(), dbname="postgres", autocommit=True) as conn:
        name = sql.Identifier(database.name)
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database.name,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


# -- the data (run inside a worker, Django set up) ---------------------------


def _vocabulary(rng: random.Random, size: int = 4_000) -> list[str]:
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def iter_rows(rows: int) -> tuple[list[dict[str, Any]], Any]:
    """The publishers, and an iterator over the field values of ``rows`` books."""
    rng = random.Random(SEED)
    words = _vocabulary(rng)
    cum = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    publishers = [
        {
            "id": i,
            "name": " ".join(rng.choices(words, cum_weights=cum, k=2)).title() + " Press",
            "country": rng.choice(COUNTRIES),
        }
        for i in range(1, PUBLISHERS + 1)
    ]
    first_day = date(1950, 1, 1)

    def books() -> Any:
        for pk in range(1, rows + 1):
            yield {
                "id": pk,
                "title": " ".join(
                    rng.choices(words, cum_weights=cum, k=rng.randint(3, 7))
                ).capitalize(),
                "summary": " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(20, 40)))
                + ".",
                "sku": f"BK{pk:08d}",
                "category": rng.choice(CATEGORIES),
                "language": rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0],
                "published": first_day + timedelta(days=rng.randrange(27_000)),
                "pages": rng.randint(40, 1_200),
                "price": round(rng.uniform(2, 150), 2),
                "stock": rng.randint(0, 500),
                "publisher_id": rng.randint(1, PUBLISHERS),
            }

    return publishers, books()


def search_terms(count: int) -> list[str]:
    """``count`` two-word queries from the vocabulary (frequent and rare words mixed)."""
    rng = random.Random(SEED)
    words = _vocabulary(rng)
    pick = random.Random(SEED + 1)
    return [
        f"{words[pick.randrange(200)]} {words[pick.randrange(len(words))]}" for _ in range(count)
    ]


def ensure_dataset(rows: int) -> bool:
    """Load ``rows`` books into the database in use unless it holds them; True if loaded."""
    from django.db import transaction

    from bench.project.catalog.models import Book, Dataset, Publisher

    marker = Dataset.objects.first()
    loaded = marker is not None and (marker.version, marker.rows) == (DATA_VERSION, rows)
    if loaded and Book.objects.count() == rows:
        return False
    with transaction.atomic():
        Dataset.objects.all().delete()
        Book.objects.all().delete()
        Publisher.objects.all().delete()
        publishers, books = iter_rows(rows)
        Publisher.objects.bulk_create(Publisher(**values) for values in publishers)
        while batch := [Book(**values) for values in itertools.islice(books, 5_000)]:
            Book.objects.bulk_create(batch)
        Dataset.objects.create(version=DATA_VERSION, rows=rows)
    return True
