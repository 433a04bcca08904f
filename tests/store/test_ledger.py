"""The ledger's rows through the protocol: pending → written, settled after a kill,
deleting → forgotten; one table for every target."""

from __future__ import annotations

import pytest

from feedsite._records import FileWrite, OwnedFile, UnfinishedFile
from feedsite._store import State
from tests.store.records import FEED, OTHER, intent


def post(path: str, sha: str, key: str = "rk", item: str = "i1") -> FileWrite:
    return FileWrite(path, sha.encode(), sha, key, FEED, item)


def page(path: str, sha: str, key: str = "ik") -> FileWrite:
    return FileWrite(path, sha.encode(), sha, key)


def write(state: State, target: str, *writes: FileWrite) -> None:
    """The whole protocol for ``writes``, as the ledger carries it out."""
    with state.transaction() as tx:
        state.mark_pending(tx, target, writes)
    with state.transaction() as tx:
        state.mark_written(tx, target, [(w.path, len(w.data), 10 + len(w.data)) for w in writes])


def test_pending_then_written(state: State) -> None:
    with state.transaction() as tx:
        state.mark_pending(tx, "hexo", [post("a/x.md", "s1")])
    assert state.files("hexo") == {}
    assert state.unfinished_files("hexo") == [
        UnfinishedFile("hexo", "a/x.md", "pending", None, "s1")
    ]
    with state.transaction() as tx:
        state.mark_written(tx, "hexo", [("a/x.md", 2, 12)])
    assert state.files("hexo") == {
        "a/x.md": OwnedFile("hexo", "a/x.md", "s1", "rk", 2, 12, FEED, "i1")
    }
    assert state.unfinished_files("hexo") == []


def test_a_rewrite_keeps_the_old_bytes_recorded_until_written(state: State) -> None:
    write(state, "hexo", post("x.md", "s1", "k1"))
    with state.transaction() as tx:
        state.mark_pending(tx, "hexo", [post("x.md", "s2", "k2")])
    assert state.unfinished_files("hexo") == [UnfinishedFile("hexo", "x.md", "pending", "s1", "s2")]
    assert state.files("hexo") == {}  # not written: the ledger's reader settles it first
    with state.transaction() as tx:
        state.mark_written(tx, "hexo", [("x.md", 5, 99)])
    assert state.files("hexo")["x.md"] == OwnedFile("hexo", "x.md", "s2", "k2", 5, 99, FEED, "i1")


def test_mark_written_only_finishes_pending_rows(state: State) -> None:
    write(state, "hexo", post("x.md", "s1", "k1"))
    with state.transaction() as tx:
        state.mark_written(tx, "hexo", [("x.md", 7, 7)])  # nothing pending: no change
    assert state.files("hexo")["x.md"].sha256 == "s1"


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("new", OwnedFile("hexo", "x.md", "s2", "k2", 3, 33, FEED, "i1")),
        ("old", OwnedFile("hexo", "x.md", "s1", "k1", 3, 33, FEED, "i1")),
        ("gone", None),
    ],
)
def test_settle_a_pending_rewrite(state: State, outcome: str, expected: OwnedFile | None) -> None:
    write(state, "hexo", post("x.md", "s1", "k1"))
    with state.transaction() as tx:
        state.mark_pending(tx, "hexo", [post("x.md", "s2", "k2")])
    state.settle_file("hexo", "x.md", outcome, size=3, mtime_ns=33)  # type: ignore[arg-type]
    assert state.unfinished_files("hexo") == []
    assert state.files("hexo").get("x.md") == expected
    if outcome == "old":  # the pending bytes are dropped
        with state.transaction() as tx:
            state.mark_written(tx, "hexo", [("x.md", 1, 1)])
        assert state.files("hexo")["x.md"].sha256 == "s1"


def test_settle_a_new_file_never_written(state: State) -> None:
    with state.transaction() as tx:
        state.mark_pending(tx, "native", [page("index.html", "s1")])
    state.settle_file("native", "index.html", "new", 4, 44)
    assert state.files("native") == {
        "index.html": OwnedFile("native", "index.html", "s1", "ik", 4, 44)
    }


def test_deleting_then_forgotten(state: State) -> None:
    write(state, "hexo", post("x.md", "s1"), post("y.md", "s2", item="i2"))
    with state.transaction() as tx:
        state.mark_deleting(tx, "hexo", ["x.md"])
    assert state.unfinished_files("hexo") == [
        UnfinishedFile("hexo", "x.md", "deleting", "s1", None)
    ]
    assert list(state.files("hexo")) == ["y.md"]
    with state.transaction() as tx:
        state.forget_files(tx, "hexo", ["x.md"])
    assert state.unfinished_files("hexo") == []
    assert list(state.files("hexo")) == ["y.md"]


def test_settle_a_deleting_row_gone(state: State) -> None:
    write(state, "hexo", post("x.md", "s1"))
    with state.transaction() as tx:
        state.mark_deleting(tx, "hexo", ["x.md"])
    state.settle_file("hexo", "x.md", "gone")
    assert state.files("hexo") == {}
    assert state.unfinished_files("hexo") == []


def test_targets_are_apart(state: State) -> None:
    write(state, "hexo", post("index.html", "h"))
    write(state, "native", page("index.html", "n"))
    assert state.files("hexo")["index.html"].sha256 == "h"
    assert state.files("native")["index.html"].sha256 == "n"
    with state.transaction() as tx:
        state.forget_files(tx, "hexo", ["index.html"])
    assert state.files("hexo") == {}
    assert list(state.files("native")) == ["index.html"]


def test_refresh_stat(state: State) -> None:
    write(state, "hexo", post("x.md", "s1"))
    state.refresh_stat("hexo", "x.md", 123, 456)
    got = state.files("hexo")["x.md"]
    assert (got.size, got.mtime_ns, got.sha256) == (123, 456, "s1")


def test_files_of_a_feed_or_item(state: State) -> None:
    write(
        state,
        "hexo",
        post("a.md", "1", item="i1"),
        post("b.md", "2", item="i2"),
        FileWrite("c.md", b"3", "3", "k", OTHER, "i1"),
        page("page.html", "4"),
    )
    with state.transaction() as tx:
        state.mark_pending(tx, "hexo", [post("d.md", "5", item="i1")])  # not written yet
    assert sorted(state.files_of("hexo", FEED)) == ["a.md", "b.md"]
    assert list(state.files_of("hexo", FEED, "i1")) == ["a.md"]
    assert list(state.files_of("hexo", OTHER, "i1")) == ["c.md"]
    assert state.files_of("native", FEED) == {}


def test_items_feeds_and_ledger_rows_commit_together(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1)])
        state.mark_pending(tx, "hexo", [post("x.md", "s1")])
        state.mark_deleting(tx, "hexo", ["none.md"])  # not recorded: nothing to mark
    assert [i.item_id for i in state.items_of(FEED)] == ["i1"]
    assert [f.path for f in state.unfinished_files("hexo")] == ["x.md"]
