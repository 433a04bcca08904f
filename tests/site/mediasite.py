"""A small native site from one feed whose items carry tags and enclosures (issue #17).

Test support only: writes an RSS 2.0 file (``<category>``, ``<enclosure>``,
``media:content`` with ``duration``/``medium``), ingests it with ``feedsite._run.run``
through a ``path:`` feed and builds the site with ``build_native``, as a user would.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from feedsite._run import run
from feedsite._run._build import build_native
from feedsite._targets.site import BuildResult
from feedsite.config import Config, load_config

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "https://news.example.org/"
#: (category, site, feed) of the one feed.
NAMES = ("播客", "声音", "节目")


@dataclass(frozen=True)
class Media:
    """One enclosure: an RSS ``<enclosure>``, or ``media:content`` when it has a duration or
    a medium."""

    url: str
    type: str | None = None
    length: int | None = None
    duration: int | None = None
    medium: str | None = None
    title: str | None = None

    def xml(self) -> str:
        attrs = f"url={quoteattr(self.url)}"
        if self.type:
            attrs += f" type={quoteattr(self.type)}"
        if self.duration is None and self.medium is None:
            if self.length is not None:
                attrs += f' length="{self.length}"'
            return f"<enclosure {attrs}/>"
        if self.length is not None:
            attrs += f' fileSize="{self.length}"'
        if self.duration is not None:
            attrs += f' duration="{self.duration}"'
        if self.medium:
            attrs += f" medium={quoteattr(self.medium)}"
        title = f"<media:title>{escape(self.title)}</media:title>" if self.title else ""
        return f"<media:content {attrs}>{title}</media:content>"


@dataclass(frozen=True)
class Item:
    guid: str
    title: str
    #: Hours before :data:`T0`.
    hours: float
    tags: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    body: str = "<p>Body text of the episode.</p>"


def rss(items: list[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>',
        "<title>Media feed</title><link>https://pod.example.org/</link>",
        "<description>test</description>",
    ]
    for it in items:
        date = format_datetime(T0 - timedelta(hours=it.hours), usegmt=True)
        parts += [
            "<item>",
            f"<title>{escape(it.title)}</title>",
            f'<guid isPermaLink="false">{escape(it.guid)}</guid>',
            f"<link>https://pod.example.org/{escape(it.guid)}</link>",
            f"<pubDate>{date}</pubDate>",
            *(f"<category>{escape(tag)}</category>" for tag in it.tags),
            *(m.xml() for m in it.media),
            f"<description><![CDATA[{it.body}]]></description>",
            "</item>",
        ]
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


@dataclass
class MediaSite:
    """A project folder: the config, the feed file, the state and the output."""

    root: Path
    out: Path

    @property
    def config_path(self) -> Path:
        return self.root / "feedsite.yaml"

    def config(self) -> Config:
        return load_config(self.config_path)

    def write(self, items: list[Item]) -> None:
        (self.root / "feed.xml").write_bytes(rss(items))

    def run(self, now: datetime = T0) -> None:
        result = run(self.config(), now=now, seed=1)
        assert result.counts().feeds_failed == 0, result

    def build(self) -> BuildResult:
        return build_native(self.config(), self.out)


def media_site(root: Path, items: list[Item], *, out: Path | None = None) -> MediaSite:
    """Write the project, ingest ``items`` and build the site once."""
    root.mkdir(parents=True, exist_ok=True)
    category, site, feed = NAMES
    (root / "feedsite.yaml").write_text(
        "site: {hexo_root: ./blog, timezone: UTC}\n"
        f'native: {{base_url: "{BASE}", search: false, per_page: 10}}\n'
        "defaults: {items_per_feed: 50}\n"
        "images: {mode: hotlink}\n"
        f"feeds:\n  {category}:\n    {site}:\n      {feed}: {{path: feed.xml}}\n",
        encoding="utf-8",
    )
    s = MediaSite(root, out or root / "public")
    s.write(items)
    s.run()
    s.build()
    return s


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A mono 16-bit PCM WAV file: a 440 Hz tone of ``seconds``."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(int(seconds * rate))
    )
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()
