"""Differential test: feedsite's parser against feedparser on 200 real-world feeds.

For every entry of every feed in ``../shared/corpora/realworld/feeds`` both
parsers read, entries are paired by position and five fields compared:

* title: feedparser's ``entry.title``, exactly; when feedparser typed it as
  HTML (``title_detail.type``), the text of that HTML (feedsite titles are
  plain text);
* link: ``entry.link`` as :func:`feedsite._url.safe_url` publishes it (feedsite
  returns only absolute, WHATWG-normalised http(s) links: issue #10);
* guid: ``entry.id``;
* date: ``published_parsed`` else ``updated_parsed``, as UTC instants to the second;
* tags: the terms of ``entry.tags``, whitespace-normalised, first of each term, at
  most 64 (feedsite keeps each term once), against our ``tags`` terms;
* enclosures: the ``href`` of ``entry.enclosures`` (RSS ``enclosure``, Atom
  ``link rel="enclosure"``) as :func:`~feedsite._url.safe_url` publishes it, each once,
  against the URLs of our enclosures read from those elements (``source="enclosure"``;
  ``media:content`` is feedparser's ``media_content``, not an enclosure);
* body: feedparser's first non-empty ``content`` value, else ``summary``, against
  our ``content_html`` else ``summary_html``; both reduced to whitespace-normalised
  text (HTML through ``lxml.html``; values feedparser typed ``text/plain`` as
  text). In RSS entries feedparser's ``text/plain`` content comes from
  ``media:description`` / ``media:text`` captions (of an image), not from the
  item body, so it is skipped.

Each field must agree on at least 99 % of the entries. The disagreements are
printed (``pytest -s``) and listed in the failure message. feedparser runs with
``sanitize_html=False, resolve_relative_uris=False`` (a few seconds).
"""

from __future__ import annotations

import calendar
import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from lxml import html as lxml_html

from feedsite._parse import parse_feed
from feedsite._url import safe_url
from feedsite.types import ParsedItem

feedparser = pytest.importorskip("feedparser")

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
FEEDS = SHARED / "corpora" / "realworld" / "feeds"
FIELDS = ("title", "link", "guid", "date", "body", "tags", "enclosures")
THRESHOLD = 0.99


@dataclass(frozen=True)
class Disagreement:
    feed: str
    index: int
    field: str
    feedparser: Any
    ours: Any

    def __str__(self) -> str:
        where = f"{self.feed}[{self.index}] {self.field}"
        return f"{where}: feedparser={self.feedparser!r:.120} ours={self.ours!r:.120}"


@dataclass
class Report:
    agree: collections.Counter[str] = field(default_factory=collections.Counter)
    total: collections.Counter[str] = field(default_factory=collections.Counter)
    disagreements: list[Disagreement] = field(default_factory=list)
    #: (feed, feedparser's entry count, ours, feedparser's version)
    counts: list[tuple[str, int, int, str]] = field(default_factory=list)
    ours_by_feed: dict[str, int] = field(default_factory=dict)


def text_of(value: str | None, kind: str | None = "text/html") -> str:
    """Whitespace-normalised text of a value; HTML is reduced with lxml.html."""
    if not value or not value.strip():
        return ""
    if kind == "text/plain":
        return " ".join(value.split())
    try:
        markup = lxml_html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(value.split())
    return " ".join(str(markup.text_content()).split())


def feedparser_fields(entry: Any, version: str) -> dict[str, Any]:
    title = entry.get("title") or ""
    title_type = (entry.get("title_detail") or {}).get("type")
    if title_type in ("text/html", "application/xhtml+xml") and title.strip():
        markup = lxml_html.fragment_fromstring(title, create_parent="div")
        title = str(markup.text_content())  # its text, whitespace as is
    # dict.get: FeedParserDict maps updated_parsed to published_parsed with a warning.
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    is_rss = version.startswith("rss")
    contents = [
        content
        for content in entry.get("content") or []
        if content.get("value") and not (is_rss and content.get("type") == "text/plain")
    ]
    detail = contents[0] if contents else entry.get("summary_detail") or {}
    body_value = contents[0]["value"] if contents else entry.get("summary")
    return {
        "title": title.strip(),
        # feedsite's links are safe_url's (absolute http(s), WHATWG-normalised; issue #10).
        "link": safe_url(entry.get("link")),
        "guid": entry.get("id"),
        "date": calendar.timegm(stamp) if stamp else None,
        "body": text_of(body_value, detail.get("type")),
        "tags": list(
            dict.fromkeys(
                term
                for tag in entry.get("tags") or []
                if (term := " ".join((tag.get("term") or "").split())[:200])
            )
        )[:64],
        "enclosures": list(
            dict.fromkeys(
                url
                for enclosure in entry.get("enclosures") or []
                if (url := safe_url((enclosure.get("href") or "").strip()))
            )
        ),
    }


def our_fields(item: ParsedItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "link": item.link,
        "guid": item.guid,
        "date": int(item.date.timestamp()) if item.date else None,
        "body": text_of(item.content_html or item.summary_html),
        "tags": [tag.term for tag in item.tags],
        "enclosures": [e.url for e in item.enclosures if e.source == "enclosure"],
    }


def same(theirs: Any, ours: Any) -> bool:
    return theirs == ours or (theirs in ("", None, []) and ours in ("", None, []))


@pytest.fixture(scope="module")
def report() -> Report:
    result = Report()
    for path in sorted(FEEDS.iterdir()):
        data = path.read_bytes()
        ours = parse_feed(data)
        result.ours_by_feed[path.name] = len(ours.items)
        theirs = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
        if len(theirs.entries) != len(ours.items):
            result.counts.append((path.name, len(theirs.entries), len(ours.items), theirs.version))
        for index, (entry, item) in enumerate(zip(theirs.entries, ours.items, strict=False)):
            expected = feedparser_fields(entry, theirs.version or "")
            actual = our_fields(item)
            for name in FIELDS:
                result.total[name] += 1
                if same(expected[name], actual[name]):
                    result.agree[name] += 1
                else:
                    result.disagreements.append(
                        Disagreement(path.name, index, name, expected[name], actual[name])
                    )
    print()
    for name in FIELDS:
        print(f"{name}: {result.agree[name]}/{result.total[name]} agree")
    for disagreement in result.disagreements:
        print(disagreement)
    for feed, theirs_count, ours_count, version in result.counts:
        version = version or "not a feed"
        print(f"{feed}: feedparser {theirs_count} entries ({version}), ours {ours_count}")
    return result


@pytest.mark.parametrize("name", FIELDS)
def test_field_agreement(report: Report, name: str) -> None:
    ratio = report.agree[name] / report.total[name]
    listed = "\n".join(str(d) for d in report.disagreements if d.field == name)
    assert ratio >= THRESHOLD, f"{name}: {ratio:.2%} agreement\n{listed}"


def test_entry_counts(report: Report) -> None:
    """Same entry count, except where feedparser reads nothing (JSON Feed, broken XML)."""
    assert report.total["title"] >= 6500
    assert [(feed, theirs) for feed, theirs, _, _ in report.counts if theirs != 0] == []


def test_every_feed_gives_entries(report: Report) -> None:
    """The 7 not-well-formed feeds (and the JSON Feed feedparser cannot read) included."""
    assert len(report.ours_by_feed) == 200
    assert [feed for feed, count in report.ours_by_feed.items() if count == 0] == []
