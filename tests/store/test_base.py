"""The base: open, snapshot, migrations, transactions, and every sqlite3 error wrapped."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from feedsite._records import FileWrite
from feedsite._store import State, Tx
from feedsite._store._schema import SCHEMA_VERSION
from feedsite.errors import StateError
from tests.store.records import FEED, intent


def version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_open_creates_and_migrates_then_reopens(state_path: Path) -> None:
    with State.open(state_path) as state:
        assert state.path == state_path
        assert state.items() == {}
    assert version(state_path) == SCHEMA_VERSION
    with State.open(state_path, create=False) as state:
        assert state.feeds() == {}


def test_open_without_create_needs_a_state(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no state at"):
        State.open(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()


def test_a_newer_schema_is_refused(state_path: Path) -> None:
    State.open(state_path).close()
    with sqlite3.connect(state_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="newer than this feedsite"):
        State.open(state_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"not a database, just some text" * 200)
    with pytest.raises(StateError, match=str(path)):
        State.open(path)
    with pytest.raises(StateError, match=str(path)):
        State.snapshot(path)


def test_snapshot_of_no_state_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "state.sqlite"
    with State.snapshot(path) as state:
        assert state.items() == {}
        with state.transaction() as tx:
            state.record_items(tx, [intent(1)])
        assert len(state.items()[FEED]) == 1
    assert not path.parent.exists()


def test_snapshot_reads_a_copy_and_writes_nothing_beside_the_file(state_path: Path) -> None:
    with State.open(state_path) as state, state.transaction() as tx:
        state.record_items(tx, [intent(1)])
    before = {p.name: p.read_bytes() for p in state_path.parent.iterdir()}
    assert not any(name.endswith(("-wal", "-shm")) for name in before)
    with State.snapshot(state_path) as copy:
        assert [i.item_id for i in copy.items()[FEED]] == ["i1"]
        with copy.transaction() as tx:
            copy.record_items(tx, [intent(2)])
        assert len(copy.items()[FEED]) == 2
    assert {p.name: p.read_bytes() for p in state_path.parent.iterdir()} == before


def test_snapshot_reads_through_a_wal_left_by_another_connection(state_path: Path) -> None:
    with State.open(state_path) as writer:
        with writer.transaction() as tx:
            writer.record_items(tx, [intent(1)])
        assert state_path.with_name(state_path.name + "-wal").exists()
        with State.snapshot(state_path) as copy:
            assert [i.item_id for i in copy.items()[FEED]] == ["i1"]


def test_a_transaction_commits_everything_or_nothing(state: State) -> None:
    with pytest.raises(RuntimeError), state.transaction() as tx:
        state.record_items(tx, [intent(1)])
        state.mark_pending(tx, "hexo", [FileWrite("a.md", b"a", "sha-a", "k")])
        raise RuntimeError("the caller failed")
    assert state.items() == {}
    assert state.unfinished_files("hexo") == []
    with state.transaction() as tx:
        state.record_items(tx, [intent(1)])
        state.mark_pending(tx, "hexo", [FileWrite("a.md", b"a", "sha-a", "k")])
    assert len(state.items()[FEED]) == 1
    assert [f.path for f in state.unfinished_files("hexo")] == ["a.md"]


def test_a_transaction_cannot_be_used_after_it_ended(state: State) -> None:
    with state.transaction() as tx:
        pass
    kept: Tx = tx
    with pytest.raises(StateError, match="after it ended"):
        state.record_items(kept, [intent(1)])


def test_a_failed_write_is_wrapped_and_rolled_back(state: State, state_path: Path) -> None:
    with pytest.raises(StateError, match=str(state_path)) as caught, state.transaction() as tx:
        state.record_items(tx, [intent(1)])
        tx.execute("INSERT INTO files (target, path, state) VALUES ('hexo', 'a', 'bogus')")
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    assert state.items() == {}
    with state.transaction() as tx:  # the connection is usable again
        state.record_items(tx, [intent(1)])
    assert len(state.items()[FEED]) == 1


def test_a_nested_transaction_is_a_state_error(state: State) -> None:
    with pytest.raises(StateError), state.transaction():
        state.set_item_status(FEED, "i1", "removed")  # its own transaction: refused


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s.feeds(),
        lambda s: s.feed_rows(),
        lambda s: s.instance_failures(),
        lambda s: s.items(),
        lambda s: s.items_of(FEED),
        lambda s: s.items_by_id("i1"),
        lambda s: s.item_data([(FEED, "i1")]),
        lambda s: s.bodies([(FEED, "i1")]),
        lambda s: s.live_items([FEED], "v1"),
        lambda s: s.files("hexo"),
        lambda s: s.files_of("hexo", FEED),
        lambda s: s.unfinished_files("hexo"),
        lambda s: s.site_card_counts(),
    ],
)
def test_a_read_on_a_closed_state_is_a_state_error(state_path: Path, read: object) -> None:
    state = State.open(state_path)
    with state.transaction() as tx:
        state.record_items(tx, [intent(1)])
    state.close()
    with pytest.raises(StateError, match=str(state_path)) as caught:
        read(state)  # type: ignore[operator]
    assert isinstance(caught.value.__cause__, sqlite3.Error)


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.set_item_status(FEED, "i1", "removed"),
        lambda s: s.settle_file("hexo", "a.md", "gone"),
        lambda s: s.refresh_stat("hexo", "a.md", 1, 2),
        lambda s: s.forget_stale_site_cards(),
        lambda s: s.transaction().__enter__(),
    ],
)
def test_a_write_on_a_closed_state_is_a_state_error(state_path: Path, write: object) -> None:
    state = State.open(state_path)
    state.close()
    with pytest.raises(StateError, match=str(state_path)):
        write(state)  # type: ignore[operator]


def test_a_read_of_a_damaged_file_is_a_state_error(state_path: Path) -> None:
    with State.open(state_path) as state, state.transaction() as tx:
        state.record_items(tx, [intent(n, body="<p>" + "x" * 3000 + "</p>") for n in range(300)])
    size = state_path.stat().st_size
    assert size > 100_000
    with open(state_path, "r+b") as f:  # the schema (page 1) is intact; item pages are not
        f.seek(size // 2)
        f.write(b"\xff" * (size // 2))
    with State.open(state_path) as state, pytest.raises(StateError, match=str(state_path)):
        state.items()


_RSS_OF_A_SNAPSHOT = """
import resource, sys
from pathlib import Path
from feedsite._store import State
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with State.snapshot(Path(sys.argv[1])) as copy:
    n = copy._conn.execute("SELECT count(*), sum(length(x)) FROM ballast").fetchone()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n[0], n[1], (after - before) // 1024)
"""


def test_a_snapshot_does_not_hold_the_state_in_memory(state_path: Path) -> None:
    # 64 MB of incompressible rows beside a real state: a copy in memory would grow the
    # process by at least that; SQLite's temporary database keeps its page cache only.
    State.open(state_path).close()
    with sqlite3.connect(state_path) as db:
        db.execute("CREATE TABLE ballast (x BLOB)")
        db.executemany("INSERT INTO ballast VALUES (randomblob(1048576))", [()] * 64)
    out = subprocess.run(
        [sys.executable, "-c", _RSS_OF_A_SNAPSHOT, str(state_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    rows, size, grown_mb = map(int, out)
    assert (rows, size) == (64, 64 * 1048576)  # the whole state was copied and read
    assert grown_mb < 24, f"the snapshot grew the process by {grown_mb} MB"
