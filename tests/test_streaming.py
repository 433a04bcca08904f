"""Streaming runs (issue #16): a run decides, cleans and records its feeds in batches, then
writes its posts a batch of feeds at a time. The batch size changes nothing a run leaves
behind -- posts, items, bodies, stories, ledger -- and what a run holds does not grow with
the number of feeds.

Real runs on real feed files (the rsshub-zh corpus and a story spread over three feeds), a
real SQLite state and real folders; the fetch stream against the loopback feed server."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from feedsite._records import ItemChange
from feedsite._run import BATCH_ITEMS, _Batches, _pack, _Packed, run
from feedsite._run._ingest import FeedStream
from feedsite._store import State
from feedsite._store._bodies import unpack
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response
from tests.test_hexo_exact import CORPORA
from tests.test_stories_run import FEEDS as STORY_FEEDS
from tests.test_stories_run import NOW


def project(folder: Path, dedupe: str, drop: str | None = None) -> Path:
    """A project of the rsshub-zh feeds and the three story feeds (less ``drop``)."""
    folder.mkdir(exist_ok=True)
    manifest = json.loads((CORPORA / "rsshub-zh" / "MANIFEST.json").read_text(encoding="utf-8"))
    tree: dict[str, Any] = {}
    for m in manifest:
        if m["route"] != drop:
            spec = {"path": str(CORPORA / "rsshub-zh" / m["file"])}
            tree.setdefault(m["category"], {}).setdefault(m["site"], {})[m["route"]] = spec
    for (cat, site, name), entries in STORY_FEEDS.items():
        f = folder / f"{site}-{name}.xml"
        f.write_bytes(rss(entries))
        tree.setdefault(cat, {}).setdefault(site, {})[name] = {"path": str(f)}
    config = {
        "site": {"hexo_root": str(folder / "blog"), "timezone": "Asia/Shanghai", "dedupe": dedupe},
        "defaults": {"items_per_feed": 10000},
        "images": {"mode": "hotlink"},
        "feeds": tree,
    }
    path = folder / "feedsite.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def left_behind(folder: Path) -> dict[str, Any]:
    """Every post's bytes and what the state says of items, bodies, stories and files."""
    posts = folder / "blog/source/_posts"
    with closing(sqlite3.connect(folder / ".feedsite/state.sqlite")) as db:
        items = sorted(
            (*row[:-1], None if row[-1] is None else unpack(row[-1]))
            for row in db.execute(
                "SELECT i.feed_key, i.item_id, i.status, i.first_seen, i.seq, i.date,"
                " i.content_hash, i.clean_key, i.title, i.image_urls, b.data"
                " FROM items i LEFT JOIN bodies b ON b.id = i.body_id"
            )
        )
        return {
            "posts": {str(p.relative_to(posts)): p.read_bytes() for p in posts.rglob("*.md")},
            "items": items,
            "stories": sorted(db.execute("SELECT * FROM story_links")),
            "signed": sorted(db.execute("SELECT feed_key, item_id, keys FROM story_items")),
            "files": sorted(db.execute("SELECT path, state, sha256, key FROM files")),
            "feeds": sorted(db.execute("SELECT key, last_status FROM feeds")),
        }


@pytest.mark.parametrize("dedupe", ["link", "skip"])
def test_the_batch_size_changes_nothing(tmp_path: Path, dedupe: str) -> None:
    """One batch for everything, or one feed per batch: the same posts and state, on a first
    run, on a rerun with a feed removed from the config and a story's lead gone."""
    whole, batched = tmp_path / "whole", tmp_path / "batched"
    for size, folder in ((10**9, whole), (1, batched)):
        result = run(load_config(project(folder, dedupe)), now=NOW, seed=1, batch_items=size)
        assert result.counts().feeds_ok == 15 and not result.item_errors
    first = left_behind(whole)
    assert len(first["posts"]) > 50 and first["stories"]  # worth comparing
    assert left_behind(batched) == first

    # A feed leaves the config; the story's lead 甲 loses its item.
    later = NOW + timedelta(hours=2)
    for size, folder in ((10**9, whole), (1, batched)):
        config = project(folder, dedupe, drop="分类")
        (folder / "甲-快讯.xml").write_bytes(rss([Entry("a9", "另一条", later, "<p>别的</p>")]))
        result = run(load_config(config), now=later, seed=1, batch_items=size)
        assert result.counts().feeds_ok == 14, result.to_json()["feeds"]
        ((label, lost),) = result.removed_feeds
        assert label.endswith("分类") and lost > 0
    second = left_behind(whole)
    assert second["posts"] != first["posts"] and len(second["feeds"]) == 14
    assert left_behind(batched) == second


@pytest.mark.slow
def test_a_run_holds_a_batch_not_the_tree(tmp_path: Path) -> None:
    """Peak RSS of ``feedsite run`` over 600 feeds (12,000 items of ~5 KB, three batches)
    stays near that of 100 feeds (one batch): a batch's bodies are dropped once it is
    recorded. Held all at once, they would take some 150 MB more."""
    body = "<p>" + "长文本内容用于测量内存。" * 150 + "</p>"  # ~5 KB of UTF-8 per item

    def peak_mb(n: int) -> float:
        folder = tmp_path / f"n{n}"
        folder.mkdir()
        lines = ["site: {hexo_root: ./blog, timezone: UTC}", "images: {mode: hotlink}"]
        lines += ["defaults: {items_per_feed: 20}", "feeds:", "  c:"]
        for f in range(n):
            entries = [
                Entry(f"f{f}i{i}", f"标题 {f} {i}", NOW - timedelta(hours=i), body + f"{f}/{i}")
                for i in range(20)
            ]
            (folder / f"f{f}.xml").write_bytes(rss(entries))
            lines.append(f"    s{f}: {{f: {{path: f{f}.xml}}}}")
        (folder / "feedsite.yaml").write_text("\n".join(lines) + "\n", "utf-8")
        # A fresh parent per run: RUSAGE_CHILDREN's peak is that of the one feedsite run.
        argv = ["-m", "feedsite", "run", "-c", str(folder / "feedsite.yaml"), "--json"]
        argv += ["--now", NOW.isoformat()]
        probe = (
            "import resource, subprocess, sys;"
            f"done = subprocess.run([sys.executable, *{argv!r}], capture_output=True, text=True);"
            "assert done.returncode == 0, done.stderr;"
            "import json; assert json.loads(done.stdout)['posts_new'] == 20 * %d;"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)" % n
        )
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return int(out.stdout) / 1024

    small, large = peak_mb(100), peak_mb(600)
    assert BATCH_ITEMS < 600 * 20 / 2  # the large run has several batches
    assert large < small + 60, (small, large)


def test_the_stream_pauses_the_fetches_while_the_run_is_busy(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """At most ``window`` parsed feeds wait to be taken: the fetches pause meanwhile."""
    names = [f"f{n}" for n in range(12)]
    for name in names:
        feed_server.route(f"/{name}", Response.rss(rss([Entry(name, name, NOW, "<p>x</p>")])))
    lines = ["site: {hexo_root: ./blog, timezone: UTC}", "feeds:", "  c:", "    s:"]
    lines += [f"      {n}: {{url: '{feed_server.url('/' + n)}'}}" for n in names]
    config = load_config(project("\n".join(lines) + "\n"))
    stream = FeedStream(config, {}, {}, now=NOW, deadline=None, seed=1, on_feed_done=None, window=2)
    taken = 0
    for _key, outcome in stream:
        assert outcome is not None and outcome.kind == "parsed"
        taken += 1
        if taken == 1:
            time.sleep(1.0)  # busy: the fetch thread fills the window and waits
            asked = sum(1 for n in names if feed_server.hits(f"/{n}"))
            assert asked <= 1 + 2 + config.fetch.concurrency, asked  # not all 12 parsed ahead
    assert taken == len(names)
    assert not [t for t in threading.enumerate() if t.name == "feedsite-fetch"]


def test_a_stream_left_early_stops_its_thread(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """A run that fails while fetches are still running (a state error, say) leaves no
    thread behind: the stream cancels them when the loop over it ends."""
    for n in range(4):
        feed_server.route(f"/s{n}", Response.rss(rss([Entry("x", "x", NOW)]), delay=5))
    feed_server.route("/quick", Response.rss(rss([Entry("q", "q", NOW)])))
    lines = ["site: {hexo_root: ./blog, timezone: UTC}", "feeds:", "  c:", "    s:"]
    lines += ["      quick: {url: '" + feed_server.url("/quick") + "'}"]
    lines += [f"      s{n}: {{url: '{feed_server.url(f'/s{n}')}'}}" for n in range(4)]
    config = load_config(project("\n".join(lines) + "\n"))
    stream = FeedStream(config, {}, {}, now=NOW, deadline=None, seed=1, on_feed_done=None)
    started = time.monotonic()
    for _key, _outcome in stream:
        break  # the quick one; the slow ones are in flight
    stream.close()
    assert time.monotonic() - started < 4
    assert not [t for t in threading.enumerate() if t.name == "feedsite-fetch"]
    shutil.rmtree(config.state_path.parent, ignore_errors=True)


def test_a_run_holds_its_item_changes_packed(tmp_path: Path, monkeypatch: Any) -> None:
    """From a feed's batch to its posts a run holds a few dozen bytes per item change (not
    ``ItemChange`` values: some 330 bytes each, 66 MB at 200,000 items), and a tree that
    hotlinks its images never loads every live post's images (its covers are found by a
    query). What the posts and state come out as is test_the_batch_size_changes_nothing's."""
    held: dict[str, Any] = {}
    write = _Batches.write

    def spy(self: _Batches, *args: Any, **kwargs: Any) -> None:
        held["changes"] = dict(self.changes)
        write(self, *args, **kwargs)

    def every_post(self: State) -> Any:
        raise AssertionError("every live post's images loaded")

    monkeypatch.setattr(_Batches, "write", spy)
    monkeypatch.setattr(State, "live_image_refs", every_post)
    result = run(load_config(project(tmp_path, "link")), now=NOW, seed=1, batch_items=50)
    assert result.counts().posts_new > 50 and not result.item_errors
    assert not result.decision.changes  # the summary's decision keeps none
    packed = held["changes"]
    assert packed and all(isinstance(p, _Packed) for p in packed.values())
    n = sum(len(p) for p in packed.values())
    assert n == result.counts().posts_new
    size = sum(
        sys.getsizeof(p)
        + sum(sys.getsizeof(getattr(p, f)) for f in ("ids", "hashes"))
        + sum(sys.getsizeof(getattr(p, f)) for f in ("first_seen", "codes", "whats"))
        for p in packed.values()
    )
    assert size < 400 * len(packed) + 60 * n, (size, len(packed), n)  # ItemChange: 330 * n


def test_packed_item_changes_unpack_to_themselves() -> None:
    """Packing keeps every field and the order; what would not come back the same (a first
    sighting in another zone) stays as it is."""
    changes = [
        ItemChange("k", "a", "new", NOW, "h1", False, ("content",)),
        ItemChange("k", "b", "unchanged", NOW - timedelta(days=3, microseconds=7), "h2", True),
        ItemChange("k", "c", "changed", NOW, "h3", True, ("clean",), "|ft=auto|a=x"),
        ItemChange("k", "d", "pruned", NOW - timedelta(hours=1), "h4", True, ("rules",)),
    ]
    packed = _pack(changes)
    assert isinstance(packed, _Packed) and len(packed) == 4
    assert packed.unpack("k") == changes
    plain = _pack(changes[:1])
    assert isinstance(plain, _Packed) and plain.body_keys is None
    elsewhere = NOW.astimezone(timezone(timedelta(hours=8)))
    odd = [replace(changes[0], first_seen=elsewhere)]
    assert _pack(odd) is odd
