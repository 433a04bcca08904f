"""State schema and forward migrations. Contains no business logic.

Each migration is a list of SQL statements run in one transaction; the
database's ``user_version`` is the number of migrations applied. Add new ones
at the end, never edit an old one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._bodies import is_current, pack, unpack

if TYPE_CHECKING:
    from ._base import Tx

#: A step of a migration: one SQL statement, or a function for what SQL cannot do.
Step = str | Callable[["Tx"], None]
#: Run after the migrations that include it, outside their transaction (gives back the
#: space of dropped copies).
VACUUM = "VACUUM"


def _pack_bodies(tx: Tx) -> None:
    """Migration 10: each item's four body columns into one packed ``bodies`` row."""
    last: tuple[str, str] = ("", "")
    while True:
        rows = tx.rows(
            "SELECT feed_key, item_id, content_html, summary_html, description_raw, body_clean"
            " FROM items WHERE (feed_key, item_id) > (?, ?) ORDER BY feed_key, item_id"
            " LIMIT 1000",
            last,
        )
        if not rows:
            return
        for feed_key, item_id, *texts in rows:
            if any(t is not None for t in texts):
                body_id = tx.insert("INSERT INTO bodies (data) VALUES (?)", (pack(tuple(texts)),))
                tx.execute(
                    "UPDATE items SET body_id=? WHERE feed_key=? AND item_id=?",
                    (body_id, feed_key, item_id),
                )
        last = (rows[-1][0], rows[-1][1])


def _repack_bodies(tx: Tx) -> None:
    """Migration 11: each body into the current format (the cleaned body as a delta)."""
    last = 0
    while True:
        rows = tx.rows("SELECT id, data FROM bodies WHERE id > ? ORDER BY id LIMIT 1000", (last,))
        if not rows:
            return
        for body_id, blob in rows:
            if not is_current(blob):
                tx.execute("UPDATE bodies SET data = ? WHERE id = ?", (pack(unpack(blob)), body_id))
        last = rows[-1][0]


MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    # 1: initial schema
    (
        """CREATE TABLE feeds (
            key TEXT PRIMARY KEY,                 -- json [category, site, feed]
            preferred_source TEXT,                -- the source (instance) that answered last
            last_attempt TEXT,
            last_success TEXT,
            last_status TEXT,                     -- ok | not_modified | failed
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE validators (
            feed_key TEXT NOT NULL,
            source TEXT NOT NULL,                 -- instance base URL or feed URL
            etag TEXT,
            last_modified TEXT,
            PRIMARY KEY (feed_key, source)
        )""",
        """CREATE TABLE items (
            feed_key TEXT NOT NULL,
            item_id TEXT NOT NULL,
            status TEXT NOT NULL,                 -- seen | live | pruned | removed
            first_seen TEXT NOT NULL,
            seq INTEGER NOT NULL,                 -- position in the feed when last seen
            date TEXT,
            content_hash TEXT NOT NULL,
            guid TEXT, link TEXT, title TEXT, author TEXT,
            images TEXT,                          -- json list
            base_url TEXT,
            content_html TEXT, summary_html TEXT, description_raw TEXT,
            body_clean TEXT,
            clean_key TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (feed_key, item_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX items_by_id ON items (item_id)",
        """CREATE TABLE posts (
            target TEXT NOT NULL,                 -- hexo
            path TEXT NOT NULL,                   -- relative to the target's root
            feed_key TEXT NOT NULL,
            item_id TEXT NOT NULL,
            state TEXT NOT NULL,                  -- pending | written | deleting
            sha256 TEXT,                          -- bytes last known written
            render_key TEXT,
            size INTEGER, mtime_ns INTEGER,
            pending_sha256 TEXT,                  -- bytes being written (state pending)
            pending_render_key TEXT,
            PRIMARY KEY (target, path)
        )""",
    ),
    # 2: backoff across runs, instance health
    (
        "ALTER TABLE feeds ADD COLUMN next_attempt TEXT",  # not before this time
        """CREATE TABLE instances (
            label TEXT PRIMARY KEY,               -- RSSHub instance base URL
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_success TEXT,
            last_failure TEXT,
            last_error TEXT
        )""",
    ),
    # 3: the static site's page manifest (feedsite build)
    (
        """CREATE TABLE site_pages (
            path TEXT PRIMARY KEY,                -- relative to the site's output folder
            input_key TEXT NOT NULL,              -- hash of the page's inputs; '' = pending
            sha256 TEXT NOT NULL                  -- bytes last written
        ) WITHOUT ROWID""",
    ),
    # 4: the static site's cache of what each live item's card shows
    (
        """CREATE TABLE site_cards (
            feed_key TEXT NOT NULL,
            item_id TEXT NOT NULL,
            source_key TEXT NOT NULL,             -- <card version>:<content_hash>.<clean_key>
            excerpt TEXT NOT NULL,
            lang TEXT NOT NULL,
            first_img_src TEXT,                   -- src of the body's first <img>
            PRIMARY KEY (feed_key, item_id)
        ) WITHOUT ROWID""",
        # Lists the live items without reading their (large) rows.
        """CREATE INDEX items_live ON items (status, feed_key, item_id, first_seen, seq, date,
            content_hash, clean_key, link, title, author, images)""",
    ),
    # 5: one ledger of the files feedsite owns, for every target (Hexo posts, site pages,
    # ...): ``posts`` and ``site_pages`` move into ``files`` and go.
    (
        """CREATE TABLE files (
            target TEXT NOT NULL,                 -- hexo | native | ...
            path TEXT NOT NULL,                   -- relative to the target's root, /-separated
            feed_key TEXT,                        -- the item the file is the post of
            item_id TEXT,                         --   (NULL: a page of many, an asset)
            state TEXT NOT NULL                   -- pending | written | deleting
                CHECK (state IN ('pending', 'written', 'deleting')),
            sha256 TEXT,                          -- bytes last known written (NULL: none known)
            key TEXT,                             -- key of the inputs of those bytes
            size INTEGER, mtime_ns INTEGER,       -- their stat (NULL or 0: unknown)
            pending_sha256 TEXT,                  -- bytes being written (state pending)
            pending_key TEXT,
            PRIMARY KEY (target, path)
        ) WITHOUT ROWID""",
        # The files of one feed or item (a target's per-feed and per-item lookups).
        "CREATE INDEX files_by_item ON files (target, feed_key, item_id)",
        """INSERT INTO files (target, path, feed_key, item_id, state, sha256, key, size,
            mtime_ns, pending_sha256, pending_key)
            SELECT target, path, feed_key, item_id, state, sha256, render_key, size, mtime_ns,
            pending_sha256, pending_render_key FROM posts""",
        # A site page with input_key '' was recorded before its first write (pending);
        # the native target does not use size and mtime.
        """INSERT INTO files (target, path, state, sha256, key, size, mtime_ns)
            SELECT 'native', path, CASE WHEN input_key = '' THEN 'pending' ELSE 'written' END,
            NULLIF(sha256, ''), NULLIF(input_key, ''), 0, 0 FROM site_pages""",
        "DROP TABLE posts",
        "DROP TABLE site_pages",
    ),
    # 6: local images (issue #12): each image URL's download and files, the hotlink
    # placeholders found per host, and each item's images.
    (
        """CREATE TABLE images (
            url TEXT PRIMARY KEY,                 -- as posts reference it (a safe URL)
            state TEXT NOT NULL                   -- ok | failed | refused | over_budget
                CHECK (state IN ('ok', 'failed', 'refused', 'over_budget')),
            digest TEXT,                          -- sha256 of the downloaded bytes
            files TEXT NOT NULL DEFAULT '[]',     -- json [[role, path, width, height, size]]
            size INTEGER NOT NULL DEFAULT 0,      -- bytes of its files together
            host TEXT NOT NULL DEFAULT '',
            referer TEXT,                         -- the Referer that worked
            error TEXT,                           -- the last failure
            failures INTEGER NOT NULL DEFAULT 0,
            next_attempt TEXT                     -- not before (backoff after failures)
        ) WITHOUT ROWID""",
        """CREATE TABLE image_placeholders (
            host TEXT NOT NULL,
            digest TEXT NOT NULL,                 -- a "no hotlinking" image the host sends
            PRIMARY KEY (host, digest)
        ) WITHOUT ROWID""",
        # json list of the post's image URLs, cover first; NULL: not read yet (older rows)
        "ALTER TABLE items ADD COLUMN image_urls TEXT",
        # The site's list of live items reads them too, still from the index alone.
        "DROP INDEX items_live",
        """CREATE INDEX items_live ON items (status, feed_key, item_id, first_seen, seq, date,
            content_hash, clean_key, link, title, author, images, image_urls)""",
    ),
    # 7: full text (issue #13): each article page's extraction, by the item's link.
    (
        """CREATE TABLE articles (
            url TEXT PRIMARY KEY,                 -- the item's link (a safe URL)
            state TEXT NOT NULL                   -- ok | failed | refused
                CHECK (state IN ('ok', 'failed', 'refused')),
            item_hash TEXT NOT NULL,              -- content hash of the item it was fetched for
            setting TEXT NOT NULL,                -- the fulltext setting it was extracted with
            html TEXT,                            -- the extracted body (not yet sanitised)
            digest TEXT NOT NULL DEFAULT '',      -- sha256 of html
            used INTEGER NOT NULL DEFAULT 0,      -- long enough to replace the feed's body
            error TEXT,                           -- the last failure
            failures INTEGER NOT NULL DEFAULT 0,
            next_attempt TEXT                     -- not before (backoff after failures)
        ) WITHOUT ROWID""",
        # Rules (issue #13): an item's categories (json list) for `category` rules, and the
        # rule set a feed's items were last judged by (they are judged again when it changes).
        "ALTER TABLE items ADD COLUMN categories TEXT",
        "ALTER TABLE feeds ADD COLUMN rules_key TEXT",
    ),
    # 8: the RSSHub route catalog (issue #14): the bodies of /api/namespace and
    # /api/radar/rules as an instance served them, with their validators.
    (
        """CREATE TABLE catalog (
            name TEXT PRIMARY KEY                 -- namespace | radar
                CHECK (name IN ('namespace', 'radar')),
            source TEXT NOT NULL,                 -- the instance base URL it came from
            body BLOB NOT NULL,
            etag TEXT,
            last_modified TEXT,
            fetched_at TEXT NOT NULL              -- when it was fetched or last confirmed (304)
        ) WITHOUT ROWID""",
    ),
    # 9: stories (issue #15): each live item's signature (_plan._stories.Signature.to_row),
    # the index of its keys (LSH bands, canonical URLs, title forms) and the links found.
    (
        """CREATE TABLE story_items (
            feed_key TEXT NOT NULL,
            item_id TEXT NOT NULL,
            time INTEGER NOT NULL,                -- µs since the epoch (date, else first seen)
            priority INTEGER NOT NULL,
            urls TEXT NOT NULL,                   -- canonical URLs, one per line
            titles TEXT NOT NULL,                 -- title forms compared, one per line
            title TEXT NOT NULL,                  -- the normalised title
            sketch BLOB NOT NULL,                 -- MinHash of the body (b'' when short)
            keys BLOB NOT NULL,                   -- the index keys, int64 little-endian
            PRIMARY KEY (feed_key, item_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE story_keys (
            key INTEGER NOT NULL,
            feed_key TEXT NOT NULL,
            item_id TEXT NOT NULL,
            PRIMARY KEY (key, feed_key, item_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE story_links (
            a_feed TEXT NOT NULL,
            a_item TEXT NOT NULL,
            b_feed TEXT NOT NULL,
            b_item TEXT NOT NULL,
            why TEXT NOT NULL CHECK (why IN ('url', 'title', 'body')),
            PRIMARY KEY (a_feed, a_item, b_feed, b_item)
        ) WITHOUT ROWID""",
        "CREATE INDEX story_keys_item ON story_keys (feed_key, item_id)",
        "CREATE INDEX story_links_b ON story_links (b_feed, b_item)",
    ),
    # 10: compact state (issue #16). An item's bodies once, compressed, in their own rowid
    # table (small rows stay in the items b-tree, large ones need no overflow pages); the
    # items_live index (a second copy of every item's metadata) goes, as items rows are
    # now small enough to scan.
    (
        "CREATE TABLE bodies (id INTEGER PRIMARY KEY, data BLOB NOT NULL)",
        "ALTER TABLE items ADD COLUMN body_id INTEGER",  # bodies.id; NULL: none stored
        _pack_bodies,
        "DROP INDEX items_live",
        "ALTER TABLE items DROP COLUMN content_html",
        "ALTER TABLE items DROP COLUMN summary_html",
        "ALTER TABLE items DROP COLUMN description_raw",
        "ALTER TABLE items DROP COLUMN body_clean",
        # An item's body goes with the item, or when another replaces it.
        """CREATE TRIGGER items_body_deleted AFTER DELETE ON items
            WHEN old.body_id IS NOT NULL
            BEGIN DELETE FROM bodies WHERE id = old.body_id; END""",
        """CREATE TRIGGER items_body_replaced AFTER UPDATE OF body_id ON items
            WHEN old.body_id IS NOT NULL AND old.body_id IS NOT new.body_id
            BEGIN DELETE FROM bodies WHERE id = old.body_id; END""",
        # The story index by a small integer per signed item (was: its feed key and item
        # id on each of its ~25 index rows, twice with their index); ``indexed`` marks the
        # items still in the index (the run takes out those older than the window).
        """CREATE TABLE story_items_new (
            sid INTEGER PRIMARY KEY,
            feed_key TEXT NOT NULL,
            item_id TEXT NOT NULL,
            time INTEGER NOT NULL,
            priority INTEGER NOT NULL,
            urls TEXT NOT NULL,
            titles TEXT NOT NULL,
            title TEXT NOT NULL,
            sketch BLOB NOT NULL,
            keys BLOB NOT NULL,
            indexed INTEGER NOT NULL DEFAULT 1,   -- its keys are in story_keys
            UNIQUE (feed_key, item_id)
        )""",
        """INSERT INTO story_items_new (feed_key, item_id, time, priority, urls, titles, title,
            sketch, keys, indexed)
            SELECT s.feed_key, s.item_id, s.time, s.priority, s.urls, s.titles, s.title,
            s.sketch, s.keys, EXISTS (SELECT 1 FROM story_keys k
            WHERE k.feed_key = s.feed_key AND k.item_id = s.item_id)
            FROM story_items s ORDER BY s.time, s.feed_key, s.item_id""",
        """CREATE TABLE story_keys_new (
            key INTEGER NOT NULL,
            sid INTEGER NOT NULL,                 -- story_items.sid
            PRIMARY KEY (key, sid)
        ) WITHOUT ROWID""",
        """INSERT INTO story_keys_new (key, sid) SELECT k.key, s.sid FROM story_keys k
            JOIN story_items_new s ON s.feed_key = k.feed_key AND s.item_id = k.item_id""",
        "DROP TABLE story_keys",
        "DROP TABLE story_items",
        "ALTER TABLE story_items_new RENAME TO story_items",
        "ALTER TABLE story_keys_new RENAME TO story_keys",
        "CREATE INDEX story_items_indexed ON story_items (time) WHERE indexed",
        VACUUM,
    ),
    # 11: compact state, part 2 (issue #16): an item's cleaned body is stored as the
    # changes the cleaner made to the feed's body (``_bodies``, format 2), not a second
    # copy that zlib could not see past 32 KB.
    # An item's base URL and a signature's title forms that repeat its link and its title
    # are stored as x'' (``_items._SAME_AS_LINK``, ``_stories._SAME_AS_TITLE``).
    (
        _repack_bodies,
        "UPDATE items SET base_url = x'' WHERE base_url = link",
        "UPDATE story_items SET titles = x'' WHERE titles = title",
        VACUUM,
    ),
    # 12: what the feed says besides its text (issue #17): an item's tags, enclosures and
    # authors, as one JSON value (``_items._extras``); NULL when it has none. Items stored
    # before get theirs when their feed next sends them (their content hash changes).
    ("ALTER TABLE items ADD COLUMN extras TEXT",),
)

SCHEMA_VERSION = len(MIGRATIONS)
