"""The list of a story's other reports under a Hexo post (``site.dedupe: link``): feed text
stays text, unsafe links are not written, and the front matter stays valid YAML."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import yaml
from hypothesis import given
from hypothesis import strategies as st

from feedsite._targets.hexo._body import sources_footer
from feedsite._targets.hexo._default import render
from feedsite.types import OtherReport, PostSource, RenderSettings

SETTINGS = RenderSettings("default", "Asia/Shanghai", None, "", "source_url")
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def post(*others: OtherReport) -> PostSource:
    return PostSource(
        "0123456789abcdef", "新闻", "甲", "快讯", "标题", "https://a.example/1", NOW, NOW,
        "<p>正文</p>", None, (), others=others,
    )  # fmt: skip


text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)


@given(title=text, site=text, feed=text)
def test_feed_text_stays_text(title: str, site: str, feed: str) -> None:
    footer = sources_footer(post(OtherReport(site, feed, title, "https://b.example/2")))
    root = lxml.html.fragment_fromstring(footer)
    assert {el.tag for el in root.iter()} == {"aside", "p", "ul", "li", "a"}
    (a,) = root.iter("a")
    assert a.get("href") == "https://b.example/2" and a.text_content() == title
    li = next(root.iter("li"))
    assert li.text == f"{site} › {feed}: "


@given(title=text, site=text)
def test_front_matter_reads_back(title: str, site: str) -> None:
    written = render(post(OtherReport(site, "头条", title, "https://b.example/2")), SETTINGS)
    front = yaml.safe_load(written.split("\n---\n")[0].removeprefix("---\n"))
    assert front["sources"] == [
        {"site": site, "feed": "头条", "title": title, "link": "https://b.example/2"}
    ]


def test_an_unsafe_link_is_not_written() -> None:
    footer = sources_footer(post(OtherReport("乙", "头条", "x", "javascript:alert(1)")))
    assert "javascript" not in footer and "href" not in footer
    written = render(post(OtherReport("乙", "头条", "x", "javascript:alert(1)")), SETTINGS)
    assert "javascript" not in written
