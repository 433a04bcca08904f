"""Store stage: feedsite's state in one SQLite file. A DAO: no business logic.

Reads return ``Stored*`` records; writes take intents decided elsewhere.
Timestamps are stored as ISO 8601 UTC strings. ``sqlite3`` errors are wrapped
into :class:`~feedsite.errors.StateError` here and nowhere else.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from feedsite._records import (
    CachedValidators,
    FeedIntent,
    InstanceIntent,
    ItemData,
    ItemIntent,
    ItemStatus,
    StoredFeed,
    StoredItem,
    StoredPost,
)
from feedsite.errors import StateError
from feedsite.types import ParsedItem

from ._schema import MIGRATIONS, SCHEMA_VERSION

#: Characters of a body read for excerpts (and, from the first ``<img``, for covers).
_HEAD_CHARS = 2000


@dataclass(frozen=True, slots=True)
class LiveItem:
    """A live item as the static site lists it: metadata and the start of its body."""

    feed_key: str
    item_id: str
    first_seen: datetime
    seq: int
    date: datetime | None
    content_hash: str
    clean_key: str
    link: str | None
    title: str
    author: str | None
    images: tuple[str, ...]
    #: The site's cached card for this version of the item (None: compute it anew).
    card: SiteCard | None
    #: Without a card: the first characters of the cleaned body (for excerpts).
    body_head: str
    #: Without a card: the cleaned body from its first ``<img`` on (a few characters).
    first_img: str | None

    @property
    def source_key(self) -> str:
        """The version of the item a card derives from (its body and title)."""
        return f"{self.content_hash}.{self.clean_key}"


@dataclass(frozen=True, slots=True)
class SiteCard:
    """What the static site derived from an item's body (cached in ``site_cards``)."""

    feed_key: str
    item_id: str
    source_key: str
    excerpt: str
    lang: str
    first_img_src: str | None


#: A pending post's bytes reached the disk: they become the recorded ones.
_MARK_WRITTEN = (
    "UPDATE posts SET state='written', sha256=pending_sha256, render_key=pending_render_key,"
    " size=?, mtime_ns=?, pending_sha256=NULL, pending_render_key=NULL"
    " WHERE target=? AND path=?"
)


def _key(item: LiveItem) -> tuple[str, str]:
    return (item.feed_key, item.item_id)


def _ts(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class State:
    """The state database. Open with :meth:`open`; use as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> State:
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
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            return cls._ready(conn, path)
        except sqlite3.Error as e:
            raise StateError(f"cannot open state {path}: {e}") from e

    @classmethod
    def snapshot(cls, path: Path) -> State:
        """A private in-memory copy of the state at ``path`` (empty when there is none).

        For ``run --dry-run``: the file, its folder, its WAL and lock files are neither
        created nor written; migrations run on the copy only.

        Raises:
            StateError: the file is not a feedsite state or cannot be read.
        """
        try:
            conn = sqlite3.connect(":memory:", isolation_level=None)
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
    def _ready(cls, conn: sqlite3.Connection, path: Path) -> State:
        """The state on an open connection: foreign keys on, migrated."""
        conn.execute("PRAGMA foreign_keys=ON")
        state = cls(conn, path)
        state._migrate()
        return state

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StateError(
                f"state {self.path} has schema {version},"
                f" newer than this feedsite ({SCHEMA_VERSION})"
            )
        for number in range(version, SCHEMA_VERSION):
            with self._transaction():
                for statement in MIGRATIONS[number]:
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise StateError(f"state {self.path}: {e}") from e

    # -- reads -------------------------------------------------------------

    def feeds(self) -> dict[str, StoredFeed]:
        """Every feed the state knows, by key."""
        validators: dict[str, dict[str, CachedValidators]] = defaultdict(dict)
        for key, source, etag, modified in self._conn.execute(
            "SELECT feed_key, source, etag, last_modified FROM validators"
        ):
            validators[key][source] = CachedValidators(etag, modified)
        return {
            key: StoredFeed(
                key,
                preferred,
                dict(validators[key]),
                _dt(success),
                failures,
                _dt(next_attempt),
                status,
            )
            for key, preferred, success, failures, next_attempt, status in self._conn.execute(
                "SELECT key, preferred_source, last_success, consecutive_failures, next_attempt,"
                " last_status FROM feeds"
            )
        }

    def instance_failures(self) -> dict[str, int]:
        """Consecutive failures of every RSSHub instance seen so far, by label."""
        return dict(self._conn.execute("SELECT label, consecutive_failures FROM instances"))

    def instance_rows(self) -> list[dict[str, Any]]:
        """Instance rows as dicts, for status displays."""
        cur = self._conn.execute("SELECT * FROM instances ORDER BY label")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def feed_rows(self) -> list[dict[str, Any]]:
        """Feed rows as dicts, for status displays."""
        cur = self._conn.execute("SELECT * FROM feeds ORDER BY key")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def items(self) -> dict[str, list[StoredItem]]:
        """Every item's metadata, grouped by feed key."""
        out: dict[str, list[StoredItem]] = defaultdict(list)
        for row in self._conn.execute(
            "SELECT feed_key, item_id, status, first_seen, seq, date, content_hash, clean_key"
            " FROM items"
        ):
            feed_key, item_id, status, first_seen, seq, date, content_hash, clean_key = row
            out[feed_key].append(
                StoredItem(
                    feed_key,
                    item_id,
                    cast(ItemStatus, status),
                    datetime.fromisoformat(first_seen),
                    seq,
                    _dt(date),
                    content_hash,
                    clean_key,
                )
            )
        return dict(out)

    def item_data(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ItemData]:
        """Full stored data of the given (feed_key, item_id) items."""
        out: dict[tuple[str, str], ItemData] = {}
        for feed_key, item_id in keys:
            row = self._conn.execute(
                "SELECT guid, link, title, date, author, images, base_url, content_html,"
                " summary_html, description_raw, body_clean, clean_key"
                " FROM items WHERE feed_key = ? AND item_id = ?",
                (feed_key, item_id),
            ).fetchone()
            if row is None or row[2] is None:
                continue
            out[(feed_key, item_id)] = ItemData(
                ParsedItem(
                    guid=row[0],
                    link=row[1],
                    title=row[2],
                    date=_dt(row[3]),
                    author=row[4],
                    images=tuple(json.loads(row[5] or "[]")),
                    base_url=row[6],
                    content_html=row[7],
                    summary_html=row[8],
                    description_raw=row[9],
                ),
                body_clean=row[10] or "",
                clean_key=row[11],
            )
        return out

    def posts(self, target: str) -> dict[str, StoredPost]:
        """Posts recorded as written for ``target``, by path."""
        return {
            path: StoredPost(path, feed_key, item_id, sha, rkey or "", size or 0, mtime or 0)
            for path, feed_key, item_id, sha, rkey, size, mtime in self._conn.execute(
                "SELECT path, feed_key, item_id, sha256, render_key, size, mtime_ns FROM posts"
                " WHERE target = ? AND state = 'written'",
                (target,),
            )
        }

    def unfinished_posts(
        self, target: str
    ) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """Rows a crashed run left: (path, state, sha256, pending_sha256, pending_render_key)."""
        return list(
            self._conn.execute(
                "SELECT path, state, sha256, pending_sha256, pending_render_key FROM posts"
                " WHERE target = ? AND state != 'written'",
                (target,),
            )
        )

    def items_by_id(self, item_id: str) -> list[tuple[str, str]]:
        """(feed_key, status) of every item with this id."""
        return list(
            self._conn.execute("SELECT feed_key, status FROM items WHERE item_id = ?", (item_id,))
        )

    def posts_of_item(self, target: str, feed_key: str, item_id: str) -> list[StoredPost]:
        return [
            p
            for p in self.posts(target).values()
            if p.feed_key == feed_key and p.item_id == item_id
        ]

    # -- reads for the static site (feedsite build) ----------------------------

    def live_items(self, feed_keys: Iterable[str], card_version: str) -> list[LiveItem]:
        """Every live item of the given feeds, without full bodies (see :class:`LiveItem`).

        One scan of a covering index; the start of the body is read only for items
        without an up-to-date card (one made by ``card_version`` from this version of the
        item: its ``source_key`` is ``<card_version>:<content_hash>.<clean_key>``).
        """
        wanted = set(feed_keys)
        out: list[LiveItem] = []
        stale: list[tuple[str, str]] = []
        for row in self._conn.execute(
            "SELECT i.feed_key, i.item_id, i.first_seen, i.seq, i.date, i.content_hash,"
            " i.clean_key, i.link, i.title, i.author, i.images,"
            " c.source_key, c.excerpt, c.lang, c.first_img_src"
            " FROM items i LEFT JOIN site_cards c"
            " ON c.feed_key = i.feed_key AND c.item_id = i.item_id"
            " WHERE i.status = 'live'"
        ):
            if row[0] not in wanted:
                continue
            source_key = f"{card_version}:{row[5]}.{row[6]}"
            card = None
            if row[11] == source_key:
                card = SiteCard(row[0], row[1], source_key, row[12], row[13], row[14])
            else:
                stale.append((row[0], row[1]))
            images = row[10]
            out.append(
                LiveItem(
                    feed_key=row[0],
                    item_id=row[1],
                    first_seen=datetime.fromisoformat(row[2]),
                    seq=row[3],
                    date=_dt(row[4]),
                    content_hash=row[5],
                    clean_key=row[6],
                    link=row[7],
                    title=row[8] or "",
                    author=row[9],
                    images=() if not images or images == "[]" else tuple(json.loads(images)),
                    card=card,
                    body_head="",
                    first_img=None,
                )
            )
        if stale:
            heads = self._body_heads(stale)
            out = [
                it if it.card is not None else replace(it, **heads.get(_key(it), {})) for it in out
            ]
        return out

    def _body_heads(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """``body_head`` and ``first_img`` (see :class:`LiveItem`) of the given items."""
        wanted = set(keys)
        ids = sorted({item_id for _feed, item_id in keys})
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for feed_key, item_id, head, img in self._conn.execute(
                "SELECT feed_key, item_id, substr(body_clean, 1, ?),"
                " CASE WHEN instr(body_clean, '<img') > 0"
                " THEN substr(body_clean, instr(body_clean, '<img'), ?) END"
                f" FROM items WHERE item_id IN ({','.join('?' * len(chunk))})",
                (_HEAD_CHARS, _HEAD_CHARS, *chunk),
            ):
                if (feed_key, item_id) in wanted:
                    out[(feed_key, item_id)] = {"body_head": head or "", "first_img": img}
        return out

    def record_site_cards(self, cards: Sequence[SiteCard]) -> None:
        """Cache new cards; forget those of items no longer live once they are 10 % extra."""
        if not cards:
            return
        with self._transaction() as c:
            c.executemany(
                "INSERT INTO site_cards (feed_key, item_id, source_key, excerpt, lang,"
                " first_img_src) VALUES (?,?,?,?,?,?) ON CONFLICT (feed_key, item_id) DO UPDATE"
                " SET source_key=excluded.source_key, excerpt=excluded.excerpt,"
                " lang=excluded.lang, first_img_src=excluded.first_img_src",
                [
                    (k.feed_key, k.item_id, k.source_key, k.excerpt, k.lang, k.first_img_src)
                    for k in cards
                ],
            )
            cached = c.execute("SELECT count(*) FROM site_cards").fetchone()[0]
            live = c.execute("SELECT count(*) FROM items WHERE status = 'live'").fetchone()[0]
            if cached > live * 1.1 + 100:  # now and then, not on every build
                c.execute(
                    "DELETE FROM site_cards WHERE NOT EXISTS (SELECT 1 FROM items i"
                    " WHERE i.feed_key = site_cards.feed_key AND i.item_id = site_cards.item_id"
                    " AND i.status = 'live')"
                )

    def bodies(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The cleaned bodies of the given (feed_key, item_id) items.

        Read feed by feed through the primary key, 500 at a time: rows of one feed sit
        together in the table.
        """
        by_feed: dict[str, list[str]] = defaultdict(list)
        for feed_key, item_id in set(keys):
            by_feed[feed_key].append(item_id)
        out: dict[tuple[str, str], str] = {}
        for feed_key, ids in by_feed.items():
            ids.sort()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for item_id, body in self._conn.execute(
                    "SELECT item_id, body_clean FROM items"
                    f" WHERE feed_key = ? AND item_id IN ({marks})",
                    (feed_key, *chunk),
                ):
                    out[(feed_key, item_id)] = body or ""
        return out

    def site_pages(self) -> dict[str, tuple[str, str]]:
        """The static site's manifest: path → (input_key, sha256)."""
        return {
            path: (key, sha)
            for path, key, sha in self._conn.execute(
                "SELECT path, input_key, sha256 FROM site_pages"
            )
        }

    def record_site_pages(
        self, upserts: Sequence[tuple[str, str, str]], deletes: Sequence[str]
    ) -> None:
        """Record pages (path, input_key, sha256) as written and forget ``deletes``."""
        with self._transaction() as c:
            c.executemany(
                "INSERT INTO site_pages (path, input_key, sha256) VALUES (?,?,?)"
                " ON CONFLICT (path) DO UPDATE SET input_key=excluded.input_key,"
                " sha256=excluded.sha256",
                upserts,
            )
            c.executemany("DELETE FROM site_pages WHERE path = ?", [(p,) for p in deletes])

    # -- writes ------------------------------------------------------------

    def begin_apply(
        self,
        target: str,
        *,
        feeds: Sequence[FeedIntent],
        items: Sequence[ItemIntent],
        forget_items: Sequence[tuple[str, str]],
        forget_feeds: Sequence[str],
        writes: Sequence[tuple[str, str, str, str, str]],
        deletes: Sequence[str],
        instances: Sequence[InstanceIntent] = (),
    ) -> None:
        """First half of applying a plan, in one transaction.

        Records feeds and items, and marks every post about to be written
        ``pending`` (``writes``: path, feed_key, item_id, sha256, render_key) and
        every post about to be deleted ``deleting`` — before any file changes.
        """
        with self._transaction() as c:
            for f in feeds:
                self._record_feed(c, f)
            for i in instances:
                self._record_instance(c, i)
            c.executemany(
                "INSERT INTO items (feed_key, item_id, status, first_seen, seq, date, content_hash,"
                " guid, link, title, author, images, base_url, content_html, summary_html,"
                " description_raw, body_clean, clean_key)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (feed_key, item_id) DO UPDATE SET status=excluded.status,"
                " first_seen=excluded.first_seen, seq=excluded.seq, date=excluded.date,"
                " content_hash=excluded.content_hash, guid=excluded.guid, link=excluded.link,"
                " title=excluded.title, author=excluded.author, images=excluded.images,"
                " base_url=excluded.base_url, content_html=excluded.content_html,"
                " summary_html=excluded.summary_html, description_raw=excluded.description_raw,"
                " body_clean=excluded.body_clean, clean_key=excluded.clean_key",
                [_item_row(i) for i in items if i.data is not None],
            )
            c.executemany(
                "INSERT INTO items (feed_key, item_id, status, first_seen, seq, date, content_hash)"
                " VALUES (?,?,?,?,?,?,?) ON CONFLICT (feed_key, item_id) DO UPDATE SET"
                # Date and hash too: the decider compares them, and a seen-only item whose
                # date changed was recorded again on every run (issue #11). A seen row's
                # stored body is never rendered (an item entering the window is cleaned
                # from the document), so a newer hash beside an older body is harmless.
                " status=excluded.status, seq=excluded.seq, date=excluded.date,"
                " content_hash=excluded.content_hash",
                [
                    (
                        i.feed_key,
                        i.item_id,
                        i.status,
                        _ts(i.first_seen),
                        i.seq,
                        _ts(i.date),
                        i.content_hash,
                    )
                    for i in items
                    if i.data is None
                ],
            )
            # Tombstones and seen-only items keep no bodies.
            c.executemany(
                "UPDATE items SET content_html=NULL, summary_html=NULL, description_raw=NULL,"
                " body_clean=NULL WHERE feed_key=? AND item_id=?"
                " AND status IN ('pruned','removed')",
                [(i.feed_key, i.item_id) for i in items if i.status in ("pruned", "removed")],
            )
            c.executemany("DELETE FROM items WHERE feed_key=? AND item_id=?", forget_items)
            for key in forget_feeds:
                c.execute("DELETE FROM items WHERE feed_key=?", (key,))
                c.execute("DELETE FROM validators WHERE feed_key=?", (key,))
                c.execute("DELETE FROM feeds WHERE key=?", (key,))
            c.executemany(
                "INSERT INTO posts (target, path, feed_key, item_id, state, pending_sha256,"
                " pending_render_key) VALUES (?,?,?,?,'pending',?,?)"
                " ON CONFLICT (target, path) DO UPDATE SET state='pending',"
                " feed_key=excluded.feed_key, item_id=excluded.item_id,"
                " pending_sha256=excluded.pending_sha256,"
                " pending_render_key=excluded.pending_render_key",
                [(target, *w) for w in writes],
            )
            c.executemany(
                "UPDATE posts SET state='deleting' WHERE target=? AND path=?",
                [(target, p) for p in deletes],
            )

    def finish_apply(
        self,
        target: str,
        *,
        written: Sequence[tuple[str, int, int]],
        deleted: Sequence[str],
        released: Sequence[str] = (),
    ) -> None:
        """Second half: files are on disk (and synced). ``written``: (path, size, mtime_ns)."""
        with self._transaction() as c:
            c.executemany(
                _MARK_WRITTEN,
                [(size, mtime, target, path) for path, size, mtime in written],
            )
            c.executemany(
                "DELETE FROM posts WHERE target=? AND path=?",
                [(target, p) for p in (*deleted, *released)],
            )

    def settle_post(
        self, target: str, path: str, *, outcome: str, size: int = 0, mtime_ns: int = 0
    ) -> None:
        """Resolve one row a crashed run left. ``outcome``: new | old | gone."""
        with self._transaction() as c:
            if outcome == "new":
                c.execute(
                    _MARK_WRITTEN,
                    (size, mtime_ns, target, path),
                )
            elif outcome == "old":
                c.execute(
                    "UPDATE posts SET state='written', size=?, mtime_ns=?, pending_sha256=NULL,"
                    " pending_render_key=NULL WHERE target=? AND path=?",
                    (size, mtime_ns, target, path),
                )
            else:
                c.execute("DELETE FROM posts WHERE target=? AND path=?", (target, path))

    def refresh_stat(self, target: str, path: str, size: int, mtime_ns: int) -> None:
        """Record a new stat for an unchanged file (e.g. touched, same bytes)."""
        with self._transaction() as c:
            c.execute(
                "UPDATE posts SET size=?, mtime_ns=? WHERE target=? AND path=?",
                (size, mtime_ns, target, path),
            )

    def set_item_status(self, feed_key: str, item_id: str, status: ItemStatus) -> None:
        with self._transaction() as c:
            c.execute(
                "UPDATE items SET status=?, content_html=NULL, summary_html=NULL,"
                " description_raw=NULL, body_clean=NULL WHERE feed_key=? AND item_id=?",
                (status, feed_key, item_id),
            )

    def release_post(self, target: str, path: str) -> None:
        with self._transaction() as c:
            c.execute("DELETE FROM posts WHERE target=? AND path=?", (target, path))

    @staticmethod
    def _record_feed(c: sqlite3.Connection, f: FeedIntent) -> None:
        c.execute("INSERT INTO feeds (key) VALUES (?) ON CONFLICT (key) DO NOTHING", (f.key,))
        succeeded = f.status in ("ok", "not_modified")
        c.execute(
            "UPDATE feeds SET last_attempt=?, last_status=?, last_error=?,"
            " consecutive_failures=?, next_attempt=?,"
            " last_success=CASE WHEN ? THEN ? ELSE last_success END,"
            " preferred_source=coalesce(?, preferred_source) WHERE key=?",
            (
                _ts(f.at),
                f.status,
                f.error,
                f.consecutive_failures,
                _ts(f.next_attempt),
                succeeded,
                _ts(f.at),
                f.source if succeeded else None,
                f.key,
            ),
        )
        if succeeded and f.source is not None and f.validators is not None:
            c.execute(
                "INSERT INTO validators (feed_key, source, etag, last_modified) VALUES (?,?,?,?)"
                " ON CONFLICT (feed_key, source) DO UPDATE SET etag=excluded.etag,"
                " last_modified=excluded.last_modified",
                (f.key, f.source, f.validators.etag, f.validators.last_modified),
            )

    @staticmethod
    def _record_instance(c: sqlite3.Connection, i: InstanceIntent) -> None:
        c.execute("INSERT INTO instances (label) VALUES (?) ON CONFLICT DO NOTHING", (i.label,))
        if i.ok:
            c.execute(
                "UPDATE instances SET consecutive_failures=0, last_success=? WHERE label=?",
                (_ts(i.at), i.label),
            )
        else:
            c.execute(
                "UPDATE instances SET consecutive_failures=consecutive_failures+1,"
                " last_failure=?, last_error=? WHERE label=?",
                (_ts(i.at), i.error, i.label),
            )


def _item_row(i: ItemIntent) -> tuple[object, ...]:
    assert i.data is not None
    d = i.data.item
    return (
        i.feed_key,
        i.item_id,
        i.status,
        _ts(i.first_seen),
        i.seq,
        _ts(i.date),
        i.content_hash,
        d.guid,
        d.link,
        d.title,
        d.author,
        json.dumps(list(d.images)),
        d.base_url,
        d.content_html,
        d.summary_html,
        d.description_raw,
        i.data.body_clean,
        i.data.clean_key,
    )
