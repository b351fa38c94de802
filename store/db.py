"""Engines and sessions for PostgreSQL (production) or a SQLite file (demo, tests)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(str(resources.files("store") / "migrations"))
"""Alembic's script folder, inside the installed package (Alembic needs a real folder, not a zip)."""

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for the lock before failing (web and worker share the file)."""

_engines: dict[tuple[str, bool], Engine] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets the web process read while the worker writes; the busy timeout
    # turns a momentary lock into a short wait instead of an error.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, autocommit: bool = False) -> Engine:
    """A new engine for a URL, SQLite set up for two processes sharing one file.

    Bound parameters are phone numbers and message bodies: `hide_parameters` keeps them out of every
    SQL error and traceback."""
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            hide_parameters=True,
            **options,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No ping before every checkout (a round trip per webhook): a connection the server dropped
    # raises a disconnect error, the pool discards it, and callers retry (see `retry_on_disconnect`).
    return create_engine(
        url, pool_pre_ping=False, pool_recycle=1800, pool_size=5, max_overflow=10, hide_parameters=True, **options
    )


def get_engine(url: str, autocommit: bool = False) -> Engine:
    """The process-wide engine for a URL (one pool per process). The autocommit one is for single
    statements that need no transaction block: one round trip instead of BEGIN, statement, COMMIT."""
    # SQLite has no round trips to save, and a second pool would only add a writer competing for the
    # file lock: it always gets the one engine.
    autocommit = autocommit and not url.startswith("sqlite")
    with _lock:
        engine = _engines.get((url, autocommit))
        if engine is None:
            engine = _engines[(url, autocommit)] = make_engine(url, autocommit)
        return engine


@contextmanager
def autocommit_connection(url: str):
    """A connection on which a single statement commits itself: on PostgreSQL one round trip instead
    of BEGIN, statement, COMMIT; on SQLite the shared engine in a short transaction."""
    engine = get_engine(url, autocommit=True)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            yield connection
    else:
        with engine.connect() as connection:
            yield connection


def retry_on_disconnect(work, attempts: int = 2):
    """Run `work()`; run it again once if the database connection had been dropped (a restart)."""
    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as exc:
            if not exc.connection_invalidated or attempt == attempts - 1:
                raise


def _after_fork_in_child() -> None:
    # A forked work horse must not talk over its parent's pooled sockets: drop the inherited
    # connections without closing them (the parent still uses them) and open fresh ones.
    for engine in list(_engines.values()):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def dispose_all() -> None:
    """Close every pool (tests, and forked workers)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config  # why: only to migrate; web and worker processes never load Alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database to the newest schema (`aftercare db upgrade`)."""
    from alembic import command  # why: only to migrate (see alembic_config)

    command.upgrade(alembic_config(url), revision)
