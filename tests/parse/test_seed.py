"""The seed item of the legacy format: /shared/seed/guancha-headline.xml."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from feedsite._parse import parse_feed

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SEED = SHARED / "seed" / "guancha-headline.xml"


def cdata_of_item_description(document: bytes) -> str:
    """The item's description CDATA, cut out of the bytes by hand."""
    item = document[document.index(b"<item>") :]
    start = item.index(b"<description><![CDATA[") + len(b"<description><![CDATA[")
    end = item.index(b"]]></description>", start)
    return item[start:end].decode("utf-8")


def test_seed_item() -> None:
    document = SEED.read_bytes()
    feed = parse_feed(document, url="https://rsshub.example.org/guancha/headline")
    assert feed.format == "rss20"
    assert feed.title == "观察者网 - 头条"
    assert feed.warnings == ()
    (item,) = feed.items
    assert item.title == "集安组织“火速”出手，哈总统称宪法秩序已恢复"
    assert item.date == datetime(2022, 1, 7, 15, 23, 27, tzinfo=UTC)
    assert item.guid == item.link == "https://www.guancha.cn/internation/2022_01_07_621401.shtml"


def test_seed_description_raw_is_the_cdata_byte_for_byte() -> None:
    document = SEED.read_bytes()
    (item,) = parse_feed(document).items
    raw = item.description_raw
    assert raw is not None
    assert raw == cdata_of_item_description(document)
    assert raw.startswith('<img src="https://i.guancha.cn/news/2022/01/07/20220107154232141.jpg"')
    assert raw.endswith("</strong> \n</p>\n")
    assert item.summary_html == raw.strip()
