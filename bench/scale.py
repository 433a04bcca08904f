"""Scale benchmark (issue 16, "10,000 feeds on one machine"): N synthetic feeds served by nginx.

For each size (``--feeds``, default 1,000 and 10,000):

* **feeds**: ``N`` RSS 2.0 files of 20 items each, generated (seeded, deterministic) into a
  scratch folder and served by a private nginx (``bench/_nginx.py``: Debian's ``nginx-light``,
  static files, so ``ETag``, ``Last-Modified`` and the 304s are nginx's own). Each item has a
  unique guid and link, a Chinese title led by a fixed-width number (a trailing one would be
  cut off as a site suffix), a ``pubDate``, and a ``<description>`` whose size in UTF-8 bytes
  is drawn from the sizes of the real entry bodies of ``../shared/corpora/realworld/feeds``
  (parsed once with lxml; mean ~5.3 KB, median ~0.6 KB, up to 0.76 MB) and whose text is
  Chinese: the item's number, a lede of 60 characters drawn one by one from the characters of
  ``../shared/corpora/rsshub-zh``, then sentences of its items drawn at random, plus one
  ``<img>`` with a unique ``src``. No two items share a title, a link or the head of a body,
  so the stories feature (issue #15) links none of them (the state's ``story_links`` table
  stays empty). Every file's mtime is pinned, so the
  validators are the same from run to run.
* **config**: the category › site › feed tree, 10 categories × N/100 sites × 10 feeds, each a
  plain ``url:`` feed; ``defaults.items_per_feed: 25`` (every item becomes a post; ``keep``
  follows it, so the 5 % rerun prunes nothing), ``images.mode: hotlink`` (no image is
  downloaded; links and ``src`` are never fetched), ``fulltext`` off (the default),
  ``site.timezone: UTC``, the Hexo target only (posts written, no ``hexo`` build).
  ``fetch.concurrency`` is feedsite's default (8, ``--concurrency``) and ``fetch.per_host`` is
  raised to the same value: every feed is on 127.0.0.1, and the default ``per_host: 2`` would
  serialise the run to two requests at a time.
* **full run**: ``feedsite run -c <config> --json`` as a subprocess, fresh state and Hexo
  folder; must report ``N × 20`` new posts and no failed feed.
* **304 rerun**: the same command; every feed must be ``not_modified``. feedsite has no
  minimum fetch interval: a feed is skipped only while it backs off after failures or after a
  ``Retry-After`` (``_plan/_schedule.not_due``), so every feed is due on every rerun.
* **5 % rerun**: 5 % of the feed files (seeded choice) rewritten with one new item on top and
  the oldest dropped, their mtime moved a day on (so nginx's ETag and Last-Modified change);
  the same command; exactly those feeds must be ``ok`` with one new post each, the rest
  ``not_modified``.

Measured for each run: wall time of the subprocess, the in-process ``run()`` time from the
JSON, the peak RSS of its whole process tree (sum of the RSS of every descendant, sampled every
50 ms from /proc) and GNU ``time``'s ``%M`` of the largest single process as a cross-check;
the state file (``state.sqlite`` + ``-wal``) after the full run and after the reruns, against
the bytes of the served feeds, and, at the largest size, its breakdown by table (SQLite's
``dbstat``). Targets (the issue's, at 10,000 feeds): peak RSS < 400 MB; full-run time per feed
at 10,000 within 1.3× of that at 1,000; state ≤ served bytes; the 304 rerun < 5 % of the full
run; the 5 % rerun < 15 %. MB are 10^6 bytes.

Then, on the nginx of the first size, ``bench/clients.py``'s comparison: the CPU per
conditional GET answered 304 of feedsite's fetcher (aiohttp), httpx (as feedsite used it),
aiohttp and others.

Sizes under 5,000 feeds are measured ``--small-repeat`` times (default 3; each on a fresh
state and Hexo folder, the changed feeds written back in between; medians), larger ones once
(a 10,000-feed run takes minutes): the per-feed ratio then rests on one large run against a
median of small ones. Work goes to ``TMPDIR`` (a real disk) unless ``--scratch``; nothing is
deleted until every measurement is done (ext4 with ``discard`` creates files slowly for a while
after many deletions), and ``os.sync()`` runs before each timed step.

Usage::

    .venv/bin/python bench/scale.py                        # 1,000 and 10,000 feeds
    .venv/bin/python bench/scale.py --feeds 1000           # one size
    .venv/bin/python bench/scale.py --write-docs           # and rewrite docs "Scale"
    .venv/bin/python bench/scale.py --feeds 1000 --no-clients --profile /tmp/prof
    .venv/bin/python bench/scale.py --keep /tmp/scale      # keep feeds, state and posts
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import io
import json
import os
import pstats
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import clients
from _common import Proc, median, replace_section, run_proc, subprocess_env
from _nginx import Nginx, NginxError, free_port
from ingest import _bodies_json, _bodies_xml, environment, feedsite_cmd, filesystem, summary_of
from lxml import etree
from lxml import html as lxml_html

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"
REALWORLD = CORPORA / "realworld" / "feeds"
CHINESE = CORPORA / "rsshub-zh"
DOCS = REPO / "docs" / "benchmarks.md"
SECTION = "## Scale"
DOCS_INTRO = "# Benchmarks\n"

DEFAULT_SIZES = (1000, 10000)
ITEMS = 20
#: Above ``ITEMS``: every item becomes a post; ``keep`` defaults to it, so the item a changed
#: feed drops keeps its post.
ITEMS_PER_FEED = 25
CHANGED_SHARE = 0.05
CONCURRENCY = 8  # feedsite's fetch.concurrency default
SEED = 16
CATEGORIES = ("新媒体", "编程", "二次元", "科技", "财经", "游戏", "体育", "生活", "设计", "学术")
FEEDS_PER_SITE = 10
#: Random characters heading each body (see ``_item``).
LEDE = 60
#: Longest piece of text drawn as one "sentence" (characters).
MAX_SENTENCE = 80
#: Every feed file's mtime (a changed one: a day later): stable ETag and Last-Modified.
MTIME = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
#: Item dates: the newest item 3 hours before the benchmark's start (the hour), each older one
#: 3 hours earlier, so every item is inside the stories window (72 h) and in its index, as
#: in a real run; the item a changed feed adds is dated at the start.
ITEM_HOURS = 3

#: Targets from the issue, at ``TARGET_SIZE`` feeds.
TARGET_SIZE = 10_000
RSS_TARGET_MB = 400.0
PER_FEED_TARGET = 1.3  # full-run seconds per feed at 10,000 / at 1,000
STATE_TARGET = 1.0  # state bytes / served bytes
RERUN_TARGET = 0.05  # 304 rerun / full run
CHANGED_TARGET = 0.15  # 5 % rerun / full run

MB = 1e6
#: Sizes below this are measured ``--small-repeat`` times (median), larger ones once.
SMALL_LIMIT = 5000


# --------------------------------------------------------------------------- the text pool


@dataclass(frozen=True, slots=True)
class Pool:
    """What the synthetic items are made of."""

    #: UTF-8 sizes of every entry body of the real-world corpus.
    sizes: list[int]
    #: Chinese sentences (HTML-escaped).
    sentences: list[str]
    #: Chinese item titles.
    titles: list[str]
    mean_sentence_bytes: float
    #: Every CJK character of the sentences (as often as it occurs there).
    chars: str


_SENTENCE_END = re.compile(r"(?<=[。！？；!?])|\n+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def load_pool(realworld: Path = REALWORLD, chinese: Path = CHINESE) -> Pool:
    """Body sizes from ``realworld`` (lxml), Chinese sentences and titles from ``chinese``."""
    sizes: list[int] = []
    for path in sorted(p for p in realworld.iterdir() if p.is_file()):
        data = path.read_bytes()
        bodies = _bodies_json(data) if data.lstrip()[:1] == b"{" else _bodies_xml(data)
        sizes += [len(b.encode("utf-8")) for b in bodies]
    sentences: list[str] = []
    titles: list[str] = []
    for path in sorted(chinese.glob("*.xml")):
        data = path.read_bytes()
        for body in _bodies_xml(data):
            if not body.strip():
                continue
            text = "".join(str(t) for t in lxml_html.fromstring(body).itertext())
            for sentence in _SENTENCE_END.split(text):
                sentence = " ".join(sentence.split())
                # Long runs without a full stop (code, lists) in pieces: one drawn by two
                # items would otherwise fill both heads alike.
                for j in range(0, len(sentence), MAX_SENTENCE):
                    s = sentence[j : j + MAX_SENTENCE]
                    if len(s) >= 4 and _CJK.search(s):
                        sentences.append(html.escape(s, quote=False))
        root = etree.fromstring(data)
        for item in root.iter("item"):
            title = item.findtext("title") or ""
            if _CJK.search(title):
                titles.append(html.escape(" ".join(title.split()), quote=False))
    if not sizes or not sentences or not titles:
        raise SystemExit(f"no corpus: {realworld} and {chinese} must hold feeds")
    mean = sum(len(s.encode()) for s in sentences) / len(sentences)
    chars = "".join(_CJK.findall("".join(sentences)))
    return Pool(sizes, sentences, titles, mean, chars)


# --------------------------------------------------------------------------- the feeds


def feed_path(i: int) -> str:
    """Where feed ``i`` is served: ``c<category>/s<site>/f<feed>.xml``."""
    site = i // FEEDS_PER_SITE
    return f"c{site % len(CATEGORIES):02d}/s{site // len(CATEGORIES):04d}/f{i % FEEDS_PER_SITE}.xml"


def _item(pool: Pool, i: int, k: int, host: str, base: datetime) -> str:
    """Item ``k`` of feed ``i`` (the same every time it is asked for)."""
    rng = random.Random(f"{SEED}:{i}:{k}")
    size = rng.choice(pool.sizes)
    tag = f"{i:05d}{k:03d}"
    img = f'<p><img src="{host}/img/{i}/{k}.jpg" alt="图 {tag}"></p>'
    # A lede of LEDE characters drawn one by one: real sentences alone, drawn from a pool of
    # ~1,000, would give two short bodies the same text now and then, and the stories
    # feature would link them.
    lede = "".join(rng.choices(pool.chars, k=LEDE))
    lede = "，".join(lede[j : j + 10] for j in range(0, LEDE, 10)) + "。"
    head = f"<p>第{tag}号：{lede}"
    budget = size - len(head.encode()) - len(img.encode()) - 4
    if budget < 0:  # a tiny real body: the number and part of the lede
        head = head.encode()[: max(size - len(img.encode()), 24)].decode("utf-8", "ignore")
    parts: list[str] = []
    got = 0
    while got < budget:
        more = rng.choices(pool.sentences, k=int(budget / pool.mean_sentence_bytes) + 2)
        for s in more:
            n = len(s.encode())
            if got + n >= budget:
                cut = s.encode()[: budget - got].decode("utf-8", "ignore")
                # An escape cut in half (`&am`) would not be text: drop the tail from `&`.
                amp = cut.rfind("&")
                if amp != -1 and ";" not in cut[amp:]:
                    cut = cut[:amp]
                parts.append(cut)
                got = budget
                break
            parts.append(s)
            got += n
    paragraphs = "</p><p>".join("".join(parts[j : j + 4]) for j in range(0, len(parts), 4))
    body = f"{head}{paragraphs}</p>{img}"
    # The number leads: a trailing one would be cut off as a site suffix ("… - 007").
    title = f"{tag} {rng.choice(pool.titles)}"
    when = base + timedelta(hours=ITEM_HOURS * (k - ITEMS), seconds=-((i * 7) % 3600))
    return (
        f"<item><title>{title}</title><link>{host}/a/{i}/{k}.html</link>"
        f'<guid isPermaLink="false">bench-{tag}</guid>'
        f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
        f"<description><![CDATA[{body}]]></description></item>\n"
    )


def feed_xml(pool: Pool, i: int, newest: int, host: str, base: datetime) -> bytes:
    """Feed ``i`` with items ``newest - 19 .. newest``, newest first."""
    items = "".join(_item(pool, i, k, host, base) for k in range(newest, newest - ITEMS, -1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"<title>站点 {i // FEEDS_PER_SITE} · 频道 {i % FEEDS_PER_SITE}</title>"
        f"<link>{host}/s/{i}/</link><description>合成订阅 {i}</description>"
        "<language>zh-cn</language>\n" + items + "</channel></rss>\n"
    ).encode("utf-8")


def write_feed(
    root: Path, pool: Pool, i: int, newest: int, host: str, base: datetime, mtime: int
) -> int:
    """Write feed ``i`` under ``root`` with a pinned mtime; its size."""
    path = root / feed_path(i)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = feed_xml(pool, i, newest, host, base)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return len(data)


def generate(root: Path, pool: Pool, n: int, host: str, base: datetime) -> int:
    """All ``n`` feeds; their total bytes."""
    return sum(write_feed(root, pool, i, ITEMS - 1, host, base, MTIME) for i in range(n))


def change(root: Path, pool: Pool, n: int, host: str, base: datetime) -> list[int]:
    """Rewrite 5 % of the feeds (seeded): one new item on top, the oldest dropped."""
    chosen = sorted(random.Random(f"{SEED}:changed:{n}").sample(range(n), round(n * CHANGED_SHARE)))
    for i in chosen:
        write_feed(root, pool, i, ITEMS, host, base, MTIME + 86400)
    return chosen


def write_config(work: Path, host: str, n: int, concurrency: int) -> Path:
    """The feedsite.yaml: 10 categories × n/100 sites × 10 ``url:`` feeds."""
    lines = [
        "site:",
        f"  hexo_root: {json.dumps(str(work / 'blog'))}",
        "  timezone: UTC",
        "  profile: default",
        f"defaults: {{items_per_feed: {ITEMS_PER_FEED}}}",
        # Every feed is on one host (127.0.0.1): per_host is lifted to the global limit.
        f"fetch: {{concurrency: {concurrency}, per_host: {concurrency}}}",
        "images: {mode: hotlink}",
        "feeds:",
    ]
    tree: dict[str, dict[str, list[int]]] = {}
    for i in range(n):
        site = i // FEEDS_PER_SITE
        category = CATEGORIES[site % len(CATEGORIES)]
        tree.setdefault(category, {}).setdefault(f"站点{site // len(CATEGORIES):04d}", []).append(i)
    for category, sites in tree.items():
        lines.append(f"  {category}:")
        for site_name, feeds in sites.items():
            lines.append(f"    {site_name}:")
            lines += [f"      频道{i % FEEDS_PER_SITE}: {host}/{feed_path(i)}" for i in feeds]
    config = work / "feedsite.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


# --------------------------------------------------------------------------- the state


@dataclass(frozen=True, slots=True)
class TableSize:
    """One table of the state file: rows, and bytes of the table and of its indexes."""

    name: str
    rows: int
    table_bytes: int
    index_bytes: int


def state_files(work: Path) -> int:
    """Bytes of the state file and its WAL."""
    folder = work / ".feedsite"
    paths = (folder / "state.sqlite", folder / "state.sqlite-wal")
    return sum(p.stat().st_size for p in paths if p.exists())


def table_sizes(db: Path) -> tuple[list[TableSize], str]:
    """Each table's rows and bytes (``dbstat`` pages; else the sum of ``length()`` of its
    columns, without indexes), largest first; and which method was used."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        master = con.execute(
            "SELECT name, type, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
        ).fetchall()
        owner = {name: tbl for name, _type, tbl in master}
        tables = [name for name, kind, _tbl in master if kind == "table"]
        table_bytes = dict.fromkeys(tables, 0)
        index_bytes = dict.fromkeys(tables, 0)
        try:
            pages = con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
            method = "dbstat"
            for name, size in pages:
                tbl = owner.get(name, name)
                if name in table_bytes:
                    table_bytes[name] += size
                else:
                    index_bytes[tbl] = index_bytes.get(tbl, 0) + size
                    table_bytes.setdefault(tbl, 0)
        except sqlite3.OperationalError:
            method = "sum of length() of the columns (no dbstat; indexes not counted)"
            for t in tables:
                cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')]
                expr = " + ".join(f'COALESCE(length("{c}"), 0)' for c in cols) or "0"
                table_bytes[t] = con.execute(f'SELECT SUM({expr}) FROM "{t}"').fetchone()[0] or 0
        out = []
        for t in table_bytes:
            rows = con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] if t in tables else 0
            out.append(TableSize(t, rows, table_bytes[t], index_bytes.get(t, 0)))
    finally:
        con.close()
    out.sort(key=lambda s: -(s.table_bytes + s.index_bytes))
    return out, method


def tree_bytes(folder: Path) -> tuple[int, int]:
    """Files and bytes under ``folder``."""
    files = size = 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(dirpath, name)).st_size
    return files, size


# --------------------------------------------------------------------------- one size


@dataclass
class SizeResult:
    """Everything measured at one size."""

    n: int
    served_bytes: int = 0
    generate_seconds: float = 0.0
    #: Every repeat's runs (``full[r]``, ``rerun[r]``, ``changed[r]``).
    full: list[Proc] = field(default_factory=list)
    rerun: list[Proc] = field(default_factory=list)
    changed: list[Proc] = field(default_factory=list)
    #: The ``--json`` of the last repeat's runs.
    full_json: dict[str, Any] = field(default_factory=dict)
    rerun_json: dict[str, Any] = field(default_factory=dict)
    changed_json: dict[str, Any] = field(default_factory=dict)
    full_inproc: list[float] = field(default_factory=list)
    n_changed: int = 0
    state_full: int = 0
    state_end: int = 0
    tables: list[TableSize] = field(default_factory=list)
    tables_method: str = ""
    posts_files: int = 0
    posts_bytes: int = 0

    @property
    def posts(self) -> int:
        return self.n * ITEMS

    @property
    def full_s(self) -> float:
        return median([p.seconds for p in self.full])

    @property
    def rerun_s(self) -> float:
        return median([p.seconds for p in self.rerun])

    @property
    def changed_s(self) -> float:
        return median([p.seconds for p in self.changed])

    def peak_mb(self, procs: Sequence[Proc] | None = None) -> float:
        """The largest process-tree peak of ``procs`` (default: every run), MB."""
        chosen = procs if procs is not None else [*self.full, *self.rerun, *self.changed]
        return max(_mb(p.tree_kib) for p in chosen)

    def gnu_mb(self, procs: Sequence[Proc]) -> float:
        return max(_mb(p.maxrss_kib) for p in procs)


def _fail(what: str, proc: Proc, problem: str) -> None:
    raise SystemExit(
        f"{what}: {problem} (exit {proc.returncode})\nstderr (tail):\n{proc.stderr[-3000:]}"
    )


def check_full(n: int, proc: Proc, data: dict[str, Any]) -> None:
    expect = {"feeds_ok": n, "feeds_failed": 0, "posts_new": n * ITEMS}
    got = {k: data.get(k) for k in expect}
    if got != expect:
        bad = [f for f in data.get("feeds", []) if f.get("status") != "ok"][:5]
        _fail(f"full run at {n}", proc, f"expected {expect}, got {got}; e.g. {bad}")


def check_rerun(n: int, proc: Proc, data: dict[str, Any]) -> None:
    expect = {"feeds_not_modified": n, "feeds_ok": 0, "feeds_failed": 0, "posts_new": 0}
    got = {k: data.get(k) for k in expect}
    if got != expect:
        _fail(f"304 rerun at {n}", proc, f"expected {expect}, got {got}")


def check_changed(n: int, proc: Proc, data: dict[str, Any], changed: list[str]) -> None:
    m = len(changed)
    expect = {"feeds_ok": m, "feeds_not_modified": n - m, "feeds_failed": 0, "posts_new": m}
    got = {k: data.get(k) for k in expect}
    ok = {f["feed"] for f in data.get("feeds", []) if f.get("status") == "ok" and f["new"] == 1}
    if got != expect or ok != set(changed):
        _fail(
            f"5 % rerun at {n}",
            proc,
            f"expected {expect}, got {got}; feeds ok with 1 new: {len(ok)} of {m} changed",
        )


def feed_label(i: int) -> str:
    """The label feedsite gives feed ``i`` in ``--json`` (``category › site › feed``)."""
    site = i // FEEDS_PER_SITE
    return (
        f"{CATEGORIES[site % len(CATEGORIES)]} › 站点{site // len(CATEGORIES):04d} › "
        f"频道{i % FEEDS_PER_SITE}"
    )


def measure_size(
    n: int,
    pool: Pool,
    work: Path,
    concurrency: int,
    repeat: int,
    env: dict[str, str],
    client_args: dict[str, Any] | None,
    profile_dir: Path | None,
    top: int,
) -> tuple[SizeResult, list[clients.ClientResult]]:
    """Generate, serve, run the three phases ``repeat`` times (and the clients, the profile)."""
    res = SizeResult(n)
    feeds = work / "feeds"
    client_results: list[clients.ClientResult] = []
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    res.served_bytes = generate(feeds, pool, n, host, base)
    res.generate_seconds = time.perf_counter() - started
    mb, secs = res.served_bytes / MB, res.generate_seconds
    log(f"[{n}] generated {n:,} feeds, {mb:.0f} MB, in {secs:.0f} s")
    with Nginx(feeds, port=port) as server:
        for r in range(repeat):
            rwork = work / f"run{r}"
            rwork.mkdir()
            config = write_config(rwork, host, n, concurrency)
            run = [*feedsite_cmd(), "run", "-c", str(config), "--json"]
            tag = f"[{n}] {r + 1}/{repeat}"

            os.sync()
            full = run_proc(run, env=env, timeout=7200)
            res.full.append(full)
            res.full_json = summary_of(full, f"full run at {n}")
            check_full(n, full, res.full_json)
            res.full_inproc.append(float(res.full_json["seconds"]))
            res.state_full = state_files(rwork)
            peak = _mb(full.tree_kib)
            log(f"{tag} full run {full.seconds:.1f} s, process tree peak {peak:.0f} MB")

            os.sync()
            rerun = run_proc(run, env=env, timeout=7200)
            res.rerun.append(rerun)
            res.rerun_json = summary_of(rerun, f"304 rerun at {n}")
            check_rerun(n, rerun, res.rerun_json)
            log(f"{tag} 304 rerun {rerun.seconds:.1f} s")

            chosen = change(feeds, pool, n, host, base)
            res.n_changed = len(chosen)
            os.sync()
            changed = run_proc(run, env=env, timeout=7200)
            res.changed.append(changed)
            res.changed_json = summary_of(changed, f"5 % rerun at {n}")
            check_changed(n, changed, res.changed_json, [feed_label(i) for i in chosen])
            res.state_end = state_files(rwork)
            log(f"{tag} 5 % rerun ({len(chosen)} feeds) {changed.seconds:.1f} s")
            if r == repeat - 1:
                state = rwork / ".feedsite" / "state.sqlite"
                res.tables, res.tables_method = table_sizes(state)
                res.posts_files, res.posts_bytes = tree_bytes(rwork / "blog" / "source" / "_posts")
            for i in chosen:  # back as they were, for the next repeat and the clients
                write_feed(feeds, pool, i, ITEMS - 1, host, base, MTIME)

        if client_args is not None:
            paths = [feed_path(i) for i in range(n)]
            client_results = clients.measure(server.base_url, paths, work, **client_args)
        if profile_dir is not None:
            profile(server.base_url, n, concurrency, work, env, profile_dir, top)
    return res, client_results


def profile(
    base: str, n: int, concurrency: int, work: Path, env: dict[str, str], out: Path, top: int
) -> None:
    """A fresh full run and its 304 rerun under cProfile (the feeds as served now)."""
    out.mkdir(parents=True, exist_ok=True)
    pwork = work / "profile"
    pwork.mkdir()
    config = write_config(pwork, base.rstrip("/"), n, concurrency)
    for name, label in (("full", "full run"), ("rerun", "304 rerun")):
        prof = out / f"{name}-{n}.prof"
        cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "feedsite"]
        proc = run_proc([*cmd, "run", "-c", str(config), "--json"], env=env, timeout=7200)
        summary = summary_of(proc, f"profiled {name}")
        print(
            f"\n## profile: {label} at {n} feeds ({proc.seconds:.2f}s wall under cProfile, "
            f"posts_new {summary['posts_new']}, not_modified {summary['feeds_not_modified']})"
            f" -> {prof}"
        )
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(str(prof), stream=buf).strip_dirs().sort_stats(key).print_stats(top)
            text = buf.getvalue()
            print(f"\n### by {key}\n")
            print(text[text.find("   ncalls") :].rstrip())


# --------------------------------------------------------------------------- the report


def _mb(kib: int) -> float:
    return kib * 1024 / MB


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def report(results: Sequence[SizeResult], concurrency: int) -> tuple[str, list[str]]:
    """The Markdown table (one column per size) and the target lines."""
    by_n = {r.n: r for r in results}
    small = by_n.get(min(by_n))
    judged = by_n.get(TARGET_SIZE) or results[-1]
    cols = [f"{r.n:,} feeds" for r in results]

    def per_feed(r: SizeResult) -> float:
        return r.full_s / r.n

    def cpu_per_feed(r: SizeResult) -> float:
        return median([p.cpu_seconds for p in r.full]) / r.n

    rows: list[tuple[str, list[str], str, str]] = []

    def row(what: str, values: list[str], target: str = "info", result: str = "") -> None:
        rows.append((what, values, target, result))

    row("runs measured (median)", [f"{len(r.full)}" for r in results])
    row("posts (feeds × 20 items)", [f"{r.posts:,}" for r in results])
    row("served feeds, MB", [f"{r.served_bytes / MB:,.0f}" for r in results])
    row("full run, s (wall)", [f"{r.full_s:,.1f}" for r in results])
    row("  full run, in-process `run()`, s", [f"{median(r.full_inproc):,.1f}" for r in results])
    row(
        "  full run, CPU s (user + sys, GNU time)",
        [f"{median([p.cpu_seconds for p in r.full]):,.1f}" for r in results],
    )
    row("full run, ms per feed", [f"{per_feed(r) * 1e3:.1f}" for r in results])
    row("full run, posts / s", [f"{r.posts / r.full_s:,.0f}" for r in results])
    checks: list[str] = []
    if small is not None and small is not judged:
        scale = per_feed(judged) / per_feed(small)
        ok = scale <= PER_FEED_TARGET
        row(
            f"per-feed time, {judged.n:,} / {small.n:,}",
            ["" if r is not judged else f"{scale:.2f}×" for r in results],
            f"≤ {PER_FEED_TARGET}×",
            _verdict(ok),
        )
        cpu_scale = cpu_per_feed(judged) / cpu_per_feed(small) if cpu_per_feed(small) else 0
        row(
            f"  per-feed CPU time, {judged.n:,} / {small.n:,}",
            ["" if r is not judged else f"{cpu_scale:.2f}×" for r in results],
        )
        checks.append(
            f"per-feed full-run time {judged.n:,} vs {small.n:,}: {'PASS' if ok else 'FAIL'} "
            f"({scale:.2f}×, target ≤ {PER_FEED_TARGET}×; CPU time {cpu_scale:.2f}×)"
        )
    rerun_ratio = judged.rerun_s / judged.full_s
    rerun_ok = rerun_ratio < RERUN_TARGET
    row("304 rerun, s (wall)", [f"{r.rerun_s:,.2f}" for r in results])
    row(
        "304 rerun / full run",
        [f"{r.rerun_s / r.full_s:.1%}" for r in results],
        f"< {RERUN_TARGET:.0%}",
        _verdict(rerun_ok),
    )
    changed_ratio = judged.changed_s / judged.full_s
    changed_ok = changed_ratio < CHANGED_TARGET
    row("5 % rerun, s (wall)", [f"{r.changed_s:,.2f}" for r in results])
    row(
        "5 % rerun / full run",
        [f"{r.changed_s / r.full_s:.1%}" for r in results],
        f"< {CHANGED_TARGET:.0%}",
        _verdict(changed_ok),
    )
    rss_ok = judged.peak_mb() < RSS_TARGET_MB
    row(
        "peak RSS, process tree, MB (largest of all runs)",
        [f"{r.peak_mb():,.0f}" for r in results],
        f"< {RSS_TARGET_MB:.0f} MB",
        _verdict(rss_ok),
    )
    for label, attr in (("full", "full"), ("304", "rerun"), ("5 %", "changed")):
        row(
            f"  peak RSS, {label} run: tree / GNU time `%M`, MB",
            [
                f"{r.peak_mb(getattr(r, attr)):,.0f} / {r.gnu_mb(getattr(r, attr)):,.0f}"
                for r in results
            ],
        )
    state_ratio = judged.state_full / judged.served_bytes
    state_ok = max(judged.state_full, judged.state_end) / judged.served_bytes <= STATE_TARGET
    row("state after the full run, MB", [f"{r.state_full / MB:,.0f}" for r in results])
    row("state after the reruns, MB", [f"{r.state_end / MB:,.0f}" for r in results])
    row(
        "state / served bytes (after the reruns)",
        [f"{r.state_end / r.served_bytes:.2f}×" for r in results],
        f"≤ {STATE_TARGET:.0f}×",
        _verdict(state_ok),
    )
    row(
        "  Hexo posts written: files, MB",
        [f"{r.posts_files:,}, {r.posts_bytes / MB:,.0f}" for r in results],
    )
    checks += [
        f"peak RSS {'PASS' if rss_ok else 'FAIL'} ({judged.peak_mb():,.0f} MB, target < "
        f"{RSS_TARGET_MB:.0f} MB)",
        f"state {'PASS' if state_ok else 'FAIL'} ({state_ratio:.2f}× the served bytes after the "
        f"full run, {judged.state_end / judged.served_bytes:.2f}× after the reruns; "
        f"target ≤ {STATE_TARGET:.0f}×)",
        f"304 rerun {'PASS' if rerun_ok else 'FAIL'} ({rerun_ratio:.1%} of the "
        f"full run, target < {RERUN_TARGET:.0%})",
        f"5 % rerun {'PASS' if changed_ok else 'FAIL'} ({changed_ratio:.1%} of "
        f"the full run, target < {CHANGED_TARGET:.0%})",
    ]
    head = ["what", *cols, f"target (at {judged.n:,})", "result"]
    lines = [
        "| " + " | ".join(head) + " |",
        "|---|" + "---:|" * (len(head) - 1),
    ]
    for what, values, target, result in rows:
        values = values + [""] * (len(cols) - len(values))
        lines.append("| " + " | ".join([what, *values, target, result]) + " |")
    counts = [
        f"{r.n:,}: full run {r.full_json['feeds_ok']:,} ok, {r.full_json['posts_new']:,} new "
        f"posts; 304 rerun {r.rerun_json['feeds_not_modified']:,} not modified; 5 % rerun "
        f"{r.changed_json['feeds_ok']:,} ok with {r.changed_json['posts_new']:,} new posts, "
        f"{r.changed_json['feeds_not_modified']:,} not modified; feeds generated in "
        f"{r.generate_seconds:.0f} s"
        for r in results
    ]
    every = "; ".join(
        f"{r.n:,}: full {' / '.join(f'{p.seconds:.1f}' for p in r.full)}, 304 "
        f"{' / '.join(f'{p.seconds:.2f}' for p in r.rerun)}, 5 % "
        f"{' / '.join(f'{p.seconds:.2f}' for p in r.changed)}"
        for r in results
    )
    loads = [p.load for r in results for p in (*r.full, *r.rerun, *r.changed)]
    every += (
        f" (1-minute load average when each run started: {min(loads):.1f} to {max(loads):.1f}; "
        "above ~1 other work shared the 2 cores and the wall times, not the CPU times, grow)"
    )
    text = (
        "\n".join(lines)
        + "\n\nChecked from each run's `--json`: "
        + "; ".join(counts)
        + ".\n\nEvery run (s): "
        + every
        + ".\n"
    )
    return text, checks


def tables_report(r: SizeResult) -> str:
    """The state file of size ``r`` by table."""
    total = sum(t.table_bytes + t.index_bytes for t in r.tables) or 1
    lines = [
        f"State file at {r.n:,} feeds after the reruns, by table ({r.tables_method}; "
        f"file + WAL {r.state_end / MB:,.0f} MB, {r.posts + r.n_changed:,} items):",
        "",
        "| table | rows | table MB | indexes MB | share | bytes per item |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in r.tables:
        size = t.table_bytes + t.index_bytes
        if size < 0.0005 * total and t.rows < 1000:
            continue
        lines.append(
            f"| `{t.name}` | {t.rows:,} | {t.table_bytes / MB:,.1f} | {t.index_bytes / MB:,.1f} "
            f"| {size / total:.1%} | {size / (r.posts + r.n_changed):,.0f} |"
        )
    small = [t.name for t in r.tables if (t.table_bytes + t.index_bytes) < 0.0005 * total]
    if small:
        lines += ["", f"Under 0.05 % each: {', '.join(f'`{s}`' for s in small)}."]
    return "\n".join(lines) + "\n"


def describe(pool: Pool, concurrency: int) -> str:
    sizes = sorted(pool.sizes)
    return (
        f"Feeds: RSS 2.0, {ITEMS} items each, served as static files by nginx (its own ETag, "
        f"Last-Modified and 304). Item bodies: Chinese text (sentences of `rsshub-zh`), sizes "
        f"drawn from the {len(sizes):,} entry bodies of `realworld/feeds` (mean "
        f"{sum(sizes) / len(sizes) / 1e3:.1f} KB, median {sizes[len(sizes) // 2] / 1e3:.1f} KB, "
        f"max {sizes[-1] / MB:.2f} MB), one `<img>` each, no two alike. Config: 10 categories × "
        f"N/100 sites × {FEEDS_PER_SITE} `url:` feeds, `items_per_feed: {ITEMS_PER_FEED}`, "
        f"`images.mode: hotlink`, full text off, `fetch.concurrency: {concurrency}` (the "
        f"default) with `fetch.per_host: {concurrency}` (all feeds are on 127.0.0.1; the default "
        "per-host limit of 2 would serialise them), Hexo target, profile `default`. Each run is "
        "`feedsite run --json` in a subprocess, on a fresh state and Hexo folder for each "
        f"repeat; sizes under {SMALL_LIMIT:,} feeds are measured 3 times (median), larger "
        "ones once."
    )


def write_docs(body: str, path: Path = DOCS) -> None:
    section = (
        f"{SECTION}\n\n"
        "`bench/scale.py` (issue 16, 10,000 feeds on one machine): N synthetic feeds served by "
        "a private nginx, a full run on a fresh state, a rerun where every feed answers 304, "
        "and a rerun where 5 % of the feeds have one new item; peak memory of the whole process "
        "tree and the state file's size against the served bytes. Then the CPU per conditional "
        "GET of candidate HTTP clients against the same nginx (`bench/clients.py`). Rerun "
        "with:\n\n"
        "```sh\napt-get install -y nginx-light   # once\n"
        ".venv/bin/python bench/scale.py --feeds 1000 10000 --write-docs\n```\n\n"
        "Details and options: the docstrings of `bench/scale.py` and `bench/clients.py`.\n\n" + body
    )
    replace_section(path, SECTION, section, DOCS_INTRO)


# --------------------------------------------------------------------------- CLI


def feedsite_source() -> str:
    """Which feedsite code the runs use: its ``git describe`` (``-dirty``: uncommitted changes),
    and where it is when it is not this checkout (a worktree on ``PYTHONPATH``)."""
    spec = importlib.util.find_spec("feedsite")
    if spec is None or spec.origin is None:
        return "feedsite not found"
    pkg = Path(spec.origin).resolve().parent
    out = subprocess.run(
        ["git", "-C", str(pkg), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = out.stdout.strip() or "no git"
    where = "" if pkg.is_relative_to(REPO) else f", from `{pkg.parent}` on `PYTHONPATH`"
    return f"feedsite code at `{commit}`{where}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--feeds", type=int, nargs="+", default=list(DEFAULT_SIZES), help="sizes (feeds)"
    )
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="fetch.concurrency")
    parser.add_argument(
        "--small-repeat",
        type=int,
        default=3,
        help=f"runs of each size under {SMALL_LIMIT:,} feeds (median); larger sizes run once",
    )
    parser.add_argument("--scratch", type=Path, help="folder for the work (default: TMPDIR)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS.name}")
    parser.add_argument("--no-clients", action="store_true", help="skip the client comparison")
    parser.add_argument("--requests", type=int, default=clients.REQUESTS, help="client GETs")
    parser.add_argument("--repeat", type=int, default=clients.REPEAT, help="client rounds")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="cProfile the smallest size")
    parser.add_argument("--top", type=int, default=15, help="profile rows to print")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.feeds))
    if any(n < 20 or n > 20_000 for n in sizes):
        parser.error("--feeds: 20 .. 20,000 (feedsite's config limit)")
    try:
        nginx_version = Nginx(Path(".")).version()
    except NginxError as exc:
        sys.exit(str(exc))

    # SIGTERM as Ctrl-C: the work folder goes and nginx stops (its block does the same).
    signal.signal(signal.SIGTERM, lambda number, _frame: sys.exit(128 + number))
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        top_dir = Path(tempfile.mkdtemp(prefix="scale-", dir=args.keep))
    else:
        scratch = args.scratch or Path(tempfile.gettempdir())
        top_dir = Path(tempfile.mkdtemp(prefix="scale-", dir=scratch))
    env = subprocess_env(top_dir)
    run_proc([sys.executable, "-c", "import feedsite.cli, feedsite._run"], env=env)  # warm-up
    pool = load_pool()
    source = feedsite_source()
    log(source)
    results: list[SizeResult] = []
    client_results: list[clients.ClientResult] = []
    client_args = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "repeat": args.repeat,
    }
    ok = False
    try:
        for idx, n in enumerate(sizes):
            work = top_dir / f"n{n}"
            work.mkdir()
            res, got = measure_size(
                n,
                pool,
                work,
                args.concurrency,
                args.small_repeat if n < SMALL_LIMIT else 1,
                env,
                client_args if idx == 0 and not args.no_clients else None,
                args.profile if n == sizes[0] else None,
                args.top,
            )
            results.append(res)
            client_results = client_results or got
        ok = True
    except KeyboardInterrupt:
        ok = True  # nothing to inspect
        raise
    except SystemExit as exc:
        ok = not isinstance(exc.code, str)  # a signal, not a failed check
        raise
    finally:
        if args.keep is None and ok:
            shutil.rmtree(top_dir, ignore_errors=True)
        elif not ok:
            log(f"work folder kept for inspection: {top_dir}")

    table, checks = report(results, args.concurrency)
    parts = [
        f"Measured {environment()}; {source}; {nginx_version} (`nginx-light`); work on "
        f"{filesystem(top_dir.parent)} (`{top_dir.parent}`).",
        "",
        describe(pool, args.concurrency),
        "",
        table,
        "Targets (the issue's, at " + f"{results[-1].n:,} feeds): " + "; ".join(checks) + ".",
        "",
        tables_report(results[-1]),
    ]
    if client_results:
        parts += [
            "### Clients",
            "",
            f"`bench/clients.py`, against the nginx of the {sizes[0]:,}-feed run: the CPU one "
            "conditional GET answered 304 costs each client (the whole of a feed's work in a "
            "rerun where nothing changed, apart from startup and the state). `feedsite` is "
            "feedsite's own `_fetch.fetch_all` (on aiohttp since issue #16); `httpx` is the "
            "client feedsite used before, configured and called as it was, without feedsite "
            "around it; `asyncio` is a hand-written HTTP/1.1 "
            "request over asyncio streams (the floor of asyncio in Python); `pycurl` is "
            "libcurl's multi interface (C).",
            "",
            clients.table(client_results, args.requests, args.concurrency),
        ]
    body = "\n".join(parts).rstrip() + "\n"
    print(body)
    if args.write_docs:
        write_docs(body)
        log(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
