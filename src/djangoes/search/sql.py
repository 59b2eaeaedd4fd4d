"""SQL for hits back to rows: each row's rank or score, looked up by its document id.

``HitLookup("pk", id_field, {12: 1, 7: 2, ...})`` compiles to a ``CASE``
expression on the id column giving each row its number (``NULL`` for other
rows). Django's ``Case(When(pk=12, then=1), ...)`` would do the same with two
expression objects per hit and a test of every ``WHEN`` for every row: slow
to build and quadratic to run for large pages. This one is built as one
string and, for integer and UUID ids (whose order is the same in Python and
in the database), as a balanced tree of ``<`` tests: a row finds its number
in about log2(N) comparisons. Only standard SQL is used (``CASE``, ``<``,
``=``), so it runs on every database Django supports.

Integer ids, ranks and finite scores are written as literals (the ``repr`` of
a Python number is a plain SQL number), other ids and text values (the
highlights, as JSON) are parameters: a page of 10,000 hits stays within
SQLite's 32,766 parameters.

On SQLite and PostgreSQL, a page of up to :data:`JSON_LOOKUP_MAX` integer ids
is looked up in one JSON parameter instead (``{"12": 1, "7": 2, ...}``, read
with ``json_extract`` / ``->>``): the SQL stays a few dozen characters
whatever the page size, which is cheaper to build, send and run than the
``CASE`` text for the page of a web request.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import models
from django.db.models import Expression, F

__all__ = ["HitLookup"]

#: Largest number of ids tested one after the other at the leaves of the tree.
LEAF_SIZE = 16

#: Largest page looked up in one JSON parameter (SQLite and PostgreSQL): the
#: database reads the parameter for each row, so a larger page takes the tree.
JSON_LOOKUP_MAX = 1_000


def number_literal(value: object) -> str | None:
    """SQL text of an int or a finite float; None for anything else (it must be a parameter)."""
    kind = type(value)
    if kind is int:  # the usual ids and ranks: checked first (this runs for every hit)
        return str(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else None  # type: ignore[arg-type]
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(int(value))  # an int subclass (an IntEnum...): its plain number
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(value))
    return None


def _orderable(keys: list[Any]) -> bool:
    """Whether the database orders these ids as Python does (ints, or UUIDs)."""
    return all(isinstance(k, int) and not isinstance(k, bool) for k in keys) or all(
        isinstance(k, uuid.UUID) for k in keys
    )


class HitLookup(Expression):
    """The value ``mapping[id]`` of each row, by the value of its ``column``; NULL for others.

    ``id_field`` prepares the ids for the database (a UUID on SQLite is
    stored as hex text...). ``output_field`` is the type of the values:
    numbers, or text (a ``JSONField`` output reads JSON text as its value).
    """

    def __init__(
        self,
        column: str,
        id_field: models.Field[Any, Any],
        mapping: Mapping[Any, int | float | str],
        output_field: models.Field[Any, Any],
    ) -> None:
        super().__init__(output_field=output_field)
        self.column: Any = F(column)
        self.id_field = id_field
        self.mapping = dict(mapping)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.column!r}, {len(self.mapping)} ids)"

    @property
    def identity(self) -> tuple[Any, ...]:
        # Django derives an expression's identity (its equality and hash) from
        # the constructor's arguments through inspect.signature, which for a
        # page of hits costs more than compiling the SQL; this one is cheap.
        return (type(self), self.column, id(self.mapping), self.output_field.get_internal_type())

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.column)
        params: list[Any] = []

        # Each helper appends its parameters as it writes its text, and the
        # text is written left to right, so parameters stay in order.
        def column() -> str:
            params.extend(column_params)
            return str(column_sql)

        def key(value: Any) -> str:
            literal = number_literal(value)
            if literal is not None:
                return literal
            params.append(self.id_field.get_db_prep_value(value, connection, prepared=False))
            return "%s"

        def number(value: int | float | str) -> str:
            literal = number_literal(value)
            if literal is not None:
                return literal
            params.append(value)
            return "%s"

        def leaf(items: list[tuple[Any, int | float | str]]) -> str:
            whens = " ".join(f"WHEN {key(k)} THEN {number(n)}" for k, n in items)
            return f"CASE {column()} {whens} ELSE NULL END"

        def tree(items: list[tuple[Any, int | float | str]]) -> str:
            if len(items) <= LEAF_SIZE:
                return leaf(items)
            middle = len(items) // 2
            test = f"CASE WHEN {column()} < {key(items[middle][0])} THEN "
            below = tree(items[:middle])
            above = tree(items[middle:])
            return f"{test}{below} ELSE {above} END"

        items = list(self.mapping.items())
        if not items:
            return "NULL", ()
        if _orderable([k for k, _ in items]):
            sql = tree(sorted(items, key=lambda item: item[0]))
        else:
            sql = leaf(items)
        if isinstance(self.output_field, models.FloatField):
            # a decimal literal is NUMERIC on PostgreSQL: the column is a float
            return f"CAST(({sql}) AS {self.output_field.cast_db_type(connection)})", tuple(params)
        return f"({sql})", tuple(params)

    def as_sqlite(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        def lookup(column: str) -> str:
            # '$."12"': the path of the key "12" (integer ids: no quoting to escape)
            return f"""json_extract(%s, '$."' || {column} || '"')"""

        return self._json_lookup(compiler, connection, lookup, **extra_context)

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        def lookup(column: str) -> str:
            sql = f"(%s::jsonb ->> ({column})::text)"
            if isinstance(self.output_field, (models.IntegerField, models.FloatField)):
                return f"CAST({sql} AS {self.output_field.cast_db_type(connection)})"
            return sql

        return self._json_lookup(compiler, connection, lookup, **extra_context)

    def _json_lookup(
        self,
        compiler: Any,
        connection: Any,
        lookup: Callable[[str], str],
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        """``lookup(column SQL)``: the SQL reading the row's value from the JSON parameter
        (the first ``%s``); the ``CASE`` text where :meth:`_json_mapping` says no."""
        mapping = self._json_mapping(connection)
        if mapping is None:
            return self.as_sql(compiler, connection, **extra_context)
        column_sql, column_params = compiler.compile(self.column)
        return lookup(str(column_sql)), (mapping, *column_params)

    def _json_mapping(self, connection: Any) -> str | None:
        """The mapping as JSON text keyed by the ids' text; None unless the database has
        JSON functions (SQLite without JSON1 has none), the ids are integers (their text is
        the column's), the page at most :data:`JSON_LOOKUP_MAX` and the values numbers or
        text JSON can hold (a NaN score cannot)."""
        if not self.mapping or len(self.mapping) > JSON_LOOKUP_MAX:
            return None
        if not connection.features.supports_json_field:
            return None
        if not all(type(key) is int for key in self.mapping):
            return None
        try:
            return json.dumps(
                {str(key): value for key, value in self.mapping.items()}, allow_nan=False
            )
        except (TypeError, ValueError):  # a value JSON cannot hold: the CASE text holds it
            return None
