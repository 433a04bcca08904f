"""Hostile documents: external entities, entity expansion bombs, network DTDs."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from feedsite._parse import parse_feed
from feedsite.errors import ParseError
from feedsite.types import ParsedFeed

PASSWD = Path("/etc/passwd")


def all_text(feed: ParsedFeed) -> str:
    parts = [feed.title, *feed.warnings]
    for item in feed.items:
        parts += [item.title, item.summary_html or "", item.content_html or ""]
        parts += [item.description_raw or "", item.link or "", item.guid or ""]
    return "\n".join(parts)


@pytest.mark.parametrize(
    "declaration",
    [
        '<!ENTITY x SYSTEM "file:///etc/passwd">',
        '<!ENTITY x SYSTEM "/etc/passwd">',
        '<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;',
    ],
)
def test_external_entity_is_not_read(declaration: str) -> None:
    document = f"""<?xml version="1.0"?>
<!DOCTYPE rss [{declaration}]>
<rss version="2.0"><channel><title>t &x;</title>
<item><title>leak: &x;</title><description>&x;</description><link>http://x.org/1</link></item>
</channel></rss>""".encode()
    feed = parse_feed(document)
    text = all_text(feed)
    assert "root:" not in text
    if PASSWD.is_file():
        first_line = PASSWD.read_text(errors="replace").splitlines()[0]
        assert first_line not in text
    assert feed.items[0].link == "http://x.org/1"


def test_external_dtd_is_not_loaded(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY secret "LEAKED">')
    document = f"""<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">
<rss version="2.0"><channel><title>t</title>
<item><title>x &secret;</title></item></channel></rss>"""
    feed = parse_feed(document.encode())
    assert "LEAKED" not in all_text(feed)


def billion_laughs(levels: int) -> bytes:
    entities = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(entities)}]>'
        f'<rss version="2.0"><channel><title>bomb</title>'
        f"<item><title>&lol{levels};</title><description>&lol{levels};</description></item>"
        "</channel></rss>"
    ).encode()


def test_billion_laughs_finishes_fast() -> None:
    start = time.perf_counter()
    feed = parse_feed(billion_laughs(9))
    assert time.perf_counter() - start < 1.0
    assert len(all_text(feed)) < 10_000


def test_quadratic_blowup_finishes_fast() -> None:
    big = "A" * 100_000
    document = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]>'
        f'<rss version="2.0"><channel><item><title>{"&a;" * 20_000}</title></item></channel></rss>'
    ).encode()
    start = time.perf_counter()
    try:
        feed = parse_feed(document)
    except ParseError:
        pass
    else:
        assert len(all_text(feed)) < 1_000_000
    assert time.perf_counter() - start < 2.0


def test_deep_nesting_does_not_crash() -> None:
    document = b'<rss version="2.0"><channel><item><title>deep</title><description>'
    document += b"<div>" * 100_000 + b"</description></item></channel></rss>"
    with contextlib.suppress(ParseError):
        parse_feed(document)


def test_huge_json_nesting_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_feed(b"[" * 200_000)


def test_control_characters_are_removed_from_titles() -> None:
    data = (
        b'<rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
        b"<title>a&#x7;b\x01c&#x81;d\te&#x1b;[31m</title></item></channel></rss>"
    )
    assert parse_feed(data).items[0].title == "abcd\te[31m"


def test_windows_1252_c1_characters_in_xml_titles_are_mapped_not_dropped() -> None:
    """issue #17: U+0085 / &#133; in a feed is cp1252's "…", not a control character."""
    data = (
        b'<rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
        b"<title>a&#x85;b&amp;#146;c\xc2\x92d</title></item></channel></rss>"
    )
    assert parse_feed(data).items[0].title == "a…b’c’d"
