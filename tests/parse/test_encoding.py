"""Bytes → text: BOM > Content-Type > XML declaration > UTF-8 > GB18030 > detection."""

from __future__ import annotations

import pytest

from feedsite._parse import parse_feed
from feedsite._parse._encoding import decode

ITEM = "<item><title>{title}</title><link>http://example.cn/1</link></item>"


def rss(title: str, declaration: str = "") -> str:
    channel = f"<channel><title>t</title>{ITEM.format(title=title)}</channel>"
    return f'{declaration}<rss version="2.0">{channel}</rss>'


def title_of(data: bytes, content_type: str | None = None) -> str:
    return parse_feed(data, content_type=content_type).items[0].title


CHINESE = "国务院召开常务会议，部署稳定经济运行"


def test_gbk_without_declaration() -> None:
    assert title_of(rss(CHINESE).encode("gbk")) == CHINESE


def test_gb18030_with_gb2312_declaration() -> None:
    title = "𠮷野家 € 㐀"  # four-byte GB18030 sequences, outside gb2312 and gbk
    data = rss(title, '<?xml version="1.0" encoding="gb2312"?>').encode("gb18030")
    assert title_of(data) == title


@pytest.mark.parametrize("label", ["gb2312", "GBK", "x-gbk", "cp936", "GB_2312-80", "gb18030"])
def test_gb_family_labels_read_as_gb18030(label: str) -> None:
    data = rss(CHINESE, f'<?xml version="1.0" encoding="{label}"?>').encode("gb18030")
    assert decode(data).encoding == "gb18030"
    assert title_of(data) == CHINESE


def test_utf8_with_invalid_bytes_is_replaced_not_fatal() -> None:
    data = rss("前XX后", '<?xml version="1.0" encoding="utf-8"?>').encode()
    data = data.replace(b"XX", b"\xff\xfe")
    feed = parse_feed(data)
    assert feed.items[0].title == "前\ufffd\ufffd后"
    assert any("undecodable" in warning for warning in feed.warnings)


def test_undeclared_mostly_utf8_stays_utf8() -> None:
    body = rss(CHINESE * 3 + "X").encode().replace(b"X", b"\xff")
    assert decode(body).encoding == "utf-8"
    assert title_of(body) == CHINESE * 3 + "\ufffd"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_byte_order_marks(codec: str) -> None:
    data = rss(CHINESE, '<?xml version="1.0" encoding="utf-16"?>').encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    assert title_of(data) == CHINESE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16(codec: str) -> None:
    assert title_of(rss(CHINESE).encode(codec)) == CHINESE


def test_bom_beats_content_type_and_declaration() -> None:
    data = b"\xef\xbb\xbf" + rss("café", '<?xml version="1.0" encoding="gbk"?>').encode()
    assert title_of(data, "text/xml; charset=iso-8859-1") == "café"


def test_content_type_charset_beats_declaration() -> None:
    data = rss("café", '<?xml version="1.0" encoding="utf-8"?>').encode("cp1252")
    assert title_of(data, 'application/rss+xml; charset="windows-1252"') == "café"


def test_declaration_used_without_content_type_charset() -> None:
    data = rss("Ελληνικά", '<?xml version="1.0" encoding="iso-8859-7"?>').encode("iso-8859-7")
    assert title_of(data, "application/xml") == "Ελληνικά"


def test_declared_single_byte_yields_to_valid_utf8() -> None:
    """Servers often label UTF-8 as iso-8859-1; valid UTF-8 is never an accident."""
    data = rss("café 中文", '<?xml version="1.0" encoding="iso-8859-1"?>').encode()
    decoded = decode(data, "text/xml; charset=ISO-8859-1")
    assert decoded.encoding == "utf-8"
    assert decoded.warnings
    assert title_of(data, "text/xml; charset=ISO-8859-1") == "café 中文"


def test_iso_8859_1_reads_as_windows_1252() -> None:
    data = rss("“quoted” – dash", '<?xml version="1.0" encoding="iso-8859-1"?>').encode("cp1252")
    assert title_of(data) == "“quoted” – dash"


def test_declared_utf16_on_ascii_bytes_is_ignored() -> None:
    data = rss("plain", '<?xml version="1.0" encoding="utf-16"?>').encode()
    feed = parse_feed(data)
    assert feed.items[0].title == "plain"
    assert any("ASCII-compatible" in warning for warning in feed.warnings)


def test_unknown_label_is_ignored() -> None:
    data = rss(CHINESE, '<?xml version="1.0" encoding="no-such-codec"?>').encode()
    feed = parse_feed(data)
    assert feed.items[0].title == CHINESE
    assert any("unknown encoding" in warning for warning in feed.warnings)


def test_declared_utf8_over_gbk_bytes_reads_gb18030() -> None:
    data = rss(CHINESE * 2, '<?xml version="1.0" encoding="utf-8"?>').encode("gbk")
    assert title_of(data) == CHINESE * 2


def test_undeclared_latin_text_is_detected() -> None:
    text = "Ceci est un texte en français, avec des accents : é à è ù ç. " * 3
    data = rss(text.strip()).encode("cp1252")
    assert title_of(data) == text.strip()


def test_utf8_passes_through_unchanged() -> None:
    data = rss(CHINESE, '<?xml version="1.0" encoding="UTF-8"?>').encode()
    decoded = decode(data)
    assert decoded.utf8 is data
    assert decoded.warnings == ()
