"""The Referer policy of image downloads (``_fetch._referer``): pure, table-driven."""

from __future__ import annotations

import pytest

from feedsite._fetch import BUILTIN_REFERERS, referers_for
from feedsite._fetch._referer import host_matches

ARTICLE = "https://www.example.com/news/1"
WEIBO = "https://weibo.com/"


@pytest.mark.parametrize(
    ("host", "pattern", "expected"),
    [
        ("wx1.sinaimg.cn", "wx1.sinaimg.cn", True),
        ("WX1.SinaImg.CN", "wx1.sinaimg.cn", True),
        ("wx2.sinaimg.cn", "wx1.sinaimg.cn", False),
        ("wx1.sinaimg.cn", "*.sinaimg.cn", True),
        ("a.b.sinaimg.cn", "*.sinaimg.cn", True),
        ("sinaimg.cn", "*.sinaimg.cn", True),  # the bare suffix matches too
        ("notsinaimg.cn", "*.sinaimg.cn", False),
        ("sinaimg.cn.evil.com", "*.sinaimg.cn", False),
        ("wx1.sinaimg.cn.", "*.SINAIMG.CN", True),
        ("cn", "*.", False),
        ("anything", "", False),
    ],
)
def test_host_patterns(host: str, pattern: str, expected: bool) -> None:
    assert host_matches(host, pattern) is expected


@pytest.mark.parametrize(
    ("url", "article", "expected"),
    [
        # built-in table: the rule first, then the article, then no Referer
        ("https://wx1.sinaimg.cn/large/a.jpg", ARTICLE, (WEIBO, ARTICLE, None)),
        ("https://tvax2.sinaimg.cn/large/a.jpg", None, (WEIBO, None)),
        ("https://SINAIMG.CN/a.jpg", None, (WEIBO, None)),
        ("https://mmbiz.qpic.cn/mmbiz_jpg/x?wx_fmt=jpeg", ARTICLE, (None, ARTICLE)),
        ("https://wx.qlogo.cn/mmhead/x/0", None, (None,)),
        ("https://pic1.zhimg.com/v2-a.jpg", None, ("https://www.zhihu.com/", None)),
        ("https://img.36krcdn.com/a", None, ("https://36kr.com/", None)),
        ("https://cdn.sspai.com/a.png", None, ("https://sspai.com/", None)),
        ("https://cdnfile.sspai.com/a.png", None, ("https://sspai.com/", None)),
        ("https://static.zaobao.com/s3fs-public/a.jpg", ARTICLE, (ARTICLE, None)),
        ("https://www.zaobao.com.sg/a.jpg", ARTICLE, (ARTICLE, None)),
        ("https://static.zaobao.com/a.jpg", None, (None,)),  # "article" without one: skipped
        ("https://i0.hdslb.com/bfs/a.jpg", None, ("https://www.bilibili.com/", None)),
        ("https://img9.doubanio.com/a.jpg", None, ("https://www.douban.com/", None)),
        ("https://static.cnbetacdn.com/a.jpg", None, ("https://www.cnbeta.com.tw/", None)),
        ("https://img.ithome.com/a.jpg", None, ("https://www.ithome.com/", None)),
        ("https://ci.xiaohongshu.com/a", ARTICLE, (None, ARTICLE)),
        ("https://sns-webpic-qc.xhscdn.com/a", None, (None,)),
        ("https://i.pximg.net/img-original/a.png", None, ("https://www.pixiv.net/", None)),
        # no rule: the article, then nothing
        ("https://img.example.org/a.png", ARTICLE, (ARTICLE, None)),
        ("https://img.example.org/a.png", None, (None,)),
        # unreadable URLs still get the fallbacks
        ("not a url", ARTICLE, (ARTICLE, None)),
        ("http://[::1/a.png", None, (None,)),
    ],
)
def test_builtin_table(url: str, article: str | None, expected: tuple[str | None, ...]) -> None:
    assert referers_for(url, article) == expected


@pytest.mark.parametrize(
    ("rules", "url", "article", "expected"),
    [
        # a site rule wins over the built-in one
        (
            [("*.sinaimg.cn", "https://m.weibo.cn/")],
            "https://wx1.sinaimg.cn/a.jpg",
            ARTICLE,
            ("https://m.weibo.cn/", ARTICLE, None),
        ),
        # rules in order: the most specific level comes first, the first match decides
        (
            [("wx1.sinaimg.cn", "none"), ("*.sinaimg.cn", "https://m.weibo.cn/")],
            "https://wx1.sinaimg.cn/a.jpg",
            ARTICLE,
            (None, ARTICLE),
        ),
        (
            [("wx1.sinaimg.cn", "none"), ("*.sinaimg.cn", "https://m.weibo.cn/")],
            "https://wx2.sinaimg.cn/a.jpg",
            None,
            ("https://m.weibo.cn/", None),
        ),
        # "article" and "none", any case
        ([("img.example.org", "Article")], "https://img.example.org/a", ARTICLE, (ARTICLE, None)),
        ([("img.example.org", "NONE")], "https://img.example.org/a", ARTICLE, (None, ARTICLE)),
        # "article" without an article gives no first candidate (and stops the search)
        ([("*.sinaimg.cn", "article")], "https://wx1.sinaimg.cn/a", None, (None,)),
        # a rule whose value is the article URL itself is not repeated
        ([("img.example.org", ARTICLE)], "https://img.example.org/a", ARTICLE, (ARTICLE, None)),
        # a non-matching rule leaves the built-in table in charge
        ([("*.example.org", "none")], "https://wx1.sinaimg.cn/a", None, (WEIBO, None)),
        # a rule for a host outside the table
        (
            [("*.example.org", "https://www.example.org/")],
            "https://cdn.img.example.org/a",
            ARTICLE,
            ("https://www.example.org/", ARTICLE, None),
        ),
    ],
)
def test_site_rules_come_first(
    rules: list[tuple[str, str]],
    url: str,
    article: str | None,
    expected: tuple[str | None, ...],
) -> None:
    assert referers_for(url, article, rules) == expected


def test_candidates_are_never_empty_nor_repeated() -> None:
    for pattern, _value in BUILTIN_REFERERS:
        host = pattern.removeprefix("*.")
        for article in (None, ARTICLE):
            candidates = referers_for(f"https://{host}/a.png", article)
            assert candidates, pattern
            assert candidates[-1] is None or candidates[-1] == ARTICLE, pattern
            assert len(set(candidates)) == len(candidates), pattern
            assert None in candidates, pattern


def test_builtin_values_are_urls_or_words() -> None:
    for pattern, value in BUILTIN_REFERERS:
        assert pattern.startswith("*.") or "." in pattern
        assert value in ("article", "none") or (
            value.startswith("https://") and value.endswith("/")
        ), (pattern, value)
