"""The ledger's rows (table ``files``): the one record of every file feedsite owns, for
every target ("hexo", "native", ...). Stores the protocol's states; carrying it out is
``feedsite._targets._ledger``'s job.

A row is ``pending`` from before its bytes change until they are synced (``sha256``/``key``
still describe the bytes written before, ``pending_sha256``/``pending_key`` the new
ones), ``written`` afterwards, and ``deleting`` from before its file is deleted until
the row is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, cast

from feedsite._records import FileState, FileWrite, OwnedFile, UnfinishedFile

from ._base import StateBase, Tx

#: A pending file's bytes reached the disk: they become the recorded ones.
_MARK_WRITTEN = (
    "UPDATE files SET state='written', sha256=pending_sha256, key=pending_key,"
    " size=?, mtime_ns=?, pending_sha256=NULL, pending_key=NULL"
    " WHERE target=? AND path=? AND state='pending'"
)

_OWNED_COLUMNS = "path, sha256, key, size, mtime_ns, feed_key, item_id"


class LedgerMixin(StateBase):
    """The files feedsite owns."""

    def files(self, target: str) -> dict[str, OwnedFile]:
        """The files of ``target`` recorded as written, by path."""
        return {
            row[0]: _owned(target, row)
            for row in self._query(
                f"SELECT {_OWNED_COLUMNS} FROM files WHERE target = ? AND state = 'written'",
                (target,),
            )
        }

    def files_of_feeds(self, target: str, feed_keys: Iterable[str]) -> dict[str, OwnedFile]:
        """The files of ``target`` recorded as written for the given feeds, by path (a run
        of thousands of feeds reads its ledger a batch of feeds at a time)."""
        out: dict[str, OwnedFile] = {}
        for feed_key in sorted(set(feed_keys)):
            out.update(self.files_of(target, feed_key))
        return out

    def file_feed_keys(self, target: str) -> set[str]:
        """The feeds that have files of ``target`` (any state)."""
        return {
            row[0]
            for row in self._query(
                "SELECT DISTINCT feed_key FROM files WHERE target = ? AND feed_key IS NOT NULL",
                (target,),
            )
        }

    def files_of(
        self, target: str, feed_key: str, item_id: str | None = None
    ) -> dict[str, OwnedFile]:
        """The files of ``target`` recorded as written for one feed (or one of its items),
        by path."""
        # Without statistics the planner would scan the target's rows through the primary key.
        sql = (
            f"SELECT {_OWNED_COLUMNS} FROM files INDEXED BY files_by_item"
            " WHERE target = ? AND feed_key = ?"
        )
        params: tuple[str, ...] = (target, feed_key)
        if item_id is not None:
            sql += " AND item_id = ?"
            params += (item_id,)
        return {
            row[0]: _owned(target, row)
            for row in self._query(f"{sql} AND state = 'written'", params)
        }

    def unfinished_files(self, target: str) -> list[UnfinishedFile]:
        """The rows of ``target`` a killed run left (``pending`` or ``deleting``), by path."""
        return [
            UnfinishedFile(target, path, cast(FileState, state), sha, pending)
            for path, state, sha, pending in self._query(
                "SELECT path, state, sha256, pending_sha256 FROM files"
                " WHERE target = ? AND state != 'written' ORDER BY path",
                (target,),
            )
        ]

    def mark_pending(self, tx: Tx, target: str, writes: Sequence[FileWrite]) -> None:
        """Record ``writes`` as about to be written (before their bytes change). The bytes
        written before stay recorded until :meth:`mark_written`."""
        tx.executemany(
            "INSERT INTO files (target, path, feed_key, item_id, state, pending_sha256,"
            " pending_key) VALUES (?,?,?,?,'pending',?,?)"
            " ON CONFLICT (target, path) DO UPDATE SET state='pending',"
            " feed_key=excluded.feed_key, item_id=excluded.item_id,"
            " pending_sha256=excluded.pending_sha256, pending_key=excluded.pending_key",
            [(target, w.path, w.feed_key, w.item_id, w.sha256, w.key) for w in writes],
        )

    def mark_deleting(self, tx: Tx, target: str, paths: Iterable[str]) -> None:
        """Record ``paths`` as about to be deleted (before they are)."""
        tx.executemany(
            "UPDATE files SET state='deleting' WHERE target=? AND path=?",
            [(target, p) for p in paths],
        )

    def mark_written(self, tx: Tx, target: str, written: Sequence[tuple[str, int, int]]) -> None:
        """The pending bytes of ``written`` (path, size, mtime_ns) are on disk (synced):
        they become the recorded ones."""
        tx.executemany(
            _MARK_WRITTEN, [(size, mtime, target, path) for path, size, mtime in written]
        )

    def forget_files(self, tx: Tx, target: str, paths: Iterable[str]) -> None:
        """Stop owning ``paths`` (deleted, gone, or no longer feedsite's)."""
        tx.executemany("DELETE FROM files WHERE target=? AND path=?", [(target, p) for p in paths])

    def settle_file(
        self,
        target: str,
        path: str,
        outcome: Literal["new", "old", "gone"],
        size: int = 0,
        mtime_ns: int = 0,
    ) -> None:
        """Resolve one unfinished row, in its own transaction: the file holds the pending
        bytes (``new``), the bytes recorded before (``old``: the pending ones are dropped),
        or nothing of feedsite's (``gone``: the row goes). ``size``/``mtime_ns``: the
        file's stat for ``new`` and ``old``."""
        with self.transaction() as tx:
            if outcome == "new":
                tx.execute(_MARK_WRITTEN, (size, mtime_ns, target, path))
            elif outcome == "old":
                tx.execute(
                    "UPDATE files SET state='written', size=?, mtime_ns=?, pending_sha256=NULL,"
                    " pending_key=NULL WHERE target=? AND path=?",
                    (size, mtime_ns, target, path),
                )
            else:
                tx.execute("DELETE FROM files WHERE target=? AND path=?", (target, path))

    def refresh_stat(self, target: str, path: str, size: int, mtime_ns: int) -> None:
        """Record a new stat for an unchanged file (e.g. touched, same bytes)."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE files SET size=?, mtime_ns=? WHERE target=? AND path=?",
                (size, mtime_ns, target, path),
            )


def _owned(target: str, row: Sequence[Any]) -> OwnedFile:
    path, sha, key, size, mtime, feed_key, item_id = row
    return OwnedFile(target, path, sha, key or "", size or 0, mtime or 0, feed_key, item_id)
