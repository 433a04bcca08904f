"""Self-checks of the Chinese full-text test set (``tests/helpers/zhpages.py``, issue #13).

Data: ../shared/corpora (rsshub-zh, realworld); a missing corpus fails, never skips.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest

from tests.helpers import zhpages
from tests.helpers.zhpages import MIN_BLOCKS, MIN_CJK, ZhPage, page_text, zh_pages

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CHARSET = re.compile(rb"""charset=["']?([A-Za-z0-9_-]+)""")


@pytest.fixture(scope="module")
def pages(shared: Path) -> list[ZhPage]:
    return zh_pages(shared)


def _tree(page: ZhPage) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page.html.decode(page.encoding))


def _image_urls(page: ZhPage) -> list[tuple[str, lxml.html.HtmlElement]]:
    """Every image URL the page's markup names (src, data-src, data-original), absolute."""
    found = []
    for img in _tree(page).iter("img"):
        for name in ("src", "data-src", "data-original"):
            value = img.get(name)
            if value and not value.startswith("data:"):
                found.append((urljoin(page.url, value), img))
    return found


def test_the_set_is_deterministic(shared: Path, pages: list[ZhPage]) -> None:
    zhpages._sources.cache_clear()
    again = zh_pages(shared)
    assert again == pages
    assert zh_pages(shared, limit=7) == pages[:7]
    assert zh_pages(shared, limit=0) == []


def test_building_is_fast(shared: Path) -> None:
    """CPU time, not wall time: a loaded CI machine must not fail it."""
    zhpages._sources.cache_clear()
    start = time.process_time()
    zh_pages(shared)
    assert time.process_time() - start < 2.0


def test_sizes_and_sources(pages: list[ZhPage]) -> None:
    assert 60 <= len(pages) <= 150
    assert len({p.key for p in pages}) == len(pages)
    assert len({p.body for p in pages}) * zhpages.VARIANTS == len(pages)
    for page in pages:
        assert page.url.startswith("https://"), page.key
        assert len(_CJK.findall(page.text)) >= MIN_CJK, page.key
        assert len(page.text.splitlines()) >= MIN_BLOCKS, page.key
        assert all(line == " ".join(line.split()) and line for line in page.text.split("\n"))
        assert len(page.html) > 3 * len(page.text.encode(page.encoding)) // 2, page.key


def test_every_page_decodes_with_its_declared_encoding(pages: list[ZhPage]) -> None:
    assert {p.encoding for p in pages} <= {"utf-8", "gbk", "gb18030"}
    for page in pages:
        text = page.html.decode(page.encoding)
        assert text.startswith("<!DOCTYPE html>")
        declared = _CHARSET.search(page.html[:400])
        assert declared is not None, page.key
        assert declared[1].decode().lower() == page.encoding, page.key


def test_gbk_pages_exist(pages: list[ZhPage]) -> None:
    gb = [p for p in pages if p.encoding in ("gbk", "gb18030")]
    assert len(gb) == len(pages) // 4
    assert any(p.encoding == "gbk" for p in gb)
    for page in gb:
        with pytest.raises(UnicodeDecodeError):
            page.html.decode("utf-8")
        assert page.text.split("\n")[0][:20] in page.html.decode(page.encoding)


def test_every_expected_image_is_in_the_page(pages: list[ZhPage]) -> None:
    for page in pages:
        named = {url for url, _ in _image_urls(page)}
        assert set(page.images) <= named, page.key
        assert len(set(page.images)) == len(page.images)
        for url in page.images:
            assert url.startswith("https://"), (page.key, url)
            assert "blank.gif" not in url and "example-ads" not in url
    assert sum(len(p.images) for p in pages) >= 100


def test_lazy_extensionless_relative_and_synthetic_images_exist(pages: list[ZhPage]) -> None:
    kinds: Counter[str] = Counter()
    for page in pages:
        expected = set(page.images)
        for url, img in _image_urls(page):
            if url not in expected:
                continue
            lazy = img.get("data-src") or img.get("data-original")
            if lazy and urljoin(page.url, lazy) == url:
                kinds["lazy"] += 1
                src = img.get("src")
                assert src is None or src.startswith("data:") or src == "/static/blank.gif"
                if re.fullmatch(r"https://mmbiz\.qpic\.cn/mmbiz_\w+/\w+/640\?wx_fmt=\w+", url):
                    kinds["lazy extension-less"] += 1
            raw = lazy or img.get("src") or ""
            if not raw.startswith(("https:", "http:")):
                kinds["relative"] += 1
        if page.images and "<img" not in page.body:
            kinds["synthetic"] += 1
    assert kinds["lazy"] >= 50
    assert kinds["lazy extension-less"] >= 20
    assert kinds["relative"] >= 10
    assert kinds["synthetic"] >= 1


def test_boilerplate_is_there_but_not_in_the_text(pages: list[ZhPage]) -> None:
    wrappers = Counter[str]()
    injected_in_wrapper = 0
    for page in pages:
        markup = page.html.decode(page.encoding)
        tree = _tree(page)
        comments = tree.xpath('//*[@id="comments"]//p')
        short = [p.text_content() for p in comments if 5 <= len(p.text_content()) <= 30]
        assert len(short) >= 8, page.key
        assert len(tree.xpath("//ul[@class='nav']/li")) in range(10, 21), page.key
        assert "扫码关注公众号" in markup and "版权所有" in markup and 'class="ad' in markup
        assert "相关文章" in markup and "热门推荐" in markup
        lines = set(page.text.split("\n"))
        for el in tree.xpath("//*[@class='article-meta' or @class='share-bar' or @class='editor']"):
            injected = " ".join(el.text_content().split())
            assert injected and injected not in lines, page.key
            injected_in_wrapper += 1
        assert "扫码关注公众号" not in page.text
        for name in ("js_content", "article-content", "artibody", "TRS_Editor", "post-body",
                     "entry-content", "post-content", "markdown-body", "<article>"):  # fmt: skip
            if name in markup:
                wrappers[name] += 1
    assert len(wrappers) >= 7
    assert injected_in_wrapper >= len(pages)
    assert any("分享到：" in p.html.decode(p.encoding) for p in pages)


def test_the_expected_text_is_in_the_page_in_order(pages: list[ZhPage]) -> None:
    for page in pages:
        tree = _tree(page)
        for el in tree.xpath("//script|//style|//textarea|//button"):
            el.drop_tree()
        lines = iter(page_text(tree.body).split("\n"))
        assert all(any(line == seen for seen in lines) for line in page.text.split("\n")), page.key


def test_the_text_rule() -> None:
    root = lxml.html.fragment_fromstring(
        "lead <b>bold</b><p>一\u3000段\n 文字</p>tail<br>next&nbsp;line"
        "<ul><li>甲</li><li> </li><li>乙<span>丙</span></li></ul>"
        '<pre>code 1\n  code 2</pre><p><img src="x.jpg" alt="图片说明"></p>'
        "<!-- note --><iframe>frame</iframe>",
        create_parent="div",
    )
    assert page_text(root) == "lead bold\n一 段 文字\ntail\nnext line\n甲\n乙丙\ncode 1\ncode 2"


def test_a_missing_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="rsshub-zh"):
        zh_pages(tmp_path)
