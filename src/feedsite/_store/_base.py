"""The state's base: opens the SQLite file, migrates it, runs reads and transactions.
Contains no business logic.

Every ``sqlite3`` error — opening, migrating, reading, writing, closing — leaves the
store as a :class:`~feedsite.errors.StateError` naming the state's path; the domain
mixins (``_feeds``, ``_items``, ``_ledger``, ``_cards``) read through :meth:`StateBase._query`
and write through a :class:`Tx`, so they never see a bare ``sqlite3`` error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self, final

from feedsite.errors import StateError

from ._schema import MIGRATIONS, SCHEMA_VERSION, VACUUM


def iso(dt: datetime | None) -> str | None:
    """A datetime as the state stores it (ISO 8601; UTC by convention)."""
    return None if dt is None else dt.isoformat()


def from_iso(text: str | None) -> datetime | None:
    """A stored timestamp back as an (aware) datetime."""
    return None if text is None else datetime.fromisoformat(text)


@final
class Tx:
    """One open write transaction on the state (see :meth:`StateBase.transaction`).

    The store's ``record_*``, ``mark_*`` and ``forget_*`` methods take it, so that the
    items, feeds and ledger rows of one step commit together or not at all. Callers
    outside the store only pass it on. Valid only inside its ``with`` block.
    """

    __slots__ = ("_conn", "_path")

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._path = path

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement (for the store's own methods)."""
        self._open().execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """Run one statement per row (for the store's own methods)."""
        self._open().executemany(sql, rows)

    def insert(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one INSERT; the rowid of the row it made."""
        rowid = self._open().execute(sql, params).lastrowid
        assert rowid is not None
        return rowid

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of one read inside the transaction (tuples)."""
        return self._open().execute(sql, params).fetchall()

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"state {self._path}: used a transaction after it ended")
        return self._conn

    def _end(self) -> None:
        self._conn = None


class StateBase:
    """An open state database. Open with :meth:`open` (or :meth:`snapshot`); use as a
    context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        #: The state file (for a snapshot: the file it was copied from).
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Self:
        """Open (and create / migrate) the state at ``path``.

        Raises:
            StateError: the file is not a feedsite state, is newer than this
                feedsite, or cannot be opened.
        """
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.exists():
                raise StateError(f"no state at {path}: run `feedsite run` first")
            conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error:
                conn.close()
                raise
            return cls._ready(conn, path)
        except sqlite3.Error as e:
            raise StateError(f"cannot open state {path}: {e}") from e

    @classmethod
    def snapshot(cls, path: Path) -> Self:
        """A private copy of the state at ``path`` (empty when there is none).

        For ``run --dry-run``: the file, its folder, its WAL and lock files are neither
        created nor written; migrations run on the copy only. The copy is SQLite's private
        temporary database (an unnamed file in the system's temp folder, deleted when the
        connection closes), not memory: a dry run of a 10,000-feed state (~1 GB) holds
        SQLite's page cache, not the whole state.

        Raises:
            StateError: the file is not a feedsite state or cannot be read.
        """
        try:
            conn = sqlite3.connect("", isolation_level=None)
            if path.exists():
                # Without a -wal file the database file is complete: read it as immutable,
                # which makes SQLite create no -wal/-shm beside it. With one (a run in
                # progress, or killed), a read-only connection reads through it.
                wal = path.with_name(path.name + "-wal").exists()
                uri = f"{path.absolute().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
                source = sqlite3.connect(uri, uri=True, timeout=30)
                try:
                    source.backup(conn)
                finally:
                    source.close()
            return cls._ready(conn, path)
        except sqlite3.Error as e:
            raise StateError(f"cannot read state {path}: {e}") from e

    @classmethod
    def _ready(cls, conn: sqlite3.Connection, path: Path) -> Self:
        """The state on an open connection: foreign keys on, migrated (closed on failure)."""
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            state = cls(conn, path)
            state._migrate()
        except BaseException:
            conn.close()
            raise
        return state

    def close(self) -> None:
        try:
            self._conn.close()
        except sqlite3.Error as e:
            raise StateError(f"cannot close state {self.path}: {e}") from e

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = int(self._query("PRAGMA user_version")[0][0])
        if version > SCHEMA_VERSION:
            raise StateError(
                f"state {self.path} has schema {version},"
                f" newer than this feedsite ({SCHEMA_VERSION})"
            )
        vacuum = False
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as tx:
                for step in MIGRATIONS[number]:
                    if step == VACUUM:
                        vacuum = True
                    elif isinstance(step, str):
                        tx.execute(step)
                    else:
                        step(tx)
                tx.execute(f"PRAGMA user_version = {number + 1}")
        if vacuum and version > 0:  # a new state has nothing to give back
            try:
                self._conn.execute("VACUUM")
            except sqlite3.Error as e:
                raise StateError(f"cannot compact state {self.path}: {e}") from e

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction: everything recorded through the yielded :class:`Tx`
        commits when the block ends, or nothing does if it raises.

        Raises:
            StateError: the transaction could not begin, run or commit.
        """
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            tx = Tx(self._conn, self.path)
            try:
                yield tx
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back already
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                tx._end()
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise StateError(f"state {self.path}: {e}") from e

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of one read (tuples).

        Raises:
            StateError: the read failed (a damaged file, a closed state, ...).
        """
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise StateError(f"cannot read state {self.path}: {e}") from e
