"""Idempotent bulk writes: ``INSERT … ON CONFLICT`` sent as executemany batches.

Measured on PostgreSQL with asyncpg (DESIGN.md "Performance notes"): executemany in
batches of 500 beats one multi-row VALUES statement several times over, so rows go out
as one prepared statement executed per row, in chunks. Every row of one call must carry
the same keys.

The statement is built and compiled by SQLAlchemy once per shape (table, columns,
conflict clause) and sent as driver SQL with the rows as tuples: SQLAlchemy's own
executemany binds every row through its type processors on each call, and JSON that a
caller already has as text (pydantic's) had to be parsed back into objects for it to
serialise again. Rows of column types whose values asyncpg takes as they are (text,
numbers, booleans, times, JSON as text, arrays of those) take that path; any other type,
or a statement with literals of its own, goes through SQLAlchemy. Both functions take a
session, a connection, or the asyncpg connection of ``Database.driver_transaction``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import asyncpg
from pydantic_core import to_json
from sqlalchemy import (
    ARRAY,
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeEngine

CHUNK_SIZE = 500
COPY_THRESHOLD = 100

Target = Table | type[DeclarativeBase]
# A session or connection, or the asyncpg connection of ``Database.driver_transaction``.
Executor: TypeAlias = AsyncSession | AsyncConnection | asyncpg.Connection
Row = Mapping[str, Any]


def table_of(target: Target) -> Table:
    """Return the Core table behind a model class (or the table itself)."""
    if isinstance(target, Table):
        return target
    table = target.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{target!r} is not mapped to a single table")
    return table


def dedupe(rows: Sequence[Row], key: Sequence[str]) -> list[Row]:
    """Keep the last row for each key; Postgres refuses to upsert one row twice per statement."""
    try:
        latest = {tuple(row[column] for column in key): row for row in rows}
    except KeyError as missing:
        raise ValueError(f"every row needs the conflict column {missing}") from None
    return list(latest.values())


def chunked(rows: Sequence[Row], size: int = CHUNK_SIZE) -> Iterator[Sequence[Row]]:
    """Yield consecutive slices of at most ``size`` rows."""
    if size < 1:
        raise ValueError(f"chunk size must be positive, got {size}")
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _check_columns(table: Table, columns: Iterable[str], what: str) -> None:
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{what} names columns that {table.name} lacks: {unknown}")


def with_conflict_clause(
    stmt: Insert,
    table: Table,
    *,
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
    only_if_newer: str | None = None,
    keep_when_empty: Sequence[str] = (),
) -> Insert:
    """Add the idempotent ``ON CONFLICT`` behaviour to an insert into ``table``.

    ``keep_when_empty`` names array columns among ``update`` whose stored value survives
    an empty incoming one (a source that does not know a title's genres must not erase
    what another source said).
    """
    _check_columns(table, conflict, "conflict")
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(conflict))
    _check_columns(table, update, "update")
    set_: dict[str, Any] = {column: stmt.excluded[column] for column in update}
    for column in keep_when_empty:
        incoming = stmt.excluded[column]
        set_[column] = case(
            (func.coalesce(func.cardinality(incoming), 0) > 0, incoming), else_=table.c[column]
        )
    # server_default only fires on insert; an updated row must say when it changed.
    if "updated_at" in table.c and "updated_at" not in set_:
        set_["updated_at"] = func.now()
    where = None
    if only_if_newer is not None:
        _check_columns(table, [only_if_newer], "only_if_newer")
        # ">=" rather than ">": replaying the same event rewrites the same values.
        where = table.c[only_if_newer] <= stmt.excluded[only_if_newer]
    return stmt.on_conflict_do_update(index_elements=list(conflict), set_=set_, where=where)


async def upsert(
    session: Executor,
    table_or_model: Target,
    rows: Sequence[Row],
    *,
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
    only_if_newer: str | None = None,
    keep_when_empty: Sequence[str] = (),
    chunk_size: int = CHUNK_SIZE,
) -> None:
    """Insert rows, updating ``update`` columns of rows whose ``conflict`` key exists.

    With no ``update`` columns, existing rows are left alone. With ``only_if_newer`` set
    to a column (an event time), a stored row is updated only by a row at least as new,
    so a replayed or late event cannot roll state back. The caller owns the transaction.
    """
    if not rows:
        return
    table = table_of(table_or_model)
    shape = _Shape(tuple(conflict), tuple(update or ()), only_if_newer, tuple(keep_when_empty))
    rows = dedupe(rows, conflict)
    keys = rows[0].keys()
    _check_columns(table, keys, "rows")
    # In the table's order, whatever the rows' key order: the compiled INSERT lists its
    # columns so, and the driver SQL is used only when its parameters follow them.
    columns = tuple(c.name for c in table.c if c.name in keys)
    sql = _compiled(table, columns, shape)
    if sql is None:
        if isinstance(session, asyncpg.Connection):
            raise TypeError(
                f"{table.name}: these columns need SQLAlchemy's binding; "
                "upsert them through a session, not the driver connection"
            )
        stmt = shape.on(insert(table), table)
        for chunk in chunked(rows, chunk_size):
            await session.execute(stmt, list(chunk))
        return
    records = _records(table, columns, rows)
    for start in range(0, len(records), chunk_size):
        await _send(session, sql, records[start : start + chunk_size])


async def _send(executor: Executor, sql: str, records: list[tuple[Any, ...]] | None = None) -> None:
    """Run ready asyncpg SQL once, or once per record, on the executor's connection.

    Through a session or connection it goes as driver SQL (no per-row binding), which
    also begins the transaction on the wire if nothing has yet: SQLAlchemy's asyncpg
    adapter sends BEGIN lazily, with the first statement it runs.
    """
    if isinstance(executor, asyncpg.Connection):
        if records is None:
            await executor.execute(sql)
        else:
            await executor.executemany(sql, records)
        return
    await (await _connection(executor)).exec_driver_sql(sql, records)


async def _connection(executor: AsyncSession | AsyncConnection) -> AsyncConnection:
    return await executor.connection() if isinstance(executor, AsyncSession) else executor


async def _driver_in_transaction(executor: Executor) -> Any:
    """Return the asyncpg connection under ``executor``, which must be in a transaction.

    Work sent on the driver outside one is autocommitted: a COPY into a staging table
    that empties itself at commit lost its rows that way, when it was the first
    statement of a session's transaction.
    """
    if isinstance(executor, asyncpg.Connection):
        driver = executor
    else:
        driver = (await (await _connection(executor)).get_raw_connection()).driver_connection
    if driver is None or not driver.is_in_transaction():
        raise RuntimeError("COPY needs a transaction begun on the wire; none is")
    return driver


class _Shape(NamedTuple):
    """What makes two upserts into one table the same statement."""

    conflict: tuple[str, ...]
    update: tuple[str, ...]
    only_if_newer: str | None
    keep_when_empty: tuple[str, ...]

    def on(self, stmt: Insert, table: Table) -> Insert:
        """Return ``stmt`` with this shape's conflict clause."""
        return with_conflict_clause(
            stmt,
            table,
            conflict=self.conflict,
            update=self.update,
            only_if_newer=self.only_if_newer,
            keep_when_empty=self.keep_when_empty,
        )


_PLAIN_TYPES = (String, Integer, Float, Boolean, DateTime, JSON)
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_COMPILED: dict[tuple[Any, ...], str | None] = {}  # bounded: one entry per call site's shape


def _driver_takes(column_type: TypeEngine[Any]) -> bool:
    """Say whether asyncpg takes this column's Python values as they are."""
    if isinstance(column_type, ARRAY):
        return _driver_takes(column_type.item_type)
    return isinstance(column_type, _PLAIN_TYPES) and not isinstance(column_type, Enum)


def _compiled(table: Table, columns: tuple[str, ...], shape: _Shape) -> str | None:
    """Return the upsert of ``columns`` (the table's, in its order) into ``table`` as asyncpg
    SQL, compiled once per shape.

    None when the driver cannot take the rows as they are: a column type that needs
    SQLAlchemy's binding, or a statement with parameters of its own (literals in its
    conflict clause).
    """
    key = (table, columns, shape)
    if key not in _COMPILED:
        sql = None
        if all(_driver_takes(table.c[c].type) for c in columns):
            values = {c: bindparam(c, type_=table.c[c].type) for c in columns}
            compiled = shape.on(insert(table).values(values), table).compile(dialect=_DIALECT)
            if tuple(compiled.positiontup or ()) == columns:
                sql = compiled.string
        _COMPILED[key] = sql
    return _COMPILED[key]


def _records(table: Table, columns: Sequence[str], rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """Return the rows as tuples in ``columns`` order, JSON columns as JSON text."""
    typed = [(c, t if isinstance(t := table.c[c].type, JSON) else None) for c in columns]
    return [tuple(row[c] if t is None else _json_text(row[c], t) for c, t in typed) for row in rows]


async def insert_ignore(
    session: Executor,
    table_or_model: Target,
    rows: Sequence[Row],
    *,
    conflict: Sequence[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> None:
    """Insert rows of an append-only table, skipping those whose key is already stored.

    ``conflict`` defaults to the table's primary key.
    """
    table = table_of(table_or_model)
    key = list(conflict) if conflict else [column.name for column in table.primary_key]
    await upsert(session, table, rows, conflict=key, update=None, chunk_size=chunk_size)


def _json_text(value: Any, column_type: TypeEngine[Any]) -> Any:
    """Return a JSON column's value as JSON text, as asyncpg takes it.

    Values already serialised (by pydantic, say) go through untouched; None is JSON
    null, as SQLAlchemy stores it, unless the column keeps None as SQL NULL.
    """
    if isinstance(value, str):
        return value
    if value is None and getattr(column_type, "none_as_null", False):
        return None
    # pydantic's Rust encoder: 2.0 µs for a classification's 23 probabilities, where
    # json.dumps took 9.5 (5–8 % of the classifier's CPU in a flood, py-spy).
    return to_json(value).decode()


async def copy_upsert(
    session: Executor,
    table_or_model: Target,
    rows: Sequence[Row],
    *,
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
    only_if_newer: str | None = None,
) -> None:
    """Do what :func:`upsert` does, for large batches: COPY into a staging table first.

    asyncpg's binary COPY moves rows several times faster than executemany (DESIGN.md:
    321k vs 53k rows/s); one ``INSERT … SELECT … ON CONFLICT`` then applies them with the
    same idempotent semantics. JSON columns take objects or ready-made JSON text. The
    staging table is a temporary copy of the target's columns that empties itself at
    commit. Rows of an append-only table (no ``update``) skip the staging table while
    all of them are new (:func:`_copy_if_all_new`). The caller owns the transaction.
    """
    table = table_of(table_or_model)
    if len(rows) < COPY_THRESHOLD:
        # Below a hundred rows the staging round trips cost more than COPY saves.
        await upsert(
            session, table, rows, conflict=conflict, update=update, only_if_newer=only_if_newer
        )
        return
    rows = dedupe(rows, conflict)
    columns = tuple(rows[0].keys())
    append_only = not update and only_if_newer is None
    if append_only and await _copy_if_all_new(session, table, columns, rows):
        return
    shape = _Shape(tuple(conflict), tuple(update or ()), only_if_newer, ())
    apply = _from_staging(table, columns, shape)
    staging = _staging_name(table)
    # Asked for every time, not remembered per connection: it is created inside the
    # caller's transaction, and a transaction that rolls back takes it away again. Sent
    # first, it also begins that transaction on the wire.
    await _send(
        session,
        f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" '
        f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS',
    )
    driver = await _driver_in_transaction(session)
    await driver.copy_records_to_table(
        staging, records=_records(table, columns, rows), columns=columns
    )
    await _send(session, apply)


async def _copy_if_all_new(
    session: Executor, table: Table, columns: tuple[str, ...], rows: Sequence[Row]
) -> bool:
    """COPY the rows straight into an append-only ``table``; say whether they went in.

    With nothing to update on conflict, a batch of new rows (every batch but a
    redelivered one) needs no staging table. Measured on the embedded Postgres, a scorer
    batch of 2,000 titles: ``scorer_inputs`` 31 → 21 ms, ``trend_scores`` (6,000 rows)
    80 → 52 ms. A row already stored fails the COPY; the savepoint undoes only this
    attempt, and the caller takes the staging path, which skips the stored rows.
    """
    await _send(session, "SAVEPOINT copy_if_all_new")  # begins the transaction if need be
    driver = await _driver_in_transaction(session)
    try:
        await driver.copy_records_to_table(
            table.name, records=_records(table, columns, rows), columns=columns
        )
    except asyncpg.UniqueViolationError:
        await driver.execute("ROLLBACK TO SAVEPOINT copy_if_all_new")
        return False
    await driver.execute("RELEASE SAVEPOINT copy_if_all_new")
    return True


def _staging_name(table: Table) -> str:
    """Return the temporary table ``copy_upsert`` stages ``table``'s rows in."""
    return f"_staging_{table.name}"


def _from_staging(table: Table, columns: tuple[str, ...], shape: _Shape) -> str:
    """Return the ``INSERT … SELECT`` from the staging table, compiled once per shape.

    Building and compiling it per call cost ~3 ms of CPU (a new staging ``Table`` each
    time defeats SQLAlchemy's compiled cache), more than the COPY itself.
    """
    key = ("staging", table, columns, shape)
    found = _COMPILED.get(key)
    if found is None:
        _check_columns(table, columns, "rows")
        staged = Table(
            _staging_name(table), MetaData(), *(Column(c, table.c[c].type) for c in columns)
        )
        select_staged = select(*(staged.c[c] for c in columns))
        stmt = shape.on(insert(table).from_select(columns, select_staged), table)
        compiled = stmt.compile(dialect=_DIALECT)
        if compiled.positiontup:
            raise RuntimeError(f"{table.name}: INSERT from staging has parameters")
        found = _COMPILED[key] = compiled.string
    return found
