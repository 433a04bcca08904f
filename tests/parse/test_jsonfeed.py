"""The JSON Feed spec examples (../shared/corpora/jsonfeed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedsite._parse import looks_like_feed, parse_feed
from feedsite._parse._dates import parse_date

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
EXAMPLES = sorted((SHARED / "corpora" / "jsonfeed").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_spec_example(path: Path) -> None:
    document = json.loads(path.read_text())
    feed = parse_feed(path.read_bytes())
    assert looks_like_feed(path.read_bytes())
    assert feed.format == ("json10" if document["version"].endswith("/1") else "json11")
    assert feed.title == document["title"]
    assert feed.link == document.get("home_page_url")
    assert feed.warnings == ()
    assert len(feed.items) == len(document["items"])
    for item, source in zip(feed.items, document["items"], strict=True):
        assert item.guid == str(source["id"])
        assert item.link == source.get("url")
        assert item.title == source.get("title", "")
        if "content_html" in source:
            assert item.content_html == source["content_html"]
            assert item.description_raw == source["content_html"]
        else:
            assert item.content_html is not None
            assert item.description_raw is None
        stamp = source.get("date_published") or source.get("date_modified")
        assert item.date == (parse_date(stamp) if stamp else None)
        author = (source.get("authors") or document.get("authors") or [{}])[0].get("name")
        author = author or (source.get("author") or document.get("author") or {}).get("name")
        assert item.author == author


def test_content_text_is_escaped_into_paragraphs() -> None:
    feed = parse_feed(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1",'
        b' "content_text": "a < b & c\\n\\nnext\\nline"}]}'
    )
    assert feed.items[0].content_html == "<p>a &lt; b &amp; c</p><p>next<br>\nline</p>"


def test_examples_are_there() -> None:
    assert len(EXAMPLES) >= 6
