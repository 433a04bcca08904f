"""Which ``Referer`` to send when downloading a post's image (issue #12).

Scope: pure functions over host patterns: ``host_matches`` and ``referers_for``,
plus the built-in table ``BUILTIN_REFERERS``. Contains no I/O.

Image hosts refuse hotlinking by looking at the ``Referer``. Each host does it
its own way, so the policy is a list of candidates tried in order (the download
fails over from one to the next, see ``_images``): the first comes from the
first matching rule (the site owner's ``images.referer`` rules first, then the
built-in table), then the article's own URL, then no ``Referer`` at all.

A pattern is an exact host (``wx1.sinaimg.cn``) or ``*.suffix``, which matches
the suffix's subdomains and the bare suffix (``*.sinaimg.cn`` matches
``sinaimg.cn`` and ``wx1.sinaimg.cn``, not ``notsinaimg.cn``). Hosts are compared
lower-case, without a trailing dot. A rule's value is an ``https://`` URL (sent as
it is), ``"article"`` (the article's URL; skipped when there is none) or
``"none"`` (send no ``Referer``). The first matching pattern decides: an
``"article"`` rule for a post without a URL gives no first candidate (the
table is not searched further), only the fallbacks.

Sources of the built-in table: the image hosts seen in real feeds (RSSHub routes
and the posts they produce), the ``imageRefererMatches`` table of the Follow
reader, and the proxies people write for these hosts. Where no stricter rule is
known, the value is the home page of the site whose pages show the images, which
is what a browser on those pages sends (its default policy sends the origin):

- Weibo, ``*.sinaimg.cn`` (``wx1``-``wx4``, ``ww1``-``ww4``, ``tva1``, ``tvax2``...):
  403 "denied by Referer ACL" for a foreign Referer; ``https://weibo.com/``
  works (the Follow reader's ``imageRefererMatches`` and RSSHub users send it).
- WeChat, ``*.qpic.cn`` (``mmbiz.qpic.cn``) and ``*.qlogo.cn`` (avatars): a
  foreign Referer gets a 200 "this image comes from WeChat" placeholder; with
  no Referer the real image comes back. So: none.
- Zhihu, ``*.zhimg.com`` (``pic1``-``pic4``, ``picx``): ``https://www.zhihu.com/``.
- 36Kr, ``*.36krcdn.com`` (``img.36krcdn.com``): ``https://36kr.com/``.
- sspai, ``*.sspai.com`` (``cdn.sspai.com``, ``cdnfile.sspai.com``):
  ``https://sspai.com/`` (Follow sends it for ``cdnfile.sspai.com``).
- Lianhe Zaobao, ``*.zaobao.com`` and ``*.zaobao.com.sg`` (RSSHub's zaobao route
  rewrites its images to ``static.zaobao.com/s3fs-public/...``): only the
  article's own URL is accepted, so: article.
- bilibili, ``*.hdslb.com`` (``i0``-``i2.hdslb.com``): ``https://www.bilibili.com/``.
- Douban, ``*.doubanio.com`` (``img1``-``img9``): ``https://www.douban.com/``.
- cnBeta, ``*.cnbetacdn.com`` (``static.cnbetacdn.com``): ``https://www.cnbeta.com.tw/``.
- IT之家, ``*.ithome.com`` (``img.ithome.com``): ``https://www.ithome.com/``.
- Xiaohongshu, ``*.xiaohongshu.com`` and ``*.xhscdn.com`` (``sns-webpic-qc``):
  a foreign Referer is refused, no Referer is served (like WeChat): none.
- pixiv, ``*.pximg.net`` (``i.pximg.net``): 403 without ``https://www.pixiv.net/``.
- Jianshu, ``*.jianshu.io`` (``upload-images.jianshu.io``): ``https://www.jianshu.com/``.
- Instagram, ``*.cdninstagram.com``: ``https://www.instagram.com/`` (Follow's table).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

#: The value of a rule that means "the article's URL".
ARTICLE = "article"
#: The value of a rule that means "send no Referer".
NONE = "none"

#: Host pattern -> ``"https://..."`` | ``"article"`` | ``"none"``; see the module docstring.
BUILTIN_REFERERS: tuple[tuple[str, str], ...] = (
    ("*.sinaimg.cn", "https://weibo.com/"),
    ("*.qpic.cn", NONE),
    ("*.qlogo.cn", NONE),
    ("*.zhimg.com", "https://www.zhihu.com/"),
    ("*.36krcdn.com", "https://36kr.com/"),
    ("*.sspai.com", "https://sspai.com/"),
    ("*.zaobao.com", ARTICLE),
    ("*.zaobao.com.sg", ARTICLE),
    ("*.hdslb.com", "https://www.bilibili.com/"),
    ("*.doubanio.com", "https://www.douban.com/"),
    ("*.cnbetacdn.com", "https://www.cnbeta.com.tw/"),
    ("*.ithome.com", "https://www.ithome.com/"),
    ("*.xiaohongshu.com", NONE),
    ("*.xhscdn.com", NONE),
    ("*.pximg.net", "https://www.pixiv.net/"),
    ("*.jianshu.io", "https://www.jianshu.com/"),
    ("*.cdninstagram.com", "https://www.instagram.com/"),
)


def _host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def host_matches(host: str, pattern: str) -> bool:
    """Tell whether ``host`` matches ``pattern`` (exact host, or ``*.suffix``).

    Args:
        host: a host name, any case.
        pattern: ``wx1.sinaimg.cn`` or ``*.sinaimg.cn`` (the bare suffix matches too).

    Returns:
        True on a match, compared lower-case without trailing dots.
    """
    host = host.rstrip(".").lower()
    pattern = pattern.strip().rstrip(".").lower()
    if pattern.startswith("*."):
        suffix = pattern[2:]
        return bool(suffix) and (host == suffix or host.endswith("." + suffix))
    return bool(pattern) and host == pattern


def _value(value: str, article: str | None) -> tuple[bool, str | None]:
    """``(usable, referer)`` of a rule's value: ``"article"`` without an article is unusable."""
    word = value.strip().lower()
    if word == NONE:
        return True, None
    if word == ARTICLE:
        return article is not None, article
    return True, value.strip()


def referers_for(
    url: str, article: str | None, rules: Sequence[tuple[str, str]] = ()
) -> tuple[str | None, ...]:
    """The Referer values to try for image ``url``, in order; None means send no Referer.

    ``rules`` (the site owner's ``images.referer``, most specific level first) come
    before the built-in table; the first matching pattern gives the first
    candidate; then the fallbacks follow without duplicates: the article's URL
    (if any), then None (no Referer). A rule value ``"article"`` means the
    article URL (skipped if there is none); ``"none"`` means no Referer.

    Args:
        url: the image's absolute URL.
        article: the URL of the post the image belongs to, if known.
        rules: ``(pattern, value)`` pairs tried before ``BUILTIN_REFERERS``.

    Returns:
        One to three candidates, e.g. ``("https://weibo.com/", "https://weibo.com/p/1", None)``.
    """
    host = _host(url)
    candidates: list[str | None] = []
    if host is not None:
        for pattern, value in (*rules, *BUILTIN_REFERERS):
            if host_matches(host, pattern):
                usable, referer = _value(value, article)
                if usable:
                    candidates.append(referer)
                break
    for fallback in (article, None) if article is not None else (None,):
        if fallback not in candidates:
            candidates.append(fallback)
    return tuple(candidates)
