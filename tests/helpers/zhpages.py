"""A Chinese full-text test set for article extraction (issue #13): real bodies in fake pages.

Scope: test support only. Contains no feedsite logic and no article text: every page is
built at test time from the corpora in ``../shared/corpora`` (the texts belong to their
publishers and are never written into the repository).

Sources: the items of ``rsshub-zh/*.xml`` and ``realworld/feeds/*`` (read with feedsite's
own :func:`feedsite._parse.parse_feed`) whose body (``content:encoded``, else
``description``) is a full Chinese article: its text (the rule below) has at least 300
CJK characters and at least 3 blocks. The realworld feeds hold no such item today (their few
Chinese characters are in titles and short summaries), so the set comes from rsshub-zh.
Each source item gives :data:`VARIANTS` pages, each with its own seeded ``random.Random``
(seeded from the page key, so its layout, boilerplate and images do not depend on which
other pages exist; only its encoding follows its place in the set).

A page wraps the body in realistic boilerplate, picked per page among several "site"
layouts: doctype, a head with title, meta, scripts and styles; a header nav of 10-20
short links and a breadcrumb; the article in a varying wrapper (``<article>``,
``div.article-content``, WeChat's ``div#js_content``, ``div.post-body``, ...), sometimes
with a byline/date line, a share bar and an editor line *inside* that wrapper; a sidebar
of "相关文章" / "热门推荐" links; ads (``div.ad`` with an image and short text, sometimes
between two paragraphs of the article); a comments section of many short CJK paragraphs
(5-30 characters each); a QR-code block ("扫码关注公众号") and a copyright footer.

The body is transformed first: ``script``, ``style``, ``title``, ``meta``, ``link``,
``noscript``, ``template`` and form controls (``button``, ``input``, ...) are removed;
about half of the images become lazy (``data-src`` / ``data-original`` holding the URL,
``src`` a 1x1 ``data:`` GIF, ``/static/blank.gif`` or, WeChat-style, absent); some URLs
become extension-less WeChat ones (``https://mmbiz.qpic.cn/mmbiz_jpg/<hash>/640?wx_fmt=jpeg``;
every image of the WeChat layout), some relative (``/uploads/...``, ``images/...``) or
protocol-relative; a body without images gets one or two synthetic ones on about 30 % of
its pages. Every fourth page of the set is encoded GBK and says so in a ``<meta>`` (GB18030
when the body has a character GBK cannot encode); the others are UTF-8, also declared.

Expected values (what an extractor should return):

* ``text`` — the visible text of the transformed body, one line per block: a block starts
  and ends at each block-level element (``p``, ``div``, ``h1``-``h6``, ``li``,
  ``blockquote``, ``pre``, ``table`` cells, ``figure``, ...) and at each ``<br>``; inside
  ``pre`` every newline ends a block too. Each block is whitespace-normalised
  (``" ".join(block.split())``: runs of spaces, newlines, NBSP and U+3000 become one
  space, ends stripped) and empty blocks are dropped; blocks are joined with ``"\\n"``.
  Image ``alt`` text and ``iframe`` content are not text. NOT article text: the page
  title (``<h1>``), and everything injected around or inside the wrapper (byline/date
  line, share bar, editor line, in-article ads).
* ``images`` — the absolute URLs (resolved against ``url``) of the body's images in
  document order, duplicates removed: ``data-src`` / ``data-original`` when present, else
  ``src``. Placeholders and the images of ads, sidebars, comments and footers are not in it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from feedsite._parse import parse_feed
from feedsite.errors import ParseError

__all__ = ["MIN_BLOCKS", "MIN_CJK", "VARIANTS", "ZhPage", "page_text", "zh_pages"]

#: A full article has at least this many CJK characters...
MIN_CJK = 300
#: ... and at least this many text blocks.
MIN_BLOCKS = 3
#: Pages built from each source item (each with its own layout, encoding and images).
VARIANTS = 3
#: Every GBK_EVERY-th page of the set is encoded GBK (GB18030 when its body needs it).
GBK_EVERY = 4
#: Share of the images made lazy.
LAZY_SHARE = 0.5
#: Share of the pages of an image-less body that get synthetic images.
SYNTHETIC_SHARE = 0.3

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: A CJK ideograph in UTF-8 (U+4E00-U+9FFF): the cheap pre-filter of feed files.
_CJK_UTF8 = re.compile(rb"[\xe4-\xe9][\x80-\xbf][\x80-\xbf]")
#: A feed's declared encoding (one not UTF-8 escapes the pre-filter, which counts UTF-8).
_DECLARED = re.compile(rb"encoding=[\"']?([A-Za-z0-9._-]+)")

_BLANK_GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_REMOVED = (
    "script", "style", "title", "meta", "link", "noscript", "template",
    "button", "input", "select", "textarea", "object", "embed",
)  # fmt: skip
_NO_TEXT = frozenset(("iframe", "video", "audio", "svg", "canvas", "img"))
_BLOCK = frozenset(
    (
        "address", "article", "aside", "blockquote", "caption", "center", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ZhPage:
    """One generated page and what an extractor should find in it."""

    #: Stable id: ``"<corpus>/<file>#<item>-<variant>"``.
    key: str
    #: The article's URL (the item's link; https).
    url: str
    #: The whole page, encoded as ``encoding``.
    html: bytes
    #: ``"utf-8"``, ``"gbk"`` or ``"gb18030"`` (declared in the page's ``<meta>``).
    encoding: str
    #: Expected article text (see the module docstring for the rule).
    text: str
    #: Expected absolute image URLs of the body, in order.
    images: tuple[str, ...]
    #: The item's original body HTML (for debugging).
    body: str


@dataclass(frozen=True, slots=True)
class _Source:
    key: str
    url: str
    title: str
    body: str
    date: datetime | None
    author: str | None


def zh_pages(shared: Path, *, limit: int | None = None) -> list[ZhPage]:
    """The test set, in a stable order (by corpus, file, item, variant).

    Args:
        shared: the ``../shared`` folder (or its ``corpora`` folder).
        limit: at most this many pages (the first ones), all when None.

    Raises:
        FileNotFoundError: ``shared`` has no ``corpora/rsshub-zh``.
    """
    corpora = shared / "corpora" if (shared / "corpora").is_dir() else shared
    if not (corpora / "rsshub-zh").is_dir():
        raise FileNotFoundError(f"no corpora/rsshub-zh under {shared}")
    sources = _sources(str(corpora.resolve()))
    titles = tuple(s.title for s in sources)
    pages: list[ZhPage] = []
    for source in sources:
        for variant in range(VARIANTS):
            if limit is not None and len(pages) >= limit:
                return pages
            pages.append(_page(source, variant, titles, gbk=len(pages) % GBK_EVERY == 3))
    return pages


def page_text(root: lxml.html.HtmlElement) -> str:
    """The text of ``root`` under the module's rule (blocks joined by newlines)."""
    return "\n".join(_blocks(root))


# --- sources ------------------------------------------------------------------------------


@functools.cache
def _sources(corpora: str) -> tuple[_Source, ...]:
    root = Path(corpora)
    files = [("rsshub-zh", p) for p in sorted((root / "rsshub-zh").glob("*.xml"))]
    feeds = root / "realworld" / "feeds"
    if feeds.is_dir():
        files += [("realworld", p) for p in sorted(feeds.iterdir()) if p.is_file()]
    found: list[_Source] = []
    for corpus, path in files:
        data = path.read_bytes()
        declared = _DECLARED.search(data[:300])
        utf8 = declared is None or declared[1].lower() in (b"utf-8", b"utf8")
        if utf8 and len(_CJK_UTF8.findall(data)) < MIN_CJK:
            continue
        try:
            feed = parse_feed(data, url=path.as_uri())
        except ParseError:
            continue
        for n, item in enumerate(feed.items):
            body = item.content_html or item.summary_html or ""
            if not item.link or len(_CJK.findall(body)) < MIN_CJK:
                continue
            root_el = _fragment(body)
            if root_el is None:
                continue
            blocks = _blocks(_cleaned(root_el))
            if len(blocks) < MIN_BLOCKS or len(_CJK.findall("".join(blocks))) < MIN_CJK:
                continue
            link = item.link
            if link.startswith("http://"):
                link = "https://" + link[len("http://") :]
            found.append(
                _Source(f"{corpus}/{path.name}#{n}", link, item.title, body, item.date, item.author)
            )
    return tuple(found)


def _fragment(body: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fragment_fromstring(body, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def _cleaned(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    etree.strip_elements(root, *_REMOVED, with_tail=False)
    return root


# --- the text rule ------------------------------------------------------------------------


def _blocks(root: lxml.html.HtmlElement) -> list[str]:
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = " ".join("".join(current).split())
        if line:
            lines.append(line)
        current.clear()

    def add(text: str, pre: bool) -> None:
        if not pre:
            current.append(text)
            return
        for i, part in enumerate(text.split("\n")):
            if i:
                flush()
            current.append(part)

    def walk(el: etree._Element, pre: bool) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if tag is None:  # comment or processing instruction: no text of its own
            return
        block = tag in _BLOCK or tag == "br"
        inner_pre = pre or tag == "pre"
        if block:
            flush()
        if tag not in _NO_TEXT:
            if el.text:
                add(el.text, inner_pre)
            for child in el:
                walk(child, inner_pre)
                if child.tail:
                    add(child.tail, inner_pre)
        if block:
            flush()

    walk(root, False)
    flush()
    return lines


# --- one page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Parts:
    """The pieces a layout arranges (all HTML strings, except names)."""

    title: str
    site: str
    head: str
    nav: str
    crumbs: str
    byline: str
    share: str
    editor: str
    body: str
    related: str
    hot: str
    ad: str
    comments: str
    qr: str
    footer: str


def _page(source: _Source, variant: int, titles: tuple[str, ...], *, gbk: bool) -> ZhPage:
    key = f"{source.key}-{variant}"
    rng = random.Random(f"zhpages:{key}")
    layout_names = sorted(_LAYOUTS)
    start = int(hashlib.sha256(source.key.encode()).hexdigest(), 16) % len(layout_names)
    layout = layout_names[(start + variant * 2) % len(layout_names)]
    wechat = layout == "wechat"

    root = _fragment(source.body)
    assert root is not None  # checked in _sources
    _cleaned(root)
    if not root.findall(".//img") and rng.random() < SYNTHETIC_SHARE:
        _add_synthetic_images(root, source, rng)
    images = _transform_images(root, source, rng, wechat=wechat)
    text = page_text(root)
    if rng.random() < 0.15:
        _insert_ad(root, rng)
    body_html = html.escape(root.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )
    parts = _parts(source, rng, titles, body_html, text)
    markup = _LAYOUTS[layout](parts, rng)
    encoding = "utf-8"
    if gbk:
        encoding = "gbk"
        try:
            markup.encode("gbk")
        except UnicodeEncodeError:
            encoding = "gb18030"
    markup = markup.replace(_CHARSET, _charset_meta(encoding, rng), 1)
    return ZhPage(key, source.url, markup.encode(encoding), encoding, text, images, source.body)


_CHARSET = "<!--charset-->"


def _charset_meta(encoding: str, rng: random.Random) -> str:
    label = {"utf-8": rng.choice(("utf-8", "UTF-8")), "gbk": rng.choice(("gbk", "GBK"))}
    name = label.get(encoding, encoding)
    if rng.random() < 0.5:
        return f'<meta charset="{name}">'
    return f'<meta http-equiv="Content-Type" content="text/html; charset={name}">'


# --- images -------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _wechat_url(original: str) -> str:
    suffix = PurePosixPath(urlsplit(original).path).suffix.lower().lstrip(".")
    fmt = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "gif": "gif", "webp": "webp"}.get(
        suffix, "jpeg"
    )
    token = base64.b32encode(hashlib.sha256(original.encode()).digest()).decode().rstrip("=")
    kind = "jpg" if fmt == "jpeg" else fmt
    return f"https://mmbiz.qpic.cn/mmbiz_{kind}/{token}/640?wx_fmt={fmt}"


def _relative_url(original: str, page_url: str, source: _Source, rng: random.Random) -> str:
    img, page = urlsplit(original), urlsplit(page_url)
    if img.netloc == page.netloc and rng.random() < 0.7:
        return urlunsplit(("", "", img.path, img.query, ""))
    suffix = PurePosixPath(img.path).suffix.lower() or ".jpg"
    if len(suffix) > 5:
        suffix = ".jpg"
    name = _digest(original)[:16] + suffix
    when = source.date.strftime("%Y/%m") if source.date else "2022/06"
    if rng.random() < 0.3:
        return f"images/{when.replace('/', '')}/{name}"  # relative to the article's folder
    return f"/uploads/{when}/{name}"


def _transform_images(
    root: lxml.html.HtmlElement, source: _Source, rng: random.Random, *, wechat: bool
) -> tuple[str, ...]:
    found: list[str] = []
    for img in list(root.iter("img")):
        src = (img.get("data-src") or img.get("data-original") or img.get("src") or "").strip()
        if not src or src.startswith("data:"):
            img.drop_tree()
            continue
        original = urljoin(source.url, src)
        for name in ("src", "data-src", "data-original", "srcset", "loading"):
            img.attrib.pop(name, None)
        if wechat:
            url = _wechat_url(original)
            img.set("class", "rich_pages wxw-img")
            img.set("data-ratio", f"{rng.uniform(0.4, 1.2):.4f}")
            img.set("data-type", url.rsplit("=", 1)[1])
            img.set("data-w", rng.choice(("640", "1080", "1280")))
            img.set("data-src", url)
            if rng.random() < 0.6:
                img.set("src", _BLANK_GIF)
            found.append(url)
            continue
        draw = rng.random()
        if draw < 0.15:
            url = _relative_url(original, source.url, source, rng)
        elif draw < 0.3:
            url = _wechat_url(original)
        elif draw < 0.4 and original.startswith(("https://", "http://")):
            url = "//" + original.split("://", 1)[1]
        else:
            url = original
        if rng.random() < LAZY_SHARE:
            img.set(rng.choice(("data-src", "data-original")), url)
            img.set("src", rng.choice((_BLANK_GIF, "/static/blank.gif")))
            img.set("class", rng.choice(("lazy", "lazyload", "lazy-img")))
        else:
            img.set("src", url)
        found.append(urljoin(source.url, url))
    return tuple(dict.fromkeys(found))


def _add_synthetic_images(root: lxml.html.HtmlElement, source: _Source, rng: random.Random) -> None:
    blocks = [el for el in root.iter("p", "div", "h2", "h3", "li") if el is not root]
    host = urlsplit(source.url).netloc.removeprefix("www.")
    for n in range(rng.choice((1, 2))):
        p = lxml.html.fragment_fromstring(
            f'<p style="text-align:center"><img src="https://img.{host}/uploads/'
            f'{_digest(source.key, str(n))[:20]}.jpg" alt=""></p>'
        )
        if blocks:
            anchor = blocks[rng.randrange(len(blocks))]
            anchor.addnext(p)
            p.tail, anchor.tail = anchor.tail, None
        else:
            root.append(p)


def _insert_ad(root: lxml.html.HtmlElement, rng: random.Random) -> None:
    paragraphs = root.findall(".//p")
    if len(paragraphs) < 4:
        return
    anchor = paragraphs[len(paragraphs) // 2]
    ad = lxml.html.fragment_fromstring(_ad_html(rng, inline=True))
    anchor.addnext(ad)
    ad.tail, anchor.tail = anchor.tail, None


# --- boilerplate --------------------------------------------------------------------------

_SITES = (
    "科技前沿网", "新知资讯", "极客观察", "数码之家", "开发者社区", "今日快讯", "环球视野",
    "动漫星球", "创投日报", "云计算周刊",
)  # fmt: skip
_CHANNELS = (
    "首页", "新闻", "科技", "财经", "娱乐", "体育", "汽车", "房产", "游戏", "动漫", "视频",
    "图片", "专题", "评论", "国际", "军事", "社会", "教育", "健康", "旅游", "数码", "手机",
    "读书", "直播", "人工智能", "区块链", "云计算", "开源", "创投", "观察",
)  # fmt: skip
_NAMES = (
    "小明同学", "码农老王", "吃瓜群众", "月光宝盒", "风清扬", "阿狸", "路人甲", "北京网友",
    "广东网友", "匿名用户", "程序猿小张", "夜猫子", "一只咸鱼", "清风徐来", "老司机",
)  # fmt: skip
_PHRASES = (
    "说得太对了", "支持一下", "沙发", "楼主辛苦了", "这个价格还能接受", "已经入手了",
    "体验还不错", "期待后续报道", "不明觉厉", "学到了", "感谢分享", "有没有大佬解释一下",
    "国产加油", "写得很详细", "收藏了", "标题党吧", "这波操作我给满分", "坐等降价",
    "前排围观", "希望多写点这类文章", "感觉还是有点问题", "同意楼上的观点", "真的假的",
    "第一次听说", "小编辛苦", "这个必须顶", "路过看看", "不太认同", "说到心坎里了",
    "等等党永远不亏", "已转发给朋友", "明年再看吧", "讲得很清楚", "还是老样子",
    "终于等到了", "这才是重点", "什么时候上线", "价格太贵了", "有点意思", "哈哈哈",
)  # fmt: skip
_AD_TEXTS = (
    "限时特惠，立即抢购", "下载APP，阅读更多精彩内容", "点击领取新人大礼包", "云服务器低至1折",
    "广告", "免费试用30天", "扫码参与抽奖",
)  # fmt: skip


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _links(rng: random.Random, host: str, labels: list[str]) -> str:
    return "".join(
        f'<li><a href="https://{host}/{_digest(label)[:6]}/">{_esc(label)}</a></li>'
        for label in labels
    )


def _title_list(rng: random.Random, host: str, titles: tuple[str, ...], heading: str) -> str:
    picks = rng.sample(titles, min(len(titles), rng.randint(5, 10)))
    items = "".join(
        f'<li><a href="https://{host}/article/{rng.randint(10000, 999999)}.html"'
        f' title="{_esc(t)}">{_esc(t)}</a>'
        f'<span class="views">{rng.randint(1, 99)}万阅读</span></li>'
        for t in picks
    )
    return f'<h3 class="widget-title">{heading}</h3><ul class="list">{items}</ul>'


def _comment_text(rng: random.Random) -> str:
    while True:
        text = "，".join(rng.sample(_PHRASES, rng.randint(1, 3)))
        text += rng.choice(("", "！", "。", "？", "~"))
        if 5 <= len(text) <= 30:
            return text


def _comments(rng: random.Random, host: str) -> str:
    kind = rng.choice(("list", "plain", "wechat"))
    count = rng.randint(8, 40)
    rows = []
    for _ in range(count):
        name = _esc(rng.choice(_NAMES))
        when = rng.choice(("刚刚", f"{rng.randint(1, 59)}分钟前", f"{rng.randint(1, 23)}小时前",
                           f"2022-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"))  # fmt: skip
        text = _esc(_comment_text(rng))
        likes = rng.randint(0, 999)
        if kind == "list":
            rows.append(
                f'<li class="comment-item"><div class="comment-meta"><a class="user" '
                f'href="https://{host}/u/{rng.randint(1000, 99999)}">{name}</a>'
                f'<span class="time">{when}</span></div><p class="comment-text">{text}</p>'
                f'<div class="comment-actions"><a href="#">回复</a><span>赞({likes})</span>'
                "</div></li>"
            )
        elif kind == "plain":
            rows.append(f'<div class="cmt"><p>{name}：</p><p>{text}</p><p>{when}</p></div>')
        else:
            rows.append(
                f'<div class="discuss_item"><strong class="nickname">{name}</strong>'
                f'<div class="discuss_message"><p>{text}</p></div>'
                f'<span class="praise_num">{likes}</span></div>'
            )
    heading = rng.choice(("网友评论", "精选留言", "全部评论", "最新评论"))
    inner = "".join(rows)
    if kind == "list":
        inner = f'<ul class="comment-list">{inner}</ul>'
    form = (
        '<div class="comment-form"><textarea placeholder="说点什么吧…"></textarea>'
        "<button>发表评论</button></div>"
    )
    return (
        f'<div class="comments" id="comments"><h3>{heading}（{count}）</h3>{form}{inner}'
        '<a class="more" href="#">查看更多评论</a></div>'
    )


def _ad_html(rng: random.Random, *, inline: bool = False) -> str:
    n = rng.randint(1, 40)
    text = _esc(rng.choice(_AD_TEXTS))
    cls = "ad ad-inline" if inline else rng.choice(("ad", "ad ad-banner", "ad sidebar-ad"))
    return (
        f'<div class="{cls}"><a href="https://ad.example-ads.cn/click?id={n}" target="_blank">'
        f'<img src="https://static.example-ads.cn/banner/{n}.jpg" alt="广告"></a>'
        f"<span>{text}</span></div>"
    )


def _parts(
    source: _Source, rng: random.Random, titles: tuple[str, ...], body: str, text: str
) -> _Parts:
    host = urlsplit(source.url).netloc
    site = rng.choice(_SITES)
    title = source.title or text.split("\n", 1)[0][:30]
    when = (source.date or datetime(2022, 6, 1, 8, 30)).strftime("%Y-%m-%d %H:%M")
    author = source.author or rng.choice(_NAMES)
    description = _esc(text.replace("\n", " ")[:80])
    head = (
        f"<head>{_CHARSET}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}_{site}</title>"
        f'<meta name="keywords" content="{site},{rng.choice(_CHANNELS)},{rng.choice(_CHANNELS)}">'
        f'<meta name="description" content="{description}">'
        f'<link rel="stylesheet" href="/static/css/main.{_digest(site)[:8]}.css">'
        "<style>.nav li{display:inline-block}.ad{margin:10px 0}.hide{display:none}</style>"
        '<script src="https://hm.baidu.com/hm.js?0123456789abcdef"></script>'
        '<script>var _hmt=_hmt||[];window.__INITIAL_STATE__={"channel":"资讯","id":'
        f"{rng.randint(1000, 99999)}}};</script></head>"
    )
    nav_labels = rng.sample(_CHANNELS, rng.randint(10, 20))
    nav = f'<ul class="nav">{_links(rng, host, nav_labels)}</ul>'
    sep = rng.choice((" &gt; ", " / ", " &raquo; "))
    crumbs = (
        f'<div class="crumbs">{rng.choice(("当前位置：", "您的位置：", ""))}'
        f'<a href="https://{host}/">首页</a>{sep}<a href="https://{host}/news/">'
        f"{rng.choice(_CHANNELS)}</a>{sep}<span>正文</span></div>"
    )
    byline = ""
    if rng.random() < 0.6:
        byline = (
            f'<div class="article-meta"><span class="author">作者：{_esc(author)}</span> '
            f'<span class="time">{when}</span> <span class="source">来源：{site}</span> '
            f'<span class="views">阅读 {rng.randint(100, 99999)}</span></div>'
        )
    share = ""
    if rng.random() < 0.5:
        share = (
            '<div class="share-bar">分享到：<a class="wx" href="#">微信</a>'
            '<a class="wb" href="#">微博</a><a class="qq" href="#">QQ空间</a>'
            '<a class="copy" href="#">复制链接</a></div>'
        )
    editor = ""
    if rng.random() < 0.3:
        editor = f'<p class="editor">责任编辑：{_esc(rng.choice(_NAMES))}</p>'
    qr = (
        '<div class="qrcode"><img src="/static/img/qrcode.jpg" alt="二维码">'
        f"<p>扫码关注公众号</p><p>{rng.choice(('获取更多精彩内容', '每日推送科技资讯'))}</p></div>"
    )
    footer_links = _links(rng, host, ["关于我们", "联系我们", "广告服务", "隐私政策", "网站地图"])
    footer = (
        f'<div class="footer-links"><ul>{footer_links}</ul></div>'
        f'<p class="copyright">Copyright &copy; 2005-2022 {site} 版权所有 '
        f'<a href="https://beian.miit.gov.cn/">京ICP备{rng.randint(10000000, 99999999)}号</a>'
        "</p>"
    )
    return _Parts(
        title=_esc(title),
        site=site,
        head=head,
        nav=nav,
        crumbs=crumbs,
        byline=byline,
        share=share,
        editor=editor,
        body=body,
        related=_title_list(rng, host, titles, "相关文章"),
        hot=_title_list(rng, host, titles, "热门推荐"),
        ad=_ad_html(rng),
        comments=_comments(rng, host),
        qr=qr,
        footer=footer,
    )


# --- layouts ------------------------------------------------------------------------------


def _doc(parts: _Parts, body_attrs: str, inner: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n{parts.head}\n'
        f"<body{body_attrs}>\n{inner}\n</body>\n</html>\n"
    )


def _portal(p: _Parts, rng: random.Random) -> str:
    wrapper = rng.choice(
        ('<div class="article-content">', '<div id="artibody" class="article">',
         '<div class="TRS_Editor">')
    )  # fmt: skip
    sidebar = (
        f'<div class="right">{p.ad}<div class="box">{p.hot}</div>'
        f'<div class="box">{p.related}</div></div>'
    )
    left = (
        f'<div class="left"><h1 class="article-title">{p.title}</h1>'
        f"{wrapper}{p.byline}{p.body}{p.editor}{p.share}</div>"
        f"{p.comments}</div>"
    )
    main = sidebar + left if rng.random() < 0.3 else left + sidebar
    return _doc(
        p,
        "",
        f'<div class="header"><div class="logo"><a href="/">{p.site}</a></div>{p.nav}</div>'
        f'<div class="wrap">{p.crumbs}<div class="main">{main}</div></div>'
        f'<div class="footer">{p.qr}{p.footer}</div>',
    )


def _wechat(p: _Parts, rng: random.Random) -> str:
    return _doc(
        p,
        ' id="activity-detail" class="zh_CN"',
        f'<div class="top-nav">{p.nav}</div>'
        '<div id="js_article" class="rich_media"><div class="rich_media_inner">'
        f'<h1 class="rich_media_title" id="activity-name">{p.title}</h1>'
        f'<div id="meta_content" class="rich_media_meta_list"><span class="rich_media_meta">'
        f"{p.site}</span></div>"
        f'<div class="rich_media_content" id="js_content">{p.byline}{p.body}{p.share}</div>'
        '<div class="rich_media_tool"><a id="js_view_source" href="#">阅读原文</a>'
        f"<span>阅读 {rng.randint(1000, 99999)}</span><span>在看</span></div>"
        f'<div class="related_article">{p.related}</div><div class="hot_article">{p.hot}</div>'
        f"{p.ad}{p.comments}{p.qr}</div></div>"
        f'<div class="footer">{p.footer}</div>',
    )


def _blog(p: _Parts, rng: random.Random) -> str:
    wrapper = rng.choice(("post-body", "entry-content", "post-content"))
    return _doc(
        p,
        ' class="single single-post"',
        f'<header class="site-header"><div class="site-title">{p.site}</div>'
        f'<nav class="menu">{p.nav}</nav></header>'
        f'<div id="content">{p.crumbs}<main id="main"><article class="post">'
        f'<header class="entry-header"><h1 class="entry-title">{p.title}</h1></header>'
        f'<div class="{wrapper}">{p.byline}{p.body}{p.share}{p.editor}</div>'
        '<footer class="entry-footer"><span class="tags">标签：<a href="#">资讯</a>'
        '<a href="#">科技</a></span></footer></article>'
        '<nav class="post-navigation"><a rel="prev" href="#">上一篇：新品发布会回顾</a>'
        '<a rel="next" href="#">下一篇：本周热点汇总</a></nav>'
        f"{p.comments}</main>"
        f'<aside id="secondary" class="widget-area"><section class="widget">{p.related}'
        f'</section>{p.ad}<section class="widget">{p.hot}</section></aside></div>'
        f'<footer class="site-footer">{p.qr}{p.footer}</footer>',
    )


def _semantic(p: _Parts, rng: random.Random) -> str:
    return _doc(
        p,
        "",
        f"<header><nav>{p.nav}</nav>{p.crumbs}</header>"
        f"<main><article><h1>{p.title}</h1>{p.byline}{p.body}{p.editor}{p.share}</article>"
        f'<section class="comments-area">{p.comments}</section></main>'
        f"<aside>{p.hot}{p.ad}{p.related}</aside>"
        f"<footer>{p.qr}{p.footer}</footer>",
    )


def _community(p: _Parts, rng: random.Random) -> str:
    return _doc(
        p,
        "",
        f'<div id="app"><div class="main-header"><div class="nav-bar">{p.nav}</div></div>'
        '<div class="view-container"><div class="main-area">'
        f'<article class="article"><h1 class="article-title">{p.title}</h1>'
        f'<div class="author-info-block">{p.byline}</div>'
        f'<div class="article-viewer"><div class="markdown-body">{p.body}</div></div>'
        f"{p.share}</article>"
        f'<div class="comment-list-box">{p.comments}</div></div>'
        f'<div class="sidebar">{p.ad}<div class="sidebar-block">{p.related}</div>'
        f'<div class="sidebar-block">{p.hot}</div>{p.qr}</div></div>'
        f'<div class="footer">{p.footer}</div></div>',
    )


def _news(p: _Parts, rng: random.Random) -> str:
    return _doc(
        p,
        "",
        f'<div id="top"><div class="channel-nav">{p.nav}</div></div>'
        f'<div class="container">{p.crumbs}<div class="article-box">'
        f"<h1>{p.title}</h1>"
        f'<div class="content" id="content">{p.share}{p.byline}{p.body}{p.editor}</div>'
        f'<div class="hot-list">{p.hot}</div></div>'
        f'<div class="side">{p.related}{p.ad}</div>'
        f"{p.comments}</div>"
        f'<div id="footer">{p.footer}{p.qr}</div>',
    )


_LAYOUTS: dict[str, Callable[[_Parts, random.Random], str]] = {
    "blog": _blog,
    "community": _community,
    "news": _news,
    "portal": _portal,
    "semantic": _semantic,
    "wechat": _wechat,
}
