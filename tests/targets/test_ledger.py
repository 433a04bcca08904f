"""The one ledger protocol (``_targets/_ledger.py``) on a real SQLite state and real files:
pending before bytes change, written after one sync, deletes only of our bytes, and what a
killed run left settled by the next."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from feedsite._records import FileWrite
from feedsite._store import State
from feedsite._targets._ledger import Ledger
from feedsite._targets._writer import Writer

TARGET = "native"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fw(path: str, data: bytes, key: str = "k", *, create_only: bool = False) -> FileWrite:
    return FileWrite(path, data, sha(data), key, create_only=create_only)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    state = State.open(tmp_path / "state.sqlite")
    return Ledger(state, Writer(tmp_path / "out"), TARGET)


def test_a_session_records_pending_then_written(ledger: Ledger) -> None:
    with ledger.session() as s:
        s.stage([fw("a/b.html", b"one")])
        [row] = ledger.state.unfinished_files(TARGET)
        assert (row.state, row.pending_sha256, row.sha256) == ("pending", sha(b"one"), None)
        assert not (ledger.writer.root / "a/b.html").exists()  # staged, not yet written
        s.write(fw("a/b.html", b"one"))
    owned = ledger.owned()["a/b.html"]
    assert (owned.sha256, owned.key) == (sha(b"one"), "k")
    assert ledger.state.unfinished_files(TARGET) == []
    assert ledger.observe() == {"a/b.html": "ok"}


def test_a_write_that_was_not_staged_is_refused(ledger: Ledger) -> None:
    with pytest.raises(Exception, match="without being recorded first"), ledger.session() as s:
        s.write(fw("x.html", b"x"))
    assert not (ledger.writer.root / "x.html").exists()


def test_an_exception_in_a_session_leaves_pending_rows_for_settle(ledger: Ledger) -> None:
    with ledger.session() as s:
        s.stage([fw("p.html", b"old")])
        s.write(fw("p.html", b"old"))
    with pytest.raises(RuntimeError), ledger.session() as s:
        s.stage([fw("p.html", b"new"), fw("q.html", b"q")])
        s.write(fw("p.html", b"new"))
        raise RuntimeError("killed")
    assert {r.path for r in ledger.state.unfinished_files(TARGET)} == {"p.html", "q.html"}
    ledger.settle()
    assert ledger.state.unfinished_files(TARGET) == []
    owned = ledger.owned()
    assert owned["p.html"].sha256 == sha(b"new")  # the new bytes reached the disk
    assert "q.html" not in owned  # never written: forgotten, made again by the planner


def test_delete_removes_only_our_bytes(ledger: Ledger) -> None:
    with ledger.session() as s:
        s.stage([fw("ours.html", b"a"), fw("edited.html", b"b")])
        s.write(fw("ours.html", b"a"))
        s.write(fw("edited.html", b"b"))
    (ledger.writer.root / "edited.html").write_bytes(b"by hand")
    with ledger.session() as s:
        s.stage([], ["ours.html", "edited.html", "gone.html"])
        assert s.delete("ours.html") == "deleted"
        assert s.delete("edited.html") == "edited"
        assert s.delete("gone.html") == "missing"
    assert not (ledger.writer.root / "ours.html").exists()
    assert (ledger.writer.root / "edited.html").read_bytes() == b"by hand"  # left alone
    assert ledger.owned() == {}  # and no longer owned


def test_a_create_never_replaces_a_file_that_is_not_ours(ledger: Ledger) -> None:
    (ledger.writer.root).mkdir(parents=True)
    (ledger.writer.root / "taken.md").write_bytes(b"someone's")
    with ledger.session() as s:
        s.stage([fw("taken.md", b"ours", create_only=True)])
        assert s.write(fw("taken.md", b"ours", create_only=True)) is None
    assert s.refused == ["taken.md"]
    assert (ledger.writer.root / "taken.md").read_bytes() == b"someone's"
    assert ledger.owned() == {} and ledger.state.unfinished_files(TARGET) == []


def test_settle_a_migrated_page_recorded_before_its_first_write(ledger: Ledger) -> None:
    """Migration 5 turns an old site_pages row with key "" (recorded before the page's first
    write, no hash) into a pending row with no hashes. The file there is the one the old
    build wrote: it becomes owned with its bytes (and no key), so the next build renders it
    again or deletes it, and never leaves it behind owned by nobody."""
    page = ledger.writer.root / "posts/x.html"
    page.parent.mkdir(parents=True)
    page.write_bytes(b"written by a killed v4 build")
    with ledger.state.transaction() as tx:
        ledger.state.mark_pending(tx, TARGET, [FileWrite("posts/x.html", b"", "", "")])
        tx.execute("UPDATE files SET pending_sha256 = NULL WHERE path = 'posts/x.html'")
    (ledger.writer.root / "posts/.feedsite-1-0.tmp").write_bytes(b"half")
    ledger.settle()
    owned = ledger.owned()["posts/x.html"]
    assert (owned.sha256, owned.key) == (sha(b"written by a killed v4 build"), "")
    assert sorted(p.name for p in page.parent.iterdir()) == ["x.html"]  # temp file gone
    with ledger.session() as s:
        s.stage([], ["posts/x.html"])
        assert s.delete("posts/x.html") == "deleted"
