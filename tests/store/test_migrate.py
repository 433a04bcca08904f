"""Migration 4 → 5: ``posts`` and ``site_pages`` move into the one ledger, ``files``, and
nothing else changes. The schema-4 state is built from the migrations' own SQL."""

from __future__ import annotations

import json
import random
import sqlite3
import struct
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from feedsite._records import OwnedFile, UnfinishedFile
from feedsite._store import State
from feedsite._store._bodies import pack, unpack
from feedsite._store._schema import MIGRATIONS, SCHEMA_VERSION
from feedsite.errors import StateError
from tests.store.records import FEED, intent

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

ITEM_COLUMNS_4 = (
    "feed_key, item_id, status, first_seen, seq, date, content_hash, guid, link, title,"
    " author, images, base_url, content_html, summary_html, description_raw, body_clean,"
    " clean_key"
)

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


def items_at_schema_4(state: State) -> list[tuple[object, ...]]:
    """Every item row in the columns of schema 4, its bodies unpacked (migration 10)."""
    out = []
    for row in state._query(
        "SELECT i.feed_key, i.item_id, i.status, i.first_seen, i.seq, i.date, i.content_hash,"
        " i.guid, i.link, i.title, i.author, i.images, i.base_url, b.data, i.clean_key"
        " FROM items i LEFT JOIN bodies b ON b.id = i.body_id"
    ):
        bodies = (None,) * 4 if row[13] is None else unpack(row[13])
        out.append((*row[:13], *bodies, row[14]))
    return sorted(out)


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
        # The columns of schema 4 (migration 6 adds items.image_urls, NULL for old rows;
        # migration 10 packs the bodies into table bodies).
        kept_after = {
            t: sorted(
                tuple(r)[: len(kept_before[t][0])] for r in state._query(f"SELECT * FROM {t}")
            )
            for t in KEPT
            if t != "items"
        }
        kept_after["items"] = items_at_schema_4(state)

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


def _keys(*ks: int) -> bytes:
    return struct.pack(f"<{len(ks)}q", *ks)


def test_migration_10_packs_bodies_and_numbers_the_story_index(tmp_path: Path) -> None:
    """Schema 9 → 10 (issue #16): bodies into table ``bodies``, the story index by integer;
    every read gives what it gave before, and the index carries on."""
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as db:
        for migration in MIGRATIONS[:9]:
            for statement in migration:
                assert isinstance(statement, str)
                db.execute(statement)
        db.executemany(
            f"INSERT INTO items ({ITEM_COLUMNS_4}) VALUES ({','.join('?' * 18)})",
            KEPT["items"],
        )
        sig = [  # feed_key, item_id, time, priority, urls, titles, title, sketch, keys
            (K, "i1", 100, 0, "e/1", "t1", "t1", b"s1", _keys(7, 8)),
            (K, "i2", 50, 0, "e/2", "t2", "t2", b"s2", _keys(8, 9)),
            (K, "i3", 10, 1, "e/3", "t3", "t3", b"s3", _keys(10)),  # out of the index
        ]
        db.executemany(f"INSERT INTO story_items VALUES ({','.join('?' * 9)})", sig)
        db.executemany(
            "INSERT INTO story_keys VALUES (?,?,?)",
            [(k, r[0], r[1]) for r in sig[:2] for k in struct.unpack("<2q", r[8])],
        )
        db.execute("INSERT INTO story_links VALUES (?,?,?,?,?)", (K, "i1", K, "i2", "body"))
        db.execute("PRAGMA user_version = 9")
    db.close()
    items_before = sorted(KEPT["items"])

    with State.open(path) as state:
        assert items_at_schema_4(state) == items_before
        assert state.story_candidates([7, 8, 9, 10]) == {
            7: [(K, "i1")],
            8: sorted([(K, "i1"), (K, "i2")]),
            9: [(K, "i2")],
        }
        assert state.story_signatures([(K, "i1"), (K, "i2"), (K, "i3")]) == sorted(sig)
        assert state.story_graph().links == (((K, "i1"), (K, "i2"), "body"),)
        with state.transaction() as tx:  # the index carries on: i2 leaves it, i1 goes
            state.drop_story_keys_before(tx, 60)
            state.record_stories(tx, [], [], drop=[(K, "i1")])
        assert state.story_candidates([7, 8, 9, 10]) == {}
        assert state._query("SELECT count(*) FROM story_keys") == [(0,)]
        assert state.story_item_keys() == {(K, "i2"), (K, "i3")}
        # Out of the index, only what the stories need stays (time, priority).
        assert state._query(
            "SELECT time, priority, urls, title, length(sketch), length(keys) FROM story_items"
            " WHERE item_id = 'i2'"
        ) == [(50, 0, "", "", 0, 0)]
        with state.transaction() as tx:  # an item signed anew is found by its keys
            state.record_stories(tx, [sig[0]], [])
        assert state.story_candidates([8]) == {8: [(K, "i1")]}
        # One body row per item that has bodies, nothing left over.
        with_bodies = sum(any(v is not None for v in r[13:17]) for r in KEPT["items"])
        assert state._query("SELECT count(*) FROM bodies") == [(with_bodies,)]


def _pack_1(bodies: tuple[str | None, ...]) -> bytes:
    """Schema 10's stored form of an item's bodies (format 1: each distinct text once)."""
    texts: list[str] = []
    refs: list[int | None] = []
    for text in bodies:
        if text is not None and text not in texts:
            texts.append(text)
        refs.append(None if text is None else texts.index(text))
    data = json.dumps([texts, refs], ensure_ascii=False, separators=(",", ":"))
    return b"\x01" + zlib.compress(data.encode("utf-8"), 6)


def test_migration_11_repacks_bodies_and_reads_the_same(tmp_path: Path) -> None:
    """Schema 10 → 11 (issue #16): each body in format 2 (the cleaned body as a delta of
    the feed's), every read the same as before, the space given back."""
    path = tmp_path / "state.sqlite"
    rng = random.Random(11)
    words = "国产大模型发布新版本性能提升的一是了在人有我他这个们中来上为和地到以说时要就出"
    long = "".join(
        f'<p>{"".join(rng.choices(words, k=200))}<img src="/i/{n}.png"></p>' for n in range(200)
    )
    clean = long.replace('.png">', '.png" referrerpolicy="no-referrer">')
    with State.open(path) as state:
        with state.transaction() as tx:
            state.record_items(tx, [intent(n, body=f"<p>b{n}</p>") for n in range(1, 4)])
            state.record_items(tx, [intent(4, with_data=False)])
        keys = [(FEED, f"i{n}") for n in range(1, 5)]
        # Item 5: a long body whose cleaned copy zlib alone cannot find (> 32 KB away).
        with state.transaction() as tx:
            state.record_items(tx, [intent(5, body=clean)])
        keys.append((FEED, "i5"))
        state._conn.execute(
            "UPDATE bodies SET data = ? WHERE id = (SELECT body_id FROM items WHERE item_id='i5')",
            (pack((long, None, None, clean)),),
        )
        before = (state.item_data(keys), state.bodies(keys), state.live_items([FEED], "v"))
        for body_id, blob in state._query("SELECT id, data FROM bodies"):
            state._conn.execute(
                "UPDATE bodies SET data = ? WHERE id = ?", (_pack_1(unpack(blob)), body_id)
            )
        state._conn.execute("ALTER TABLE items DROP COLUMN extras")  # a schema-10 state
        state._conn.execute("PRAGMA user_version = 10")
        size_10 = sum(len(b) for (b,) in state._query("SELECT data FROM bodies"))
    with State.open(path) as state:
        assert state._query("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert (state.item_data(keys), state.bodies(keys), state.live_items([FEED], "v")) == before
        blobs = [b for (b,) in state._query("SELECT data FROM bodies")]
        assert len(blobs) == 4 and {b[:1] for b in blobs} == {b"\x02"}
        assert sum(map(len, blobs)) < size_10 * 0.7


def test_migration_12_adds_the_items_extras(tmp_path: Path) -> None:
    """A schema-11 state gains ``items.extras``: its items read back as before (no tags yet),
    and the next items keep theirs."""
    from dataclasses import replace

    from feedsite.types import Enclosure, Tag

    path = tmp_path / "state.sqlite"
    with State.open(path) as state:
        with state.transaction() as tx:
            state.record_items(tx, [intent(1), intent(2)])
        keys = [(FEED, "i1"), (FEED, "i2")]
        before = state.item_data(keys)
        state._conn.execute("ALTER TABLE items DROP COLUMN extras")
        state._conn.execute("PRAGMA user_version = 11")
    with State.open(path) as state:
        assert state._query("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert state.item_data(keys) == before
        base = intent(3).data
        assert base is not None
        item = replace(base.item, tags=(Tag("t"),), enclosures=(Enclosure("https://e.org/a.mp3"),))
        tagged = replace(intent(3), data=replace(base, item=item))
        with state.transaction() as tx:
            state.record_items(tx, [tagged])
        assert state.item_data([(FEED, "i3")])[(FEED, "i3")].item.tags == (Tag("t"),)
