"""Article extraction (issue #13): one fetched page in, its article body out. Pure: no I/O,
no clock; decides nothing about when to fetch or whether to use the result.

:func:`extract` takes a page (bytes as served, or text) and returns :class:`Extracted`
(the body as HTML with its structure, images and links, its plain text, the page title)
or :class:`NotExtracted` with a reason; it never raises on a bad page. Its steps:

1. **decode** (:func:`decode_page`): a byte order mark, then the HTTP ``charset``, then a
   ``<meta charset>`` / ``http-equiv`` in the first 4 KB, then charset-normalizer; GB2312
   and GBK labels read as GB18030 (a superset), Latin-1 as windows-1252 (as browsers do);
   bytes that are valid UTF-8 are read as UTF-8 whatever a label says (templates that
   declare ``gb2312`` over UTF-8 are common; the reverse decodes as UTF-8 only by accident).
2. **bound**: ``<script>``, ``<style>`` and comments are cut out by a linear scan (they are
   most of a large page's bytes: the largest page of the article set, 1.5 MB, is 0.2 MB
   without them), then :func:`feedsite._clean._bounds.bound_html` caps the rest at
   1,000,000 characters and flattens nesting below depth 256, so the extractor's work is
   bounded (docs/fulltext.md "Limits").
3. **parse** with lxml; the first ``<base href>`` (resolved against ``base_url``) is the
   base; lazy images get a real ``src`` (``data-src``, ``data-original``,
   ``data-actualsrc``, ``data-lazy-src``, else the widest ``srcset``/``data-srcset``
   candidate) when they have none or a placeholder; a ``<noscript>`` is dropped unless it
   holds the only copy of an image.
4. **select**: with a CSS ``selector`` (the site owner's rule), every matching element in
   document order (a match inside an earlier match is not repeated). Without one,
   readability-lxml picks the article, with ``keep_all_images`` (an image-heavy block is
   not dropped) and after three adjustments measured on the article sets
   (docs/fulltext.md): page furniture named by its class or id (byline, share bar, tags,
   editor line: :data:`_FURNITURE`) of at most 200 characters is removed; ``<section>``
   is read as ``<div>`` (readability turns a block-less ``div`` into a paragraph it scores,
   not a ``section``, and WeChat wraps every paragraph in one); on a page whose text is
   mostly CJK each full-width comma is shown to its scorer as an ASCII comma too (a marker,
   removed from its output: the scorer counts ASCII commas only) and its paragraph floor is
   10 characters instead of 25. When readability finds fewer than 50 words (an article
   that is mostly links, such as a news digest, loses to nothing: it discounts links), the
   element marked as the article (``<article>``, ``itemprop=articleBody``, a container
   class) with the most text outside comments and sidebars is taken instead. A page of
   more than 25,000 elements or 500,000 characters of text is refused, and elements
   deeper than 80 are unwrapped: readability's cost grows with elements and with
   text × depth.
5. **finish**: every ``href``/``src``/``poster``/``cite`` is made absolute against the
   base (values :func:`feedsite._url.safe_url` refuses are left for the sanitiser, which
   drops them); the plain text is the body's text with block elements as paragraphs
   separated by blank lines.

The HTML returned is not sanitised: the caller runs :func:`feedsite._clean.clean_html` on
it like on any feed body.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import charset_normalizer
import lxml.html
from lxml import etree

from feedsite._url import safe_url

from ._bounds import BLOCKS, bound_html
from ._images import widest

__all__ = [
    "Extracted",
    "NotExtracted",
    "check_selector",
    "decode_page",
    "extract",
    "html_text",
]

# readability-lxml logs a traceback when it gives up on a page ("error getting summary");
# we report that as a NotExtracted value instead. Without a handler of its own, Python's
# last-resort handler would print it on stderr of every CLI run.
logging.getLogger("readability").addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class Extracted:
    """The article of a page. Not sanitised yet."""

    #: The article body as HTML (one ``<div>``): p, h2…, lists, blockquote, pre, figure,
    #: img, a, table kept; URLs absolute when the page has a base; lazy images have ``src``.
    html: str
    #: The plain text of :attr:`html`, paragraphs separated by blank lines.
    text: str
    #: The page's title (``og:title``, else ``<title>``, else the first ``<h1>``), or None.
    title: str | None
    #: Which way the body was found: ``"selector"``, ``"readability"`` or ``"container"`` (the
    #: fallback for pages where readability finds almost nothing).
    method: str


@dataclass(frozen=True, slots=True)
class NotExtracted:
    """No article could be taken from a page; says why."""

    #: e.g. ``"selector 'div.x' matched nothing"``, ``"no article found"``, ``"not HTML"``.
    reason: str


# --- decoding ------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Labels read as another codec: GB18030 is a superset of GB2312 and GBK (pages labelled
#: gb2312 use GBK characters freely); browsers read Latin-1 and ASCII as windows-1252
#: (WHATWG Encoding).
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "hz": "gb18030",
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
}
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
_META_CHARSET = re.compile(rb"<meta\b[^<>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
#: How far into the page a ``<meta>`` charset is looked for.
META_SCAN = 4096


def decode_page(data: bytes, content_type: str | None = None) -> str:
    """The text of a page as served.

    Evidence, in order: a byte order mark; the ``charset`` of ``content_type``; a
    ``<meta charset>`` or ``http-equiv`` Content-Type in the first :data:`META_SCAN` bytes;
    then (nothing declared, or no declared encoding fits the bytes) valid UTF-8, GB18030,
    and charset-normalizer's guess. Non-ASCII bytes that are valid UTF-8 are read as UTF-8
    whatever is declared. Undecodable bytes become U+FFFD; never raises.

    Args:
        data: the page's bytes.
        content_type: the HTTP Content-Type header, if any.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    declared: list[str] = []
    if content_type:
        m = _CHARSET_PARAM.search(content_type)
        if m:
            declared.append(m[1])
    m2 = _META_CHARSET.search(data, 0, META_SCAN)
    if m2:
        declared.append(m2[1].decode("ascii"))
    codecs_ = list(dict.fromkeys(c for c in map(_codec, declared) if c is not None))
    utf8 = _decodes(data, "utf-8")
    if utf8 and (not codecs_ or codecs_[0] != "utf-8") and not data.isascii():
        return data.decode("utf-8")  # valid UTF-8 is UTF-8 (see the module docstring)
    for codec in codecs_:
        if _decodes(data, codec):
            return data.decode(codec)
    if utf8:
        return data.decode("utf-8")
    if _decodes(data, "gb18030"):
        return data.decode("gb18030")
    best = charset_normalizer.from_bytes(data).best()
    guess = _codec(best.encoding) if best is not None else None
    return data.decode(guess or (codecs_[0] if codecs_ else "utf-8"), "replace")


def _codec(label: str) -> str | None:
    """A Python codec for an encoding label; None for unknown labels and for UTF-16/32
    (a label read as ASCII cannot be right about a wide encoding)."""
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None
    return _ALIASES.get(name, name)


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


# --- bounds and parsing --------------------------------------------------------------------

# Scripts, styles and comments, each to its end or to the end of the page (as HTML reads an
# unclosed one). No "<" inside a start tag keeps the scan linear.
_NOISE = re.compile(
    r"<script\b[^<>]*>.*?(?:</script\s*>|\Z)"
    r"|<style\b[^<>]*>.*?(?:</style\s*>|\Z)"
    r"|<!--.*?(?:-->|\Z)",
    re.S | re.I,
)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")
_HTML_TYPES = frozenset(("text/html", "application/xhtml+xml", "application/xml", "text/xml"))


def _not_html(data: bytes | str, content_type: str | None) -> str | None:
    """Why ``data`` is no HTML page, or None when it may be one."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime not in _HTML_TYPES and mime not in ("text/plain", "application/octet-stream"):
        return f"not HTML ({mime})"
    if isinstance(data, bytes):
        head = data[:1024]
        if head.startswith(_BINARY_MAGIC) or (
            b"\x00" in head
            and not head.startswith(b"\xff\xfe")
            and not head.startswith(b"\xfe\xff")
        ):
            return "not HTML (binary data)"
    return None


def _parse(text: str) -> lxml.html.HtmlElement | None:
    """The page as a tree (scripts, styles and comments gone; bounded), or None if empty."""
    text = bound_html(_NOISE.sub("", text))
    if not text.strip():
        return None
    try:
        # A parser per call: an lxml parser may not be used by two threads at once.
        parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except etree.ParserError:  # "Document is empty"
        return None


def _base(doc: lxml.html.HtmlElement, base_url: str | None) -> str | None:
    base = safe_url(base_url) if base_url else None
    for href in doc.xpath("//base/@href")[:1]:
        base = safe_url(str(href), base) or base
    return base


def _title(doc: lxml.html.HtmlElement) -> str | None:
    for path in (
        "//meta[@property='og:title' or @name='og:title']/@content",
        "//title//text()",
        "(//h1)[1]//text()",
    ):
        title = " ".join(" ".join(str(t) for t in doc.xpath(path)).split())
        if title:
            return title
    return None


# --- images --------------------------------------------------------------------------------

_LAZY_ATTRS = ("data-src", "data-original", "data-actualsrc", "data-lazy-src")
_SRCSET_ATTRS = ("srcset", "data-srcset")
_PLACEHOLDER_SRC = re.compile(
    r"^(data:|about:|$)|(blank|loading|lazy|placeholder|spacer|pixel)\.", re.I
)


def _fix_images(doc: lxml.html.HtmlElement) -> None:
    """Lazy images get a real ``src``; a ``<noscript>`` is dropped unless it holds the only
    copy of an image (the ``<img>`` before it, if any, is then the lazy copy)."""
    for noscript in list(doc.iter("noscript")):
        prev = noscript.getprevious()
        if noscript.find(".//img") is not None and (prev is None or prev.tag != "img"):
            noscript.drop_tag()
        else:
            noscript.drop_tree()
    for img in doc.iter("img"):
        src = (img.get("src") or "").strip()
        if src and not _PLACEHOLDER_SRC.search(src):
            lazy = None
        else:
            lazy = next((v for a in _LAZY_ATTRS if (v := (img.get(a) or "").strip())), None)
            if lazy is None:
                lazy = next((w for a in _SRCSET_ATTRS if (w := widest(img.get(a) or ""))), None)
        if lazy:
            img.set("src", lazy)
        if img.get("src"):
            for attr in (*_LAZY_ATTRS, *_SRCSET_ATTRS, "sizes"):
                img.attrib.pop(attr, None)


# --- selecting the article -----------------------------------------------------------------


def check_selector(selector: str) -> str | None:
    """None if ``selector`` is a CSS selector :func:`extract` can use, else why not."""
    if not selector.strip():
        return "empty selector"
    try:
        etree.XPath(_compiled(selector))
    except Exception as e:  # cssselect's SelectorError family, lxml's XPathSyntaxError
        return f"invalid CSS selector {selector!r}: {e}"
    return None


@lru_cache(maxsize=256)
def _compiled(selector: str) -> str:
    """``selector`` as XPath (the translation is cached; a compiled ``etree.XPath`` is not:
    it may not be used by two threads at once)."""
    from cssselect import HTMLTranslator

    return HTMLTranslator().css_to_xpath(selector)


def _by_selector(doc: lxml.html.HtmlElement, selector: str) -> lxml.html.HtmlElement | None:
    """Every element matching ``selector``, in document order, in a new ``<div>`` (a match
    inside an earlier match is not repeated); None when nothing matches."""
    result = doc.xpath(_compiled(selector))
    if not isinstance(result, list):
        return None
    matches = [el for el in result if isinstance(el, lxml.html.HtmlElement)]
    taken: set[lxml.html.HtmlElement] = set()
    out = lxml.html.fragment_fromstring("<div></div>")
    for el in matches:
        if any(a in taken for a in el.iterancestors()):
            continue
        taken.add(el)
    if not taken:
        return None
    for el in matches:
        if el in taken:
            el.tail = None  # the text after it belongs to its parent
            out.append(el)
    return out


_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_WORDS = re.compile(r"\w")
#: A full-width comma as readability's scorer sees it on a CJK page: an ASCII comma (which
#: it counts) followed by a private-use character, so the original is restored exactly.
_COMMA_MARK = ",\ue000"
#: Shortest paragraph readability scores on a CJK page (its default, 25, is for Latin text;
#: a CJK character carries about as much as two or three Latin ones).
CJK_MIN_TEXT = 10


#: Most elements a page may have for readability to look at it: its cost grows with them
#: (about 40 µs each; the largest page of the article set has 1,569).
MAX_ELEMENTS = 25_000
#: Most text (characters) a page may have for readability: it measures the text of every
#: candidate block and of its parent, so its cost grows with text × depth.
MAX_TEXT_CHARS = 500_000
#: Deepest element readability sees; deeper elements are unwrapped (their text and images
#: stay). The deepest page of the article set reaches 50.
MAX_PAGE_DEPTH = 80


def _too_large(doc: lxml.html.HtmlElement) -> str | None:
    """Why readability should not look at ``doc`` (too many elements or too much text);
    unwraps the elements deeper than :data:`MAX_PAGE_DEPTH`."""
    elements = sum(1 for _ in doc.iter())
    if elements > MAX_ELEMENTS:
        return f"page too large: {elements:,} elements (limit {MAX_ELEMENTS:,})"
    chars = len(doc.text_content())
    if chars > MAX_TEXT_CHARS:
        return f"page too large: {chars:,} characters of text (limit {MAX_TEXT_CHARS:,})"
    deep: list[lxml.html.HtmlElement] = []
    depth = 0
    walk = etree.iterwalk(doc, events=("start", "end"))
    for event, el in walk:
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth == MAX_PAGE_DEPTH:
            deep.append(el)
            walk.skip_subtree()
    for el in deep:
        names = {d.tag for d in el.iterdescendants() if isinstance(d.tag, str)} - {"img"}
        etree.strip_tags(el, *names)
    return None


def _by_readability(
    doc: lxml.html.HtmlElement,
) -> tuple[lxml.html.HtmlElement | None, str, str]:
    """The article as readability-lxml finds it, else the fallback container: (the body,
    its text, the method)."""
    # Imported here: ~40 ms that a run which extracts nothing should not pay.
    from readability import Document  # type: ignore[import-untyped]

    body = doc.find("body")
    text = body.text_content() if body is not None else ""
    cjk = len(_CJK.findall(text))
    is_cjk = cjk > 0.3 * max(1, len(_WORDS.findall(text)))
    _prune(doc)
    for el in doc.iter("section"):
        # readability turns a <div> without block children into a paragraph it scores, but
        # not a <section>: WeChat articles wrap every paragraph in one.
        el.tag = "div"
    page = etree.tostring(doc, encoding="unicode", method="html")
    if is_cjk:
        page = page.replace("，", _COMMA_MARK)
    found = _readability(Document, page, is_cjk)
    text = html_text(found) if found is not None else ""
    if found is not None and _units(text) >= MIN_ARTICLE_UNITS:
        return found, text, "readability"
    fallback = _by_container(doc)
    if fallback is not None:
        fallback_text = html_text(fallback)
        if _units(fallback_text) > _units(text):
            return fallback, fallback_text, "container"
    return found, text, "readability"


def _readability(document: Any, page: str, is_cjk: bool) -> lxml.html.HtmlElement | None:
    summary = document(page, min_text_length=CJK_MIN_TEXT if is_cjk else 25).summary(
        html_partial=True, keep_all_images=True
    )
    if is_cjk:
        summary = summary.replace(_COMMA_MARK, "，")
    if not summary or not summary.strip():
        return None
    root: lxml.html.HtmlElement = lxml.html.fragment_fromstring(summary, create_parent="div")
    for el in root.iter("body", "html"):
        el.tag = "div"
    for el in root.iter("iframe"):
        el.text = None  # readability writes "VIDEO" into the video iframes it keeps
    return root


#: Parts of a class or id (split at anything but letters and digits) that mark a byline, a
#: share bar, tags, a breadcrumb, an editor line: page furniture that sits *inside* the
#: article's container, where readability keeps it.
_FURNITURE = frozenset((
    "byline", "dateline", "author", "share", "sharing", "social", "meta", "editor", "tags",
    "tag", "breadcrumb", "breadcrumbs", "crumbs", "toolbar", "tools", "copyright", "qrcode",
))  # fmt: skip
_NAME_PARTS = re.compile(r"[^a-z0-9]+")
#: Longest text (characters) of an element removed as furniture: a container so named that
#: holds more is not furniture (``div.TRS_Editor`` holds whole articles on Chinese portals).
MAX_FURNITURE_TEXT = 200


def _names(el: lxml.html.HtmlElement) -> list[str]:
    return _NAME_PARTS.split(f"{el.get('class', '')} {el.get('id', '')}".lower())


def _prune(doc: lxml.html.HtmlElement) -> None:
    """Removes page furniture (:data:`_FURNITURE`) of at most :data:`MAX_FURNITURE_TEXT`
    characters; its text after it stays."""
    for el in list(doc.iter("div", "p", "span", "section", "ul", "aside", "header", "footer")):
        if not (el.get("class") or el.get("id")) or _FURNITURE.isdisjoint(_names(el)):
            continue
        if el.getparent() is None or len(el.text_content()) > MAX_FURNITURE_TEXT:
            continue
        el.drop_tree()


#: Parts of a class or id that name an article's container, and parts that name what is
#: not (comments, sidebars, lists of other articles, ads).
_CONTAINER = frozenset(["article", "content", "post", "entry", "body", "story", "text", "markdown"])
_NOT_CONTAINER = frozenset((
    "comment", "comments", "cmt", "discuss", "sidebar", "side", "aside", "related", "hot",
    "recommend", "widget", "footer", "header", "nav", "menu", "ad", "ads", "advert", "banner",
))  # fmt: skip
#: A readability result with fewer text units (words; CJK characters one each) than this is
#: taken as a miss, and the fallback container is tried (the shortest article of the
#: English set has 69).
MIN_ARTICLE_UNITS = 50


#: Fewer words than this and no image: readability found no article, only scraps.
MIN_TEXT_UNITS = 10


def _units(text: str) -> int:
    """Words of ``text``, each CJK character counted as one."""
    return len(_CJK.findall(text)) + len(_LATIN_WORDS.findall(_CJK.sub(" ", text)))


_LATIN_WORDS = re.compile(r"\w+")


def _by_container(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The fallback when readability finds (almost) nothing: readability discounts links,
    so an article that is mostly a list of links (a news digest) loses to nothing. Takes the
    element marked as the article (``itemprop=articleBody``, ``<article>``, ``<main>``, a
    container class or id) with the most text outside comments, sidebars and ads; among
    those, the deepest holding at least 90 % of that text. Its comments, sidebars and ads
    are dropped. One pass over the page."""
    sizes: dict[lxml.html.HtmlElement, int] = {}
    scored: list[tuple[int, int, lxml.html.HtmlElement]] = []
    depth = 0
    for event, el in etree.iterwalk(doc, events=("start", "end")):
        if event == "start":
            depth += 1
            continue
        depth -= 1
        if not isinstance(el.tag, str):
            continue
        size = _units(el.text or "") + sum(
            sizes.pop(child, 0) + _units(child.tail or "") for child in el
        )
        names = _names(el) if (el.get("class") or el.get("id")) else []
        if _excluded(names):
            continue  # counts for nothing above it
        sizes[el] = size
        if (
            el.tag in ("article", "main")
            or "articlebody" in (el.get("itemprop") or "").lower()
            or not _CONTAINER.isdisjoint(names)
        ):
            scored.append((size, depth, el))
    if not scored:
        return None
    top = max(s[0] for s in scored)
    if top < MIN_ARTICLE_UNITS:
        return None
    best = max((s for s in scored if s[0] >= 0.9 * top), key=lambda s: (s[1], s[0]))[2]
    drop: list[lxml.html.HtmlElement] = []
    walk = etree.iterwalk(best, events=("start",))
    for _event, el in walk:
        named = isinstance(el.tag, str) and (el.get("class") or el.get("id"))
        if el is not best and named and _excluded(_names(el)):
            drop.append(el)
            walk.skip_subtree()
    for el in drop:
        el.drop_tree()
    out: lxml.html.HtmlElement = lxml.html.fragment_fromstring("<div></div>")
    best.tail = None
    out.append(best)
    return out


def _excluded(names: list[str]) -> bool:
    """Whether class/id parts name something that is not article text (comments, ads…)."""
    return bool(names) and not _NOT_CONTAINER.isdisjoint(names)


# --- finishing -----------------------------------------------------------------------------

_URL_ATTRS = {
    "a": ("href",),
    "img": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "source": ("src",),
    "iframe": ("src",),
    "blockquote": ("cite",),
    "q": ("cite",),
    "del": ("cite",),
    "ins": ("cite",),
}


def _absolute(root: lxml.html.HtmlElement, base: str | None) -> None:
    """URL attributes made absolute against ``base``; values that cannot be (fragments,
    ``mailto:``, ``javascript:``…) are left as they are for the sanitiser to judge."""
    if base is None:
        return
    for el in root.iter(*_URL_ATTRS):
        for attr in _URL_ATTRS[el.tag]:
            value = el.get(attr)
            if value is None or value.strip().startswith("#"):
                continue
            url = safe_url(value, base)
            if url is not None:
                el.set(attr, url)


#: Elements whose start and end break the text into paragraphs (table cells only space it).
_BLOCKS = (BLOCKS - {"td", "th"}) | {"body", "caption", "hr", "html"}
_SPACE = re.compile(r"\s+")
_BR = "\ue001"  # a line break inside a paragraph (private use: no white space to collapse)


def html_text(root: lxml.html.HtmlElement) -> str:
    """The plain text of an element: each block element (``p``, ``div``, ``li``, headings,
    table rows…) a paragraph, paragraphs separated by a blank line, white space collapsed
    (kept in ``<pre>``), ``<br>`` a line break, table cells separated by a space."""
    paras: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = _SPACE.sub(" ", "".join(buf)).replace(_BR, "\n")
        text = "\n".join(part.strip() for part in line.split("\n")).strip()
        if text:
            paras.append(text)
        buf.clear()

    walk = etree.iterwalk(root, events=("start", "end"))
    for event, el in walk:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                flush()
            if tag == "pre":
                pre = el.text_content().strip("\n").rstrip()
                if pre.strip():
                    paras.append(pre)
                walk.skip_subtree()
            elif tag == "br":
                buf.append(_BR)
            elif tag and el.text:
                buf.append(el.text)
        else:
            if tag in _BLOCKS:
                flush()
            elif tag in ("td", "th"):
                buf.append(" ")
            if el is not root and el.tail:
                buf.append(el.tail)
    flush()
    return "\n\n".join(paras)


# --- the entry point -----------------------------------------------------------------------


def extract(
    page: str | bytes,
    base_url: str | None,
    *,
    selector: str | None = None,
    content_type: str | None = None,
) -> Extracted | NotExtracted:
    """The article of ``page`` (see the module docstring for how).

    Args:
        page: the page as served (bytes, decoded by :func:`decode_page`) or as text.
        base_url: the page's URL: relative URLs resolve against it (or against the
            page's ``<base href>``, itself resolved against it). None: they stay relative
            unless the page has an absolute ``<base href>``.
        selector: a CSS selector: the body is every element it matches (in document
            order, nested matches once). None: readability-lxml finds the article.
        content_type: the HTTP Content-Type, if any (its charset counts; a non-HTML type
            is refused).

    Returns:
        :class:`Extracted`, or :class:`NotExtracted` with the reason (never raises on a
        bad page).
    """
    why = _not_html(page, content_type)
    if why is not None:
        return NotExtracted(why)
    try:
        return _extract(page, base_url, selector, content_type)
    except Exception as e:
        # A bad page must never abort a run (issue #13): lxml and readability-lxml raise
        # many kinds of errors on broken markup, and the caller keeps the feed's own body.
        return NotExtracted(f"extraction failed: {type(e).__name__}: {e}")


def _extract(
    page: str | bytes, base_url: str | None, selector: str | None, content_type: str | None
) -> Extracted | NotExtracted:
    text = decode_page(page, content_type) if isinstance(page, bytes) else page
    if not text.strip():
        return NotExtracted("empty page")
    if "<" not in text:
        return NotExtracted("not HTML (no markup)")
    doc = _parse(text)
    if doc is None:
        return NotExtracted("empty page")
    base = _base(doc, base_url)
    title = _title(doc)
    _fix_images(doc)
    if selector is not None:
        error = check_selector(selector)
        if error is not None:
            return NotExtracted(error)
        root = _by_selector(doc, selector)
        if root is None:
            return NotExtracted(f"selector {selector!r} matched nothing")
        _absolute(root, base)
        body_text, method = html_text(root), "selector"
    else:
        why = _too_large(doc)
        if why is not None:
            return NotExtracted(why)
        root, body_text, method = _by_readability(doc)
        if root is None:
            return NotExtracted("no article found")
        _absolute(root, base)
    if root.find(".//img") is None:
        if selector is not None and not _WORDS.search(body_text):
            return NotExtracted(f"selector {selector!r} matched only empty elements")
        if selector is None and _units(body_text) < MIN_TEXT_UNITS:
            return NotExtracted("no article found")
    html = etree.tostring(root, encoding="unicode", method="html")
    return Extracted(html=html, text=body_text, title=title, method=method)
