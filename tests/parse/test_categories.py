"""Item categories (for ``category`` rules, issue #13): RSS ``<category>``, Atom
``<category label term>``, JSON Feed ``tags``; stripped, in order, without repeats, bounded."""

from __future__ import annotations

import json

import pytest

from feedsite._parse import parse_feed

RSS = (
    '<rss version="2.0"><channel><title>t</title><item><title>a</title><guid>1</guid>'
    "{cats}</item></channel></rss>"
)
ATOM = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>a</title>'
    "<id>urn:1</id>{cats}</entry></feed>"
)


@pytest.mark.parametrize(
    ("document", "want"),
    [
        (RSS.format(cats=""), ()),
        (RSS.format(cats="<category>科技</category><category> 芯片\n 半导体 </category>"),
         ("科技", "芯片 半导体")),
        (RSS.format(cats='<category domain="x">A</category><category>A</category><category/>'),
         ("A",)),
        (RSS.format(cats="<category><![CDATA[软文]]></category>"), ("软文",)),
        (ATOM.format(cats='<category term="t1"/><category term="t2" label="标签"/>'),
         ("t1", "标签")),
        (ATOM.format(cats='<category scheme="s"/>'), ()),
    ],
)  # fmt: skip
def test_xml_categories(document: str, want: tuple[str, ...]) -> None:
    (item,) = parse_feed(document.encode(), url="https://e.example/").items
    assert item.categories == want


def test_json_feed_tags() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [
            {"id": "1", "tags": ["新闻", 3, None, " 新闻 ", "", "国际  要闻"]},
            {"id": "2", "tags": "not a list"},
            {"id": "3", "tags": ["\ud800x"]},
        ],
    }
    data = json.dumps(doc).encode()
    one, two, three = parse_feed(data, url="https://e.example/").items
    assert one.categories == ("新闻", "国际 要闻")
    assert two.categories == ()
    assert three.categories == ("\ufffdx",)  # a lone surrogate cannot reach the store


def test_categories_are_bounded() -> None:
    cats = "".join(f"<category>c{n}</category>" for n in range(500))
    (item,) = parse_feed(RSS.format(cats=cats).encode(), url="https://e.example/").items
    assert len(item.categories) == 64 and item.categories[0] == "c0"
    long = "<category>" + "长" * 1000 + "</category>"
    (item,) = parse_feed(RSS.format(cats=long).encode(), url="https://e.example/").items
    assert item.categories == ("长" * 200,)
