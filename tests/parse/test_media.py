"""Tags, enclosures and authors (issue #17): the forms feeds write them in."""

from __future__ import annotations

import json

import pytest

from feedsite._parse import parse_feed
from feedsite.types import Enclosure, Person, Tag


def rss_item(inner: str, namespaces: str = "") -> bytes:
    return (
        f'<rss version="2.0" {namespaces}><channel><title>t</title><link>https://e.org/</link>'
        f"<item><guid>1</guid>{inner}</item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("written", "person"),
    [
        ("me@example.com (Example editor)", Person("Example editor", "me@example.com")),
        ("Example editor (me@example.com)", Person("Example editor", "me@example.com")),
        ("Example editor &lt;me@example.com&gt;", Person("Example editor", "me@example.com")),
        ("me@example.com", Person(None, "me@example.com")),
        ("张三 (Editor)", Person("张三 (Editor)")),
    ],
)
def test_rss_author_forms(written: str, person: Person) -> None:
    [item] = parse_feed(rss_item(f"<author>{written}</author>")).items
    assert item.authors == (person,)
    assert item.author == (person.name or person.email)  # the old field, as before


@pytest.mark.parametrize(
    "namespace",
    [
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
        "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
        "http://www.itunes.com/DTDs/PodCast-1.0.dtd",
    ],
)
def test_itunes_namespace_spellings(namespace: str) -> None:
    inner = (
        '<enclosure url="https://e.org/a.mp3" length="1000" type="audio/mpeg"/>'
        "<itunes:duration>01:02:03</itunes:duration><itunes:author>Host</itunes:author>"
        '<itunes:image href="https://e.org/c.jpg"/>'
    )
    [item] = parse_feed(rss_item(inner, f'xmlns:itunes="{namespace}"')).items
    assert item.enclosures == (
        Enclosure(
            "https://e.org/a.mp3", "audio/mpeg", 1000, 3723, "https://e.org/c.jpg", None, "audio"
        ),
    )
    assert item.author == "Host"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:audio/mpeg;base64,AA", " "])
def test_unsafe_enclosure_and_thumbnail_urls_never_pass(url: str) -> None:
    inner = (
        f'<enclosure url="{url}" type="audio/mpeg"/>'
        f'<media:content url="https://e.org/v.mp4"><media:thumbnail url="{url}"/></media:content>'
    )
    [item] = parse_feed(rss_item(inner, 'xmlns:media="http://search.yahoo.com/mrss/"')).items
    assert [e.url for e in item.enclosures] == ["https://e.org/v.mp4"]
    assert item.enclosures[0].thumbnail is None


def test_atom_categories_enclosure_links_and_people() -> None:
    doc = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
    <author><name>Feed</name></author>
    <entry><id>1</id><title>x</title>
      <category term="go" scheme="https://e.org/s" label="Go"/>
      <link rel="enclosure" href="https://e.org/m.mp4" type="video/mp4" length="42" title="M"/>
      <author><name>A</name><email>a@e.org</email><uri>https://e.org/a</uri></author>
    </entry><entry><id>2</id><title>y</title></entry></feed>"""
    first, second = parse_feed(doc, url="https://e.org/feed").items
    assert first.tags == (Tag("go", "https://e.org/s", "Go"),)
    assert first.categories == ("Go",)
    assert first.enclosures == (
        Enclosure("https://e.org/m.mp4", "video/mp4", 42, None, None, "M", "video"),
    )
    assert first.authors == (Person("A", "a@e.org", "https://e.org/a"),)
    assert second.authors == (Person("Feed"),)  # inherited (RFC 4287 §4.2.1)


def test_json_feed_attachments_tags_and_authors() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "F",
        "authors": [{"name": "Feed", "url": "javascript:x"}],
        "items": [
            {
                "id": "1",
                "content_text": "x",
                "tags": ["a", " a ", "b", 3],
                "image": "https://e.org/i.jpg",
                "attachments": [
                    {
                        "url": "https://e.org/p.mp3",
                        "mime_type": "audio/mpeg",
                        "size_in_bytes": 5,
                        "duration_in_seconds": 61.5,
                    },
                    {"url": "data:x", "mime_type": "audio/mpeg"},
                ],
            }
        ],
    }
    [item] = parse_feed(json.dumps(doc).encode()).items
    assert [t.term for t in item.tags] == ["a", "b"]
    assert item.enclosures == (
        Enclosure("https://e.org/p.mp3", "audio/mpeg", 5, 61, "https://e.org/i.jpg", None, "audio"),
    )
    assert item.authors == (Person("Feed"),)


@pytest.mark.parametrize(
    "title",
    [
        "<title type='html'>safe&lt;script&gt;location.href='x'&lt;/script&gt; title</title>",
        "<title type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>safe<script>"
        "location.href='x'</script> title</div></title>",
    ],
)
def test_script_text_never_reaches_a_plain_text_title(title: str) -> None:
    """feedparser's sanitize/feed_title_script.xml: text_content() kept the script's text."""
    doc = f'<feed xmlns="http://www.w3.org/2005/Atom">{title}<entry>{title}</entry></feed>'
    feed = parse_feed(doc.encode())
    assert feed.title == feed.items[0].title == "safe title"


@pytest.mark.parametrize("tag", ["body", "fullitem"])
def test_old_rss_bodies_are_read(tag: str) -> None:
    [item] = parse_feed(rss_item(f"<{tag}>&lt;p&gt;text&lt;/p&gt;</{tag}>")).items
    assert item.content_html is not None and "text" in item.content_html
