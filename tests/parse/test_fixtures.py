"""Data-driven mapping tests: each feed in ``data/`` is paired with ``<name>.expected.json``.

The expectation lists the ``parse_feed`` inputs (``url``, and optionally
``content_type`` and ``default_tz`` as a zone name), the feed fields, every
field of every item (dates as ISO 8601 UTC) and substrings the warnings must
contain. Each file's ``description`` says what it exercises.
"""

from __future__ import annotations

import dataclasses
import json
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from feedsite._parse import looks_like_feed, parse_feed
from feedsite.types import ParsedFeed

DATA = Path(__file__).parent / "data"
#: Feed documents: not expectations, not the feedparser suite's list of differences.
CASES = sorted(
    p
    for p in DATA.iterdir()
    if p.is_file() and ".expected." not in p.name and not p.name.startswith("feedparser_")
)


def expected_for(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    return result


def parse_with_inputs(path: Path, inputs: dict[str, str]) -> ParsedFeed:
    kwargs: dict[str, Any] = dict(inputs)
    if "default_tz" in kwargs:
        kwargs["default_tz"] = zoneinfo.ZoneInfo(kwargs["default_tz"])
    return parse_feed(path.read_bytes(), **kwargs)


def as_plain(feed: ParsedFeed) -> dict[str, Any]:
    items = []
    for item in feed.items:
        fields = {name: getattr(item, name) for name in item.__slots__}
        fields["date"] = item.date.isoformat() if item.date else None
        fields["images"] = list(item.images)
        fields["categories"] = list(item.categories)
        for name in ("tags", "enclosures", "authors"):
            fields[name] = [dataclasses.asdict(value) for value in getattr(item, name)]
        items.append(fields)
    return {"format": feed.format, "title": feed.title, "link": feed.link, "items": items}


def test_every_fixture_has_an_expectation() -> None:
    assert CASES
    for path in CASES:
        assert path.with_name(path.stem + ".expected.json").is_file(), path.name


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_fixture(path: Path) -> None:
    expected = expected_for(path)
    feed = parse_with_inputs(path, expected["input"])
    actual = as_plain(feed)
    assert {k: actual[k] for k in ("format", "title", "link")} == {
        k: expected[k] for k in ("format", "title", "link")
    }
    assert len(actual["items"]) == len(expected["items"])
    for index, (got, want) in enumerate(zip(actual["items"], expected["items"], strict=True)):
        assert got == want, f"item {index}"
    for needle in expected["warnings_contain"]:
        assert any(needle in warning for warning in feed.warnings), (needle, feed.warnings)
    if not expected["warnings_contain"]:
        assert feed.warnings == ()


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_fixture_sniffs_as_feed(path: Path) -> None:
    assert looks_like_feed(path.read_bytes())


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_dates_are_aware_utc(path: Path) -> None:
    for item in parse_feed(path.read_bytes()).items:
        if item.date is not None:
            assert item.date.utcoffset() == timedelta(0)
