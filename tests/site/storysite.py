"""A native site whose feeds report the same stories (issue #15), for the site's story tests.

Test support only. Real Chinese entries of ``../shared/corpora/rsshub-zh`` are re-dated into
the two days before :data:`NOW` and spread over five news sites (and a second route of one of
them); eight of them are *stories*: copied into one to four other sites within the hour, as
syndication copies them (a site tag or suffix in the title, the link with tracking
parameters, or another site's URL with the same title and text). ``feedsite run`` ingests the
feeds; the story tables are filled from the state as a run fills them (:func:`record_stories`,
until ``feedsite run`` does it itself), then the site is built once per ``native.home``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from feedsite._clean._rewrite import plain_text
from feedsite._parse import parse_feed
from feedsite._plan._stories import StoryItem, cluster, feed_ranks, signature
from feedsite._store import State
from feedsite._targets.site import BuildResult
from feedsite.config import Config, load_config
from tests.helpers.browser import BASE_URL, RSSHUB_ZH, SITE_TITLE
from tests.helpers.feeds import Entry, rss

#: The run's clock; every entry is dated in the two days before it.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CATEGORY = "科技 Tech"
#: (category, site, feed) of the generated feeds, in the tree's order (the first leads).
FEEDS: tuple[tuple[str, str, str], ...] = (
    (CATEGORY, "36氪", "快讯"),
    (CATEGORY, "cnBeta", "头条"),
    (CATEGORY, "cnBeta", "最新"),  # a second route of one site: it repeats some of 头条
    (CATEGORY, "IT之家", "最新"),
    ("新闻 News", "观察者网", "要闻"),
    ("新闻 News", "新浪科技", "滚动"),
)
#: The sites that report stories (feed index in :data:`FEEDS`).
REPORTERS = (0, 1, 3, 4, 5)
_SUFFIX = {0: " | 36氪", 1: " - cnBeta", 3: " - IT之家", 4: "｜观察者网", 5: " _ 新浪科技"}
_PREFIX = ("【快讯】", "【独家】", "[视频]", "")
#: How many stories; story ``i`` has ``1 + _REPORTS[i]`` members from as many sites.
STORIES = 8
_REPORTS = (4, 3, 2, 1, 3, 1, 2, 1)
#: Stories also repeated by cnBeta's second route (a same-site copy).
_SAME_SITE = (1, 6)
HOMES = ("stream", "boards", "both")


@dataclass(frozen=True, slots=True)
class Report:
    """One generated entry: its feed (index in :data:`FEEDS`), the entry, its story."""

    feed: int
    entry: Entry
    #: The story it reports (None: a post of no story).
    story: int | None

    @property
    def where(self) -> tuple[str, str, str]:
        return FEEDS[self.feed]


@dataclass(frozen=True, slots=True)
class StorySite:
    """The project and the sites built from it, one per ``native.home``."""

    root: Path
    config_path: Path
    reports: tuple[Report, ...]
    outs: dict[str, Path]
    results: dict[str, BuildResult]
    #: Each report's post (its file name under posts/, without .html), by (feed, title).
    uids: dict[tuple[int, str], str]

    def config(self) -> Config:
        return load_config(self.config_path)

    def story(self, i: int) -> list[Report]:
        """The members of story ``i``, in lead order (the tree's order, then time)."""
        return sorted(
            (r for r in self.reports if r.story == i),
            key=lambda r: (r.feed, r.entry.date or NOW),
        )

    def uid(self, r: Report) -> str:
        return self.uids[r.feed, r.entry.title]


def _corpus() -> list[tuple[str, str, str]]:
    """(title, link, body) of the rsshub-zh entries with a Chinese title and some text."""
    manifest = json.loads((RSSHUB_ZH / "MANIFEST.json").read_text(encoding="utf-8"))
    out = []
    seen: set[str] = set()
    for m in manifest:
        path = RSSHUB_ZH / m["file"]
        for item in parse_feed(path.read_bytes(), url=path.absolute().as_uri()).items:
            body = item.content_html or item.summary_html or ""
            title = (item.title or "").strip()
            if (
                not re.search(r"[\u4e00-\u9fff]{4}", title)
                or len(plain_text(body)) < 120
                or not item.link
                or title in seen
            ):
                continue
            seen.add(title)
            out.append((title, item.link, body))
    return out


def reports() -> tuple[Report, ...]:
    """The generated entries, deterministic."""
    corpus = _corpus()
    if len(corpus) < STORIES + 20:
        pytest.fail(f"rsshub-zh has only {len(corpus)} usable entries")
    out: list[Report] = []
    for i in range(STORIES):
        title, link, body = corpus[i]
        origin = REPORTERS[i % len(REPORTERS)]
        t = NOW - timedelta(hours=3 + 2.5 * i)
        out.append(Report(origin, Entry(f"s{i}-o", title, t, body, link), i))
        others = [r for r in REPORTERS if r != origin][: _REPORTS[i]]
        for j, feed in enumerate(others):
            copy_title = _PREFIX[(i + j) % len(_PREFIX)] + title + _SUFFIX[feed]
            if (i + j) % 3 == 2:  # another site's URL: joined by its title and text
                copy_link = f"https://news.example.com/{feed}/{i}.html"
            else:  # the same article with tracking parameters: joined by its URL
                copy_link = f"{link}{'&' if '?' in link else '?'}utm_source=rss&spm=a{feed}"
            t_copy = t + timedelta(minutes=15 * (j + 1))
            out.append(Report(feed, Entry(f"s{i}-{feed}", copy_title, t_copy, body, copy_link), i))
        if i in _SAME_SITE:
            out.append(Report(2, Entry(f"s{i}-2", title, t + timedelta(minutes=30), body, link), i))
    for k, (title, link, body) in enumerate(corpus[STORIES : STORIES + 30]):
        feed = REPORTERS[k % len(REPORTERS)] if k % 7 else 2
        t = NOW - timedelta(hours=2 + 1.7 * k)
        out.append(Report(feed, Entry(f"u{k}", title, t, body, link), None))
    return tuple(out)


def write_project(root: Path, items: tuple[Report, ...]) -> Path:
    """The feeds and a config naming them; returns the config's path."""
    (root / "feeds").mkdir(parents=True, exist_ok=True)
    tree: dict[str, dict[str, dict[str, object]]] = {}
    for n, (category, site, feed) in enumerate(FEEDS):
        entries = sorted(
            (r.entry for r in items if r.feed == n), key=lambda e: e.date or NOW, reverse=True
        )
        path = root / "feeds" / f"{n}.xml"
        path.write_bytes(rss(entries, title=f"{site} {feed}"))
        tree.setdefault(category, {}).setdefault(site, {})[feed] = {"path": str(path)}
    config = {
        "site": {"hexo_root": "./blog", "timezone": "Asia/Shanghai"},
        "defaults": {"items_per_feed": 1000},
        "images": {"mode": "hotlink"},
        # Every post of the generated feeds on one home page (the tests check every story).
        "native": {"title": SITE_TITLE, "base_url": BASE_URL, "per_page": 60},
        "feeds": tree,
    }
    path = root / "feedsite.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def record_stories(config: Config) -> int:
    """Fill the state's story tables from its live items, as a run does (signatures, links),
    unless a run already did; returns how many links the state holds."""
    keys = [f.key for f in config.feeds]
    ranks = feed_ranks(config.feeds)
    with State.open(config.state_path) as state:
        graph = state.story_graph()
        if graph.links:
            return len(graph.links)
        live = state.live_items(keys, "story-test")
        bodies = state.bodies((it.feed_key, it.item_id) for it in live)
        sigs = [
            signature(
                StoryItem(
                    (it.feed_key, it.item_id),
                    it.link,
                    None,
                    it.title,
                    plain_text(bodies.get((it.feed_key, it.item_id), "")),
                    it.date or it.first_seen,
                    ranks.get(it.feed_key, len(ranks)),
                )
            )
            for it in live
        ]
        links = sorted(
            {(x.a, x.b, x.why) for story in cluster(sigs) for x in story.links},
        )
        with state.transaction() as tx:
            state.record_stories(tx, [s.to_row() for s in sigs], links)
        return len(links)


def post_uids(config: Config) -> dict[tuple[int, str], str]:
    """Each live item's post name by (feed index in the tree, title)."""
    index = {f.key: n for n, f in enumerate(config.feeds)}
    with State.open(config.state_path) as state:
        live = state.live_items(index, "story-test")
    return {(index[it.feed_key], it.title): it.item_id for it in live}


def build(config: Config, out: Path, home: str) -> BuildResult:
    from feedsite._run._build import build_native

    native = dataclasses.replace(config.native, home=home, search=True)
    return build_native(
        dataclasses.replace(
            config, native=native, site=dataclasses.replace(config.site, timezone=None)
        ),
        out,
    )


_BUILT: dict[str, StorySite] = {}


def story_site(tmp_path_factory: pytest.TempPathFactory) -> StorySite:
    """Generate, ingest and build the story site (once per session), one output per home."""
    if "site" in _BUILT:
        return _BUILT["site"]
    from feedsite._run import run

    root = tmp_path_factory.mktemp("story-site")
    items = reports()
    config_path = write_project(root, items)
    config = load_config(config_path)
    ran = run(config, now=NOW)
    assert ran.counts().feeds_failed == 0 and not ran.item_errors, ran
    assert record_stories(config) > 0, "no story was found in the generated feeds"
    outs = {home: root / f"out-{home}" for home in HOMES}
    results = {home: build(config, outs[home], home) for home in HOMES}
    _BUILT["site"] = StorySite(root, config_path, items, outs, results, post_uids(config))
    return _BUILT["site"]
