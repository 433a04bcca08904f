"""The one ledger of every file feedsite owns: Hexo posts, site pages, the search index,
and whatever a target writes next. Carries files out; decides nothing.

One protocol for every target (docs/retention.md):

1. **pending** — each file about to change is recorded ``pending``, with the hash of the
   bytes about to be written, before its bytes change (one transaction, which may also
   carry the run's item and feed records); each file about to go is recorded ``deleting``;
2. **write** — atomically, through the one guarded :class:`~feedsite._targets._writer.Writer`;
   a file is deleted only while it still holds the bytes the ledger recorded (a file edited
   by hand is left alone, forgotten and reported);
3. **sync** — one ``syncfs`` for everything written and deleted;
4. **written** — the pending bytes become the recorded ones; deleted rows go.

A run killed anywhere in between is settled by :meth:`Ledger.settle` at the start of the
next one, by looking at each unfinished file: its temp files go, and the row ends up
describing what is on disk (new bytes, old bytes, or nothing of ours).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

from feedsite._records import DiskState, FileWrite, OwnedFile
from feedsite._store import State, Tx
from feedsite.errors import TargetError

from ._writer import NotOwnedError, Writer, Written

__all__ = ["Deleted", "Ledger", "Session"]

#: What :meth:`Session.delete` found: the file was ours and is gone, was already gone, or
#: held other bytes (edited by hand: left in place, no longer owned).
Deleted = Literal["deleted", "missing", "edited"]


class Ledger:
    """The files one target owns under its writer's root, and the protocol that changes them.

    Args:
        state: the open state (the ledger's rows live there).
        writer: the one writer of the target's output root.
        target: the target's name in the ledger ("hexo", "native").
        feeds: only the files of these feeds (a run of thousands of feeds works through
            its posts a batch of feeds at a time); None: every file of the target.
    """

    def __init__(
        self, state: State, writer: Writer, target: str, feeds: Collection[str] | None = None
    ) -> None:
        self.state = state
        self.writer = writer
        self.target = target
        self.feeds = None if feeds is None else frozenset(feeds)
        self._owned: dict[str, OwnedFile] | None = None

    def for_feeds(self, feeds: Collection[str]) -> Ledger:
        """The same ledger, looking at the files of ``feeds`` only."""
        return Ledger(self.state, self.writer, self.target, feeds)

    def owned(self) -> dict[str, OwnedFile]:
        """The files recorded as written, by path (read once per session)."""
        if self._owned is None:
            self._owned = (
                self.state.files(self.target)
                if self.feeds is None
                else self.state.files_of_feeds(self.target, self.feeds)
            )
        return self._owned

    def settle(self) -> None:
        """Finish what a killed run left half done, by looking at each unfinished file."""
        unfinished = self.state.unfinished_files(self.target)
        if not unfinished:
            return
        unsafe: set[str] = set()
        for folder in {f.path.rpartition("/")[0] for f in unfinished}:
            try:
                self.writer.remove_temp_files(folder)
            except TargetError:  # a symlink out, say: its rows wait until it is fixed
                unsafe.add(folder)
        for row in unfinished:
            if row.path.rpartition("/")[0] in unsafe:
                continue
            path = self.writer.resolve(row.path)
            actual = _sha_of(path)
            outcome: Literal["new", "old", "gone"]
            if row.state == "deleting":
                if actual is not None and actual == row.sha256:
                    self.writer.delete(row.path)
                elif actual is None:  # deleted before the kill: its folder may be left empty
                    self.writer.remove_empty_folders(row.path)
                self.writer.sync()
                outcome = "gone"
            elif actual is not None and actual == row.pending_sha256:
                outcome = "new"
            elif actual is not None and actual == row.sha256:
                outcome = "old"
            elif actual is None and row.sha256 is not None:
                outcome = "old"  # missing: the target's planner restores it
            elif actual is not None and row.sha256 is None and row.pending_sha256 is None:
                # A page an older feedsite recorded before its first write, without a hash
                # (migration 5 of its site_pages row): the file is the one it wrote. Owned
                # with its bytes and no input key, so the target renders it again or
                # deletes it.
                with self.state.transaction() as tx:
                    self.state.mark_pending(tx, self.target, [FileWrite(row.path, b"", actual, "")])
                outcome = "new"
            else:
                # Never written (or not ours): forget the row; the planner makes it again.
                outcome = "gone"
                if actual is None:
                    self.writer.remove_empty_folders(row.path)
            if outcome == "gone":
                self.state.settle_file(self.target, row.path, "gone")
            else:
                st = os.stat(path) if actual is not None else None
                self.state.settle_file(
                    self.target,
                    row.path,
                    outcome,
                    size=st.st_size if st else 0,
                    mtime_ns=st.st_mtime_ns if st else 0,
                )
        self._owned = None

    def observe(self, *, refresh: bool = True) -> dict[str, DiskState]:
        """Does each owned file still hold the bytes feedsite wrote?

        A file whose size and mtime are as recorded is ``ok`` without being read; one
        that was touched but holds the same bytes is ``ok`` (and, with ``refresh``, its new
        stat is recorded); other bytes are ``edited``; no file (or an unsafe folder) is
        ``missing``.
        """
        disk: dict[str, DiskState] = {}
        for path, owned in self.owned().items():
            try:
                st = self.writer.stat(path)
            except TargetError:  # its folder is unsafe now: the target fails that part alone
                disk[path] = "missing"
                continue
            if st is None:
                disk[path] = "missing"
            elif st.st_size == owned.size and st.st_mtime_ns == owned.mtime_ns:
                disk[path] = "ok"
            elif owned.sha256 is not None and _sha_of(self.writer.resolve(path)) == owned.sha256:
                disk[path] = "ok"
                if refresh:
                    self.state.refresh_stat(self.target, path, st.st_size, st.st_mtime_ns)
            else:
                disk[path] = "edited"
        return disk

    def session(self) -> Session:
        """A unit of changes: ``with ledger.session() as s: s.stage(...); s.write(...)``."""
        return Session(self)


@dataclass(slots=True)
class Session:
    """Changes to one target's files, carried out by the ledger's protocol.

    :meth:`stage` records before anything changes (call it once, or once per batch);
    :meth:`write` and :meth:`delete` change files that were staged; leaving the ``with``
    block normally syncs once and records the outcome in one transaction. Leaving it by an
    exception records nothing more: the staged rows are settled by the next run.
    """

    ledger: Ledger
    #: (path, size, mtime_ns) of the files written.
    written: list[tuple[str, int, int]] = field(default_factory=list)
    #: Paths whose rows go: deleted, already missing, edited (released) or refused.
    forgotten: list[str] = field(default_factory=list)
    #: Staged creates that found a file already there (one the ledger does not record).
    refused: list[str] = field(default_factory=list)
    #: Paths staged as writes, for the check in :meth:`write`.
    _staged: set[str] = field(default_factory=set)

    def __enter__(self) -> Session:
        self.ledger.owned()  # the recorded bytes, read before any row changes
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is not None:
            return
        self.finish()

    def stage(
        self,
        writes: Sequence[FileWrite],
        deletes: Sequence[str] = (),
        *,
        also: Callable[[Tx], None] | None = None,
    ) -> None:
        """Record ``writes`` as pending and ``deletes`` as deleting, in one transaction with
        whatever ``also`` records (the run's items and feeds), before any file changes."""
        ledger = self.ledger
        with ledger.state.transaction() as tx:
            if also is not None:
                also(tx)
            ledger.state.mark_pending(tx, ledger.target, writes)
            ledger.state.mark_deleting(tx, ledger.target, deletes)
        self._staged.update(w.path for w in writes)

    def write(self, w: FileWrite) -> Written | None:
        """Write one staged file; None when a create found a file that is not ours there
        (it is left as it is; its row goes; :attr:`refused` names it)."""
        if w.path not in self._staged:
            raise TargetError(f"{w.path}: written without being recorded first")
        try:
            done = self.ledger.writer.write(w.path, w.data, create_only=w.create_only)
        except NotOwnedError:
            self.refused.append(w.path)
            self.forgotten.append(w.path)
            return None
        self.written.append((w.path, done.size, done.mtime_ns))
        return done

    def keep(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a staged file as written without writing it: its bytes are already on
        disk (``feedsite adopt`` taking a post over as it is)."""
        if path not in self._staged:
            raise TargetError(f"{path}: kept without being recorded first")
        self.written.append((path, size, mtime_ns))

    def delete(self, path: str) -> Deleted:
        """Delete a staged file if it still holds the bytes the ledger recorded.

        A file with other bytes (edited by hand) is left in place and stops being owned.
        """
        owned = self.ledger.owned().get(path)
        self.forgotten.append(path)
        try:
            data = self.ledger.writer.resolve(path).read_bytes()
        except FileNotFoundError:
            return "missing"
        except OSError as e:
            raise TargetError(f"cannot read {self.ledger.writer.resolve(path)}: {e}") from e
        if owned is None or owned.sha256 != hashlib.sha256(data).hexdigest():
            return "edited"
        return "deleted" if self.ledger.writer.delete(path) else "missing"

    def release(self, paths: Sequence[str]) -> None:
        """Stop owning ``paths`` without touching them (edited by hand, already gone)."""
        self.forgotten.extend(paths)

    def finish(self) -> None:
        """One sync, then record what is on disk now, in one transaction."""
        ledger = self.ledger
        ledger.writer.sync()
        if self.written or self.forgotten:
            with ledger.state.transaction() as tx:
                ledger.state.mark_written(tx, ledger.target, self.written)
                ledger.state.forget_files(tx, ledger.target, self.forgotten)
        self.written, self.forgotten = [], []
        self._staged.clear()
        ledger._owned = None


def _sha_of(path: os.PathLike[str] | str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None
