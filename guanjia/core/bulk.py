"""Fast inserts for the few hot paths where the ORM's per-value machinery is the cost.

bulk_create prepares every value through the field and compiler machinery and,
on SQLite, sends at most 999 parameters per statement. An import of 100,000
enterprises or a sweep writing thousands of escalations spends most of its time
there. insert() prepares each field's default once and takes the varying values
already prepared for the database (see db_value); it writes with multi-row
INSERTs on SQLite and with COPY on PostgreSQL. Constraint violations surface
as Django's IntegrityError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.db import connection, models

ROWS_PER_STATEMENT = 500


def insert(model: type[models.Model], names: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT rows of `model`; fields not in `names` get their model default.

    The ORM's bulk_create prepares every value through the field and compiler
    machinery and, on SQLite, sends at most 999 parameters per statement: on
    100,000 enterprises that alone takes longer than our whole time budget.
    Here each field's default is prepared once, and the varying values arrive
    already prepared for the database (see db_value).
    """
    if not rows:
        return
    fields = [
        field for field in model._meta.concrete_fields if not field.primary_key or field.attname in names
    ]
    position = {name: index for index, name in enumerate(names)}
    unknown = set(names) - {field.attname for field in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    constant = {
        field.attname: field.get_db_prep_save(field.get_default(), connection)
        for field in fields
        if field.attname not in position
    }
    # A row's values in the table's column order: positions into the row, or the default.
    layout = [(position.get(field.attname), constant.get(field.attname)) for field in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(field.column)) for field in fields)
    params = [
        tuple(row[index] if index is not None else default for index, default in layout) for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: one stream instead of a statement (and a round trip) per row. It runs on the
            # driver's cursor, so Django's wrapper turns its errors into IntegrityError and kin.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for values in params:
                    copy.write_row(values)
        else:
            # SQLite: many rows per statement. Not executemany (one statement per row): a table
            # with triggers into an FTS5 index (the search entries) has FTS5 flush a segment to disk
            # at every statement, which at a million entries made each row cost tens of ms.
            one = "(" + ", ".join(["%s"] * len(fields)) + ")"
            most_params = connection.features.max_query_params or 999
            per = max(1, min(ROWS_PER_STATEMENT, most_params // len(fields)))
            for start in range(0, len(params), per):
                chunk = params[start : start + per]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))}",  # noqa: S608 - names and placeholders only
                    [value for values in chunk for value in values],
                )


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """PostgreSQL: `count` new ids from the table's sequence, so that COPY needs no lookup
    afterwards (a sequence hands out each id once, however many writers). Elsewhere None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],  # type: ignore[union-attr]
        )
        return [row[0] for row in cursor.fetchall()]


def db_value(model: type[models.Model], name: str) -> Callable[[Any], Any]:
    """A function that prepares a value of the field `name` for insert()."""
    field = cast(models.Field, model._meta.get_field(name))
    return lambda value: None if value is None else field.get_db_prep_save(value, connection)
