"""Migration 4 → 5: ``posts`` and ``site_pages`` move into the one ledger, ``files``, and
nothing else changes. The schema-4 state is built from the migrations' own SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from feedsite._records import OwnedFile, UnfinishedFile
from feedsite._store import State
from feedsite._store._schema import MIGRATIONS, SCHEMA_VERSION
from feedsite.errors import StateError

K = '["c", "s", "f"]'
T = "2026-11-01T12:00:00+00:00"

#: base_url, content_html, summary_html, description_raw, body_clean, clean_key.
DATA = ("https://e/", "<p>c</p>", "<p>s</p>", " r ", "<p>clean</p>", "ck")

#: Rows of every schema-4 table but the two that move.
KEPT: dict[str, list[tuple[object, ...]]] = {
    "feeds": [
        (K, "https://hub/", T, T, "ok", None, 0, None),
        ('["c", "s", "g"]', None, T, None, "failed", "HTTP 500", 3, T),
    ],
    "validators": [(K, "https://hub/", '"etag"', "Sun, 01 Nov 2026 00:00:00 GMT")],
    "items": [
        (K, "i1", "live", T, 0, T, "h1", "g1", "https://e/1", "标题", "a", '["x.png"]', *DATA),
        (K, "i2", "seen", T, 1, None, "h2", *[None] * 10, ""),
        (K, "i3", "pruned", T, 2, T, "h3", "g3", None, "t3", None, "[]", *[None] * 5, "ck"),
    ],
    "instances": [("https://hub/", 2, T, T, "timeout")],
    "site_cards": [(K, "i1", "v1:h1.ck", "excerpt", "zh", None)],
}

POSTS = [  # target, path, feed_key, item_id, state, sha256, render_key, size, mtime_ns,
    #          pending_sha256, pending_render_key
    ("hexo", "c/s/written.md", K, "i1", "written", "s1", "rk1", 10, 1000, None, None),
    ("hexo", "c/s/new.md", K, "i4", "pending", None, None, None, None, "s4", "rk4"),
    ("hexo", "c/s/rewrite.md", K, "i5", "pending", "s5", "rk5", 50, 5000, "s5b", "rk5b"),
    ("hexo", "c/s/deleting.md", K, "i6", "deleting", "s6", "rk6", 60, 6000, None, None),
    ("hexo", "c/s/nostat.md", K, "i7", "written", "s7", "rk7", None, None, None, None),
]
PAGES = [  # path, input_key, sha256
    ("index.html", "ik1", "p1"),
    ("posts/a.html", "ik2", "p2"),
    ("posts/new.html", "", ""),  # recorded before its first write
]

FILES = (
    "target, path, feed_key, item_id, state, sha256, key, size, mtime_ns,"
    " pending_sha256, pending_key"
)


def schema_4(path: Path) -> None:
    """A state at schema 4 (the migrations' own SQL), filled with rows of every table."""
    with sqlite3.connect(path) as db:
        for migration in MIGRATIONS[:4]:
            for statement in migration:
                db.execute(statement)
        for table, rows in KEPT.items():
            db.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)
        db.executemany(f"INSERT INTO posts VALUES ({','.join('?' * 11)})", POSTS)
        db.executemany("INSERT INTO site_pages VALUES (?,?,?)", PAGES)
        db.execute("PRAGMA user_version = 4")
    db.close()


def dump(path: Path, tables: Iterable[str]) -> dict[str, list[tuple[object, ...]]]:
    """Every row of ``tables``; ``items`` without the columns later migrations add."""
    with sqlite3.connect(path) as db:
        out = {
            t: sorted(
                tuple(v for k, v in zip(_names(db, t), row, strict=True) if k != "image_urls")
                for row in db.execute(f"SELECT * FROM {t}").fetchall()
            )
            for t in tables
        }
    db.close()
    return out


def _names(db: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


@pytest.mark.parametrize("opener", [State.open, State.snapshot], ids=["open", "snapshot"])
def test_posts_and_site_pages_move_into_files(
    tmp_path: Path, opener: Callable[[Path], State]
) -> None:
    path = tmp_path / "state.sqlite"
    schema_4(path)
    kept_before = dump(path, KEPT)
    assert SCHEMA_VERSION >= 5  # later migrations (6: images) come after this one

    with opener(path) as state:
        rows = sorted(state._query(f"SELECT {FILES} FROM files"))
        tables = {r[0] for r in state._query("SELECT name FROM sqlite_master WHERE type='table'")}
        version = state._query("PRAGMA user_version")[0][0]
        hexo, native = state.files("hexo"), state.files("native")
        unfinished = state.unfinished_files("hexo") + state.unfinished_files("native")
        # The columns of schema 4 (migration 6 adds items.image_urls, NULL for old rows).
        kept_after = {
            t: sorted(
                tuple(r)[: len(kept_before[t][0])] for r in state._query(f"SELECT * FROM {t}")
            )
            for t in KEPT
        }

    assert version == SCHEMA_VERSION
    assert "posts" not in tables and "site_pages" not in tables
    assert kept_after == kept_before  # every feed, validator, item, instance and card
    assert rows == sorted(
        [
            *POSTS,  # as they were
            ("native", "index.html", None, None, "written", "p1", "ik1", 0, 0, None, None),
            ("native", "posts/a.html", None, None, "written", "p2", "ik2", 0, 0, None, None),
            ("native", "posts/new.html", None, None, "pending", None, None, 0, 0, None, None),
        ]
    )
    assert hexo == {
        "c/s/written.md": OwnedFile("hexo", "c/s/written.md", "s1", "rk1", 10, 1000, K, "i1"),
        "c/s/nostat.md": OwnedFile("hexo", "c/s/nostat.md", "s7", "rk7", 0, 0, K, "i7"),
    }
    assert native == {
        "index.html": OwnedFile("native", "index.html", "p1", "ik1", 0, 0),
        "posts/a.html": OwnedFile("native", "posts/a.html", "p2", "ik2", 0, 0),
    }
    assert sorted(unfinished, key=lambda u: (u.target, u.path)) == [
        UnfinishedFile("hexo", "c/s/deleting.md", "deleting", "s6", None),
        UnfinishedFile("hexo", "c/s/new.md", "pending", None, "s4"),
        UnfinishedFile("hexo", "c/s/rewrite.md", "pending", "s5", "s5b"),
        UnfinishedFile("native", "posts/new.html", "pending", None, None),
    ]
    if opener is State.snapshot:  # the file itself is untouched
        assert dump(path, ["posts", "site_pages"]) == {
            "posts": sorted(POSTS),
            "site_pages": sorted(PAGES),
        }


def test_the_migrated_ledger_carries_on(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    schema_4(path)
    with State.open(path) as state:
        state.settle_file("hexo", "c/s/rewrite.md", "new", 51, 5100)
        state.settle_file("native", "posts/new.html", "gone")
        with state.transaction() as tx:
            state.forget_files(tx, "hexo", ["c/s/deleting.md"])
        assert state.files("hexo")["c/s/rewrite.md"] == OwnedFile(
            "hexo", "c/s/rewrite.md", "s5b", "rk5b", 51, 5100, K, "i5"
        )
        assert [u.path for u in state.unfinished_files("hexo")] == ["c/s/new.md"]
        assert state.unfinished_files("native") == []
    with State.open(path) as state:  # migrated once
        assert len(state.files("native")) == 2


def test_a_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    schema_4(path)
    with sqlite3.connect(path) as db:  # a table in the way of migration 5
        db.execute("CREATE TABLE files (x)")
    db.close()
    with pytest.raises(StateError, match="files"):
        State.open(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
        assert db.execute("SELECT count(*) FROM posts").fetchone()[0] == len(POSTS)
    db.close()
