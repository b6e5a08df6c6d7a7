"""The database: engine set-up for SQLite and PostgreSQL, the declarative base, sessions.

SQLite is the embedded default. Every SQLite transaction begins IMMEDIATE: it takes the write lock
up front, so two writers queue on the busy timeout instead of failing when a read lock would have
to be upgraded. PostgreSQL runs at READ COMMITTED; stock and money use guarded updates or row locks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    make_transient_to_detached,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite keeps no zone, so it is reattached)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; RetailOS stores timezone-aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), int: BigInteger()}


def id_column(**kw: Any) -> Mapped[str]:
    return mapped_column(String(40), primary_key=True, **kw)


def tenant_column() -> Mapped[str]:
    """The owning tenant: leads every tenant-owned table so it can be sharded by tenant."""
    return mapped_column(String(40), index=True)


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        return Path(url[len(prefix):])
    return None


def make_engine(url: str, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Enough pooled connections for every API worker thread: a thread that waits for the
        # write lock must not also wait for a connection held by a thread queued behind it.
        kw.setdefault("pool_size", 10)
        kw.setdefault("max_overflow", 60)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 60}, **kw
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # Requests are admitted up to pool_size (api.routing); each may hold a second connection
    # for an autonomous transaction, so the overflow must cover one more per admitted request.
    kw.setdefault("pool_size", 20)
    kw.setdefault("max_overflow", kw["pool_size"])
    kw.setdefault("pool_pre_ping", True)
    return create_engine(url, **kw)


class Database:
    """One engine and its session factory; passed explicitly, never a module global."""

    def __init__(self, url: str, **engine_kw: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kw)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def autonomous(session: Session) -> Iterator[Session]:
    """A transaction of its own beside `session`'s, committed on leaving whatever becomes of the
    request's: for a short claim that others must see at once and whose row locks must not be
    held for the rest of a long request (a stock hold taken before a payment is authorised).

    On SQLite the request's transaction already holds the one write lock, so a second writer
    would wait for it forever: there the work joins `session`'s transaction and lives or dies
    with it. Undoing autonomous work after a failure is the caller's business.
    """
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        yield session
        return
    engine = bind.engine if isinstance(bind, Connection) else bind
    with Session(engine, expire_on_commit=False) as own, own.begin():
        yield own


def upsert_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` (a Table or mapped class) that can say what to do ON CONFLICT,
    in the dialect of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# INSERT statements built once per (dialect, table, kind): only the parameters change between
# calls, so SQLAlchemy neither rebuilds them nor computes their cache keys again.
_insert_statements: dict[tuple[str, str, str], Any] = {}


def _insert_statement(session: Session, table: Table, kind: str) -> Any:
    dialect = session.get_bind().dialect.name
    stmt = _insert_statements.get((dialect, table.name, kind))
    if stmt is None:
        if kind == "once":
            stmt = (upsert_insert(session, table).on_conflict_do_nothing()
                    .returning(*table.primary_key.columns))
        else:
            stmt = insert(table)
        _insert_statements[(dialect, table.name, kind)] = stmt
    return stmt


def _table_of(row: Base) -> Table:
    return Base.metadata.tables[row.__tablename__]


def _values(table: Table, row: Base) -> dict[str, Any]:
    """Every column's value as the row holds it (one never set is NULL: no column defaults)."""
    return {c.key: getattr(row, c.key) for c in table.columns}


def insert_once(session: Session, row: Base) -> bool:
    """Insert `row` unless a row with the same unique key exists; False if one did.

    One statement, no savepoint: a conflicting concurrent insert waits for the other transaction
    and then does nothing, instead of failing the caller's transaction. The row joins the
    session only when it was inserted. RETURNING, not rowcount: psycopg reports -1 for an
    INSERT ... ON CONFLICT DO NOTHING.
    """
    table = _table_of(row)
    stmt = _insert_statement(session, table, "once")
    if session.execute(stmt, _values(table, row)).first() is None:
        return False
    make_transient_to_detached(row)
    session.add(row)
    return True


def insert_rows(session: Session, rows: Sequence[Base]) -> None:
    """Insert new `rows` now, one executemany per table in the order the tables first appear,
    past the ORM's unit of work (which costs more CPU than the statement for rows written once
    and never changed in the request). The rows do not join the session: later changes to them
    are not saved, and a query reads them back from the database."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for row in rows:
        table = _table_of(row)
        by_table.setdefault(table, []).append(_values(table, row))
    connection = session.connection()
    for table, values in by_table.items():
        connection.execute(_insert_statement(session, table, "rows"), values)


# UPDATE statements built once per (table, columns set), as the inserts above.
_update_statements: dict[tuple[str, tuple[str, ...]], Any] = {}


def _keys_of(table: Table) -> list[Any]:
    """The columns an UPDATE of one row filters by: its primary key, and its tenant."""
    keys = list(table.primary_key.columns)
    if "tenant_id" in table.columns and "tenant_id" not in table.primary_key.columns:
        keys.append(table.columns["tenant_id"])
    return keys


def update_row(session: Session, row: Base, **values: Any) -> None:
    """Write `values` to the loaded `row` now, with one UPDATE by its key and tenant, and keep
    them as what the row holds in the database: the session's flush, which costs more CPU than
    the statement, has nothing left to write for them. Its other changes, if any, are still
    flushed as usual."""
    table = _table_of(row)
    names = tuple(values)
    stmt = _update_statements.get((table.name, names))
    if stmt is None:
        stmt = (update(table)
                .where(*(c == bindparam(f"key_{c.key}") for c in _keys_of(table)))
                .values({name: bindparam(f"new_{name}", type_=table.columns[name].type)
                         for name in names}))
        _update_statements[(table.name, names)] = stmt
    params = {f"key_{c.key}": getattr(row, c.key) for c in _keys_of(table)}
    params.update({f"new_{name}": value for name, value in values.items()})
    result = session.connection().execute(stmt, params)
    if getattr(result, "rowcount", 1) != 1:
        raise StaleDataError(f"{table.name} row {params} was not updated")
    for name, value in values.items():
        set_committed_value(row, name, value)
