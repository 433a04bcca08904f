"""Fixtures of the local-images tests: a loopback image host that is every host, and a
project whose feeds it serves (through ``fetch.proxy``, so ``wx1.sinaimg.cn`` is it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite.config import Config, load_config
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import Response
from tests.helpers.imagehost import ImageHost, VirtualHost

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with ImageHost() as server:
        yield server


@dataclass
class Project:
    """A feedsite project in a temporary folder, its feeds served by ``host``."""

    root: Path
    host: ImageHost
    feeds: dict[str, list[Entry]] = field(default_factory=dict)
    extra: str = ""
    _site: VirtualHost | None = None

    @property
    def feed_host(self) -> VirtualHost:
        if self._site is None:
            self._site = self.host.host("feeds.test")
        return self._site

    def feed(self, name: str, entries: list[Entry]) -> str:
        """Serve feed ``name`` (on ``feeds.test``) with ``entries``; returns its URL."""
        self.feeds[name] = entries
        return self.feed_host.route(self._path(name), Response.rss(rss(entries)))

    def _path(self, name: str) -> str:
        return f"/feed{list(self.feeds).index(name)}.xml"

    def config(self, **images: object) -> Config:
        """Write feedsite.yaml for the served feeds (one site per feed) and load it."""
        lines = [
            "site:",
            f"  hexo_root: {self.root / 'blog'}",
            "  timezone: Asia/Shanghai",
            "  targets: [hexo, native]",
            "fetch:",
            f"  proxy: {self.host.proxy_url}",
            "  timeout: 3",
            "  retries: 0",
            f"native: {{out: {self.root / 'site'}}}",
        ]
        if images:
            lines.append("images:")
            lines += [f"  {k}: {v}" for k, v in images.items()]
        lines.append(self.extra)
        lines.append("feeds:")
        lines.append("  新闻:")
        for name in self.feeds:
            lines.append(f"    {name}:")
            lines.append(f"      头条: {self.feed_host.url(self._path(name))}")
        path = self.root / "feedsite.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_config(path)

    @property
    def images(self) -> Path:
        return self.root / "blog" / "source" / "feedsite-images"

    def image_files(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.images).as_posix(): p.read_bytes()
            for p in sorted(self.images.rglob("*"))
            if p.is_file()
        }

    def post(self, site: str, guid_prefix: str = "") -> str:
        """The text of the one post of ``site`` (its feed 头条)."""
        folder = self.root / "blog/source/_posts/新闻" / site / "头条"
        posts = sorted(folder.glob("*.md"))
        assert len(posts) == 1, posts
        return posts[0].read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, host: ImageHost) -> Project:
    return Project(tmp_path, host)


def entry(n: int, body: str, *, hours_ago: float = 0, link: str | None = None) -> Entry:
    return Entry(
        guid=f"g{n}",
        title=f"第 {n} 条",
        date=NOW - timedelta(hours=hours_ago),
        body=body,
        link=link or f"https://news.example/{n}.html",
    )
