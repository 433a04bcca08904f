"""RSS/Atom titles as plain text, matching feedparser's reading of the same markup.

feedparser keeps HTML-looking RSS titles (a closing tag or an entity reference)
as HTML and types them ``text/html``; feedsite returns the text of that HTML.
So the expectation is feedparser's title, reduced to its text when typed HTML.
"""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from feedsite._parse import parse_feed

feedparser = pytest.importorskip("feedparser")

RSS_TITLES = [
    "Plain title",
    "  padded title \n",
    "<![CDATA[集安组织“火速”出手，哈总统称宪法秩序已恢复]]>",
    "<![CDATA[ spaced CDATA ]]>",
    "AT&amp;T",
    "AT&amp;amp;T",
    "a &lt; b and c &gt; d",
    "&lt;b&gt;Bold&lt;/b&gt; news",
    "<![CDATA[<b>Bold</b> in CDATA]]>",
    "<![CDATA[Tom &amp; Jerry]]>",
    "Caf&#233; &#x4e2d;&#25991;",
    "Using &amp;lt;div&amp;gt; tags",
    "Q&amp;A: &amp;quot;quoted&amp;quot;",
    "x &amp;nbsp; y",
    "&lt;script&gt;alert(1)&lt;/script&gt; title",
    "line one\nline two",
]

ATOM_TITLES = [
    "Plain",
    '<title type="text">a &lt;b&gt; c</title>',
    '<title type="html">&lt;em&gt;Emph&lt;/em&gt; &amp;amp; more</title>',
    '<title type="html"><![CDATA[<b>x</b> &amp; y]]></title>',
    '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
    "An <b>XHTML</b> title</div></title>",
]


def feedparser_text(document: bytes) -> str:
    entry = feedparser.parse(document, sanitize_html=False).entries[0]
    title: str = entry.get("title", "")
    if entry.title_detail.type in ("text/html", "application/xhtml+xml") and title.strip():
        title = str(lxml_html.fragment_fromstring(title, create_parent="div").text_content())
    return title.strip()


@pytest.mark.parametrize("markup", RSS_TITLES)
def test_rss_title_matches_feedparser(markup: str) -> None:
    document = (
        f'<rss version="2.0"><channel><title>c</title><item><title>{markup}</title>'
        "<link>http://example.org/1</link></item></channel></rss>"
    ).encode()
    assert parse_feed(document).items[0].title == feedparser_text(document)


@pytest.mark.parametrize("markup", ATOM_TITLES)
def test_atom_title_matches_feedparser(markup: str) -> None:
    element = markup if markup.startswith("<title") else f"<title>{markup}</title>"
    document = (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>f</title><entry>{element}'
        '<id>urn:x</id><link href="http://example.org/1"/></entry></feed>'
    ).encode()
    assert parse_feed(document).items[0].title == feedparser_text(document)
