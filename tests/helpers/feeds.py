"""Build small feed documents for tests. Test support only."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Entry:
    """One entry of a generated RSS feed."""

    guid: str
    title: str
    date: datetime | None = None
    body: str = "<p>body</p>"
    link: str | None = None


def rss(entries: list[Entry] | tuple[Entry, ...], title: str = "Test feed") -> bytes:
    """An RSS 2.0 document with ``entries`` in the given order."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
        "<description>test</description>",
    ]
    for e in entries:
        parts.append("<item>")
        parts.append(f"<title>{escape(e.title)}</title>")
        parts.append(f'<guid isPermaLink="false">{escape(e.guid)}</guid>')
        parts.append(f"<link>{escape(e.link or 'https://example.org/' + e.guid)}</link>")
        if e.date is not None:
            parts.append(f"<pubDate>{format_datetime(e.date, usegmt=True)}</pubDate>")
        parts.append(f"<description><![CDATA[{e.body}]]></description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def feeds_yaml(rows: Iterable[tuple[str, str, str, str]]) -> list[str]:
    """The lines of a config's ``feeds:`` tree for (category, site, feed, value) rows.

    ``value`` is written as it is: a route, ``{path: …}``, ``{route: …, keep: 3}``.
    """
    tree: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for category, site, feed, value in rows:
        tree.setdefault(category, {}).setdefault(site, []).append((feed, value))
    lines = ["feeds:"]
    for category, sites in tree.items():
        lines.append(f"  {json.dumps(category, ensure_ascii=False)}:")
        for site, feeds in sites.items():
            lines.append(f"    {json.dumps(site, ensure_ascii=False)}:")
            lines.extend(f"      {json.dumps(f, ensure_ascii=False)}: {v}" for f, v in feeds)
    return lines
