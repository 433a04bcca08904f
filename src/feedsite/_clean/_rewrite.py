"""Rewrite steps of ``rules:`` applied to one body (issue #13). Pure; decides nothing else.

In the order they run (each level's steps accumulate, parents' first: docs/rules.md):

1. ``remove``: the elements each CSS selector selects are removed with what they hold (the
   text after an element stays);
2. ``drop_images``: every ``<img>`` whose URL (``src``, or a lazy-loading attribute)
   matches a pattern is removed;
3. ``replace``: matches of each pattern in the *text* are replaced, one text node at a time
   (tags and attribute values are never touched, so a pattern cannot break the markup; a
   phrase split by a tag, ``本文<b>来自</b>…``, is not one text).

:func:`rewrite` parses the body only when the set has rewrite steps and a cheap look at the
raw HTML cannot rule them all out; when nothing changes it returns the very string it was
given. Its input is meant to be a cleaned body (``clean_html``) and its output is HTML the
lxml serialiser wrote, so the caller cleans it again or trusts it as far as the input.

:func:`plain_text` is the text of a body the ``content`` rules match.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass

import cssselect
import lxml.html
from lxml import etree

from feedsite._config._css import selector_xpath
from feedsite._config._rules import (
    Pattern,
    Regex,
    RegexSet,
    RuleSet,
    compile_regex,
    glob_source,
    literal_source,
    regex_source,
)
from feedsite._config._tree import quote

__all__ = ["Rewritten", "plain_text", "rewrite"]


@dataclass(frozen=True, slots=True)
class Rewritten:
    """A body after the rewrite steps."""

    #: The body; the input string itself when nothing changed.
    html: str
    changed: bool
    #: Labels of the steps that changed something, in the order they ran:
    #: ``rewrite.remove "div.share"``, ``rewrite.replace "/x/" (rules.…, line 9)``.
    applied: tuple[str, ...]


#: Attributes that hold an image's URL (``src``, then the lazy-loading ones ``clean_html``
#: promotes; a raw body may still carry them).
_IMG_ATTRS = ("src", "data-src", "data-original", "data-lazy-src", "data-actualsrc")
#: Elements whose text is not text a reader sees (never in a cleaned body).
_NOT_TEXT = frozenset({"script", "style", "template"})
_WRAPPER = "feedsite-rewrite"
_PARSER = lxml.html.HTMLParser(remove_comments=False, remove_pis=True)
#: Characters XML cannot hold (lxml refuses a str that has them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class _Image:
    """One ``drop_images`` pattern: a keyword (substring), a ``*`` pattern or an expression."""

    __slots__ = ("label", "regex", "source")

    def __init__(self, p: Pattern) -> None:
        self.label = p.label("rewrite.drop_images")
        self.source = glob_source(p.text) if p.is_glob else regex_source(p)
        self.regex = compile_regex(self.source)

    def matches(self, url: str) -> bool:
        return self.regex.search(url) is not None


class _Replace:
    """One ``replace`` step."""

    __slots__ = ("label", "probe", "regex", "replacement")

    def __init__(self, p: Pattern, replacement: str) -> None:
        self.label = p.label("rewrite.replace")
        self.regex = compile_regex(regex_source(p))
        self.replacement = replacement
        #: RE2 source matching the text view wherever the step matches a text node.
        self.probe = _probe_source(p)

    def sub(self, text: str) -> str:
        replacement = self.replacement
        return self.regex.sub(lambda _: replacement, text)


def _probe_source(p: Pattern) -> str | None:
    """An expression that matches the raw view of a body (:meth:`_View.text`) wherever
    ``p`` matches one text node; None when there is none.

    In the view a text node is a stretch between ``>`` and ``<``: a keyword, or an
    expression without anchors, that matches the node matches the view (``\\b`` too: the
    brackets are not word characters; RE2 has no lookaround). Anchors (``^``, ``$``,
    ``\\A``, ``\\z``) would not hold at the brackets: such a step always parses the body.
    """
    if not p.regex:
        return regex_source(p)
    body = p.text
    if "$" in body or _CARET.search(body):
        return None
    i = 0
    while (i := body.find("\\", i)) != -1:
        if body[i + 1 : i + 2] in ("A", "z"):
            return None
        i += 2
    return regex_source(p)


#: A ``^`` that is not the first character of a set (``[^...]``).
_CARET = re.compile(r"(?<!\[)\^")


class _Remove:
    """One ``remove`` selector, and the words a body must hold for it to select anything."""

    __slots__ = ("label", "needs", "xpath")

    def __init__(self, selector: str) -> None:
        self.label = f"rewrite.remove {quote(selector)}"
        self.xpath = etree.XPath(selector_xpath(selector))
        #: Per selector of the list: class names, ids and attribute values it requires (as
        #: written: cssselect compares them case-sensitively); () for one requiring nothing
        #: (``img``, ``p:first-child``) or a word a body may write with an entity.
        self.needs = tuple(_needs(parsed.parsed_tree) for parsed in cssselect.parse(selector))


def _needs(tree: object) -> tuple[str, ...]:
    words = _required(tree)
    if any(c in word for word in words for c in "&<>\"'\xa0"):
        return ()
    return tuple(sorted(words))


def _required(tree: object) -> set[str]:
    """Words an element matching ``tree`` has in its start tag (cssselect's parse tree).

    Only what every match must carry: class names, ids and the values of attribute tests;
    nothing from ``:not()``, ``:is()``, ``:has()`` or ``:contains()``.
    """
    out: set[str] = set()
    while tree is not None:
        if isinstance(tree, cssselect.parser.Class):
            out.add(tree.class_name)
        elif isinstance(tree, cssselect.parser.Hash):
            out.add(tree.id)
        elif isinstance(tree, cssselect.parser.Attrib):
            value = tree.value
            if tree.operator != "exists" and value is not None and value.value:
                out.add(str(value.value))
        elif isinstance(tree, cssselect.parser.CombinedSelector):
            out |= _required(tree.subselector)
        tree = getattr(tree, "selector", None)
    return out


class _View:
    """A body seen without parsing it, each form made on first use."""

    __slots__ = ("_text", "body")

    def __init__(self, body: str) -> None:
        self.body = body
        self._text: bytes | None = None

    def text(self) -> bytes:
        """The body with its entities decoded, UTF-8: each text node is a stretch of it
        between ``>`` and ``<``, and each start tag is whole (a decoded ``&lt;`` may look
        like a tag: that only adds matches)."""
        if self._text is None:
            text = self.body
            if "&" in text:
                if _RARE_MARKUP.search(text):
                    text = html_lib.unescape(text)
                else:
                    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
                    text = text.replace("&nbsp;", "\xa0").replace("&amp;", "&")
            self._text = text.encode("utf-8", "replace")
        return self._text

    def image_urls(self) -> list[str]:
        """The URLs of every ``<img>`` (the attributes ``_drop_images`` reads)."""
        urls: list[str] = []
        for tag in _IMG_TAG.finditer(self.body):
            for m in _IMG_URL.finditer(tag.group(0)):
                value = m.group(2) or m.group(3) or m.group(4) or ""
                urls.append(html_lib.unescape(value) if "&" in value else value)
        return urls


_IMG = re.compile("<img", re.IGNORECASE)
_RARE_MARKUP = re.compile(r"&(?!amp;|lt;|gt;|quot;|nbsp;)")

_IMG_TAG = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_IMG_URL = re.compile(
    r"""\s(src|data-src|data-original|data-lazy-src|data-actualsrc)\s*=\s*"""
    r"""(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""",
    re.IGNORECASE,
)


class _Steps:
    """A set's rewrite steps, compiled once, with the look at a raw body that may rule
    them all out (:meth:`may_apply`)."""

    __slots__ = ("any_image", "images", "probe", "remove", "removes", "replaces", "rules")

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.remove = tuple(_Remove(s) for s in rules.remove)
        self.images = tuple(_Image(p) for p in rules.drop_images)
        #: Every image pattern in one expression (None: RE2 refused the whole).
        self.any_image: Regex | None = None
        if self.images:
            with contextlib.suppress(ValueError):  # too big together: one at a time
                self.any_image = compile_regex("|".join(i.source for i in self.images))
        self.replaces = tuple(_Replace(s.pattern, s.replacement) for s in rules.replace)
        self.probe, self.removes = self._probe()

    def _probe(self) -> tuple[RegexSet | None, tuple[tuple[int, ...], ...]]:
        """One RE2 set over the raw view: each word a remove selector needs, inside a tag
        (index 0 up), then every replace step's probe. Also, per selector of each remove
        step, the indexes of its words; None when a step cannot be probed (then the body
        is always parsed)."""
        sources: list[str] = []
        removes: list[tuple[int, ...]] = []
        for step in self.remove:
            for words in step.needs:
                if not words:
                    return None, ()
                start = len(sources)
                sources.extend(f"<[^<>]*{literal_source(word)}" for word in words)
                removes.append(tuple(range(start, len(sources))))
        for replace in self.replaces:
            if replace.probe is None:
                return None, ()
            sources.append(replace.probe)
        if not sources:
            return None, ()
        try:
            return RegexSet(sources), tuple(removes)
        except ValueError:  # too big together
            return None, ()

    def may_apply(self, body: str) -> bool:
        """False when no step can change ``body``: a look at the raw text, no parsing.

        Never False for a body a step would change: each test is a necessary condition
        (a selector's class names are in a start tag, an image URL matches, the raw view
        matches a replace step's probe).
        """
        view = _View(body)
        if self.images and _IMG.search(body):
            for url in view.image_urls():
                if self.any_image is not None:
                    if self.any_image.search(url.encode("utf-8", "replace")) is not None:
                        return True
                elif any(image.matches(url) for image in self.images):
                    return True
        if not (self.remove or self.replaces):
            return False
        # lxml may read "\r\n" as "\n": with a CR in the body, the view is not exact.
        if self.probe is None or "\r" in body:
            return True
        found = self.probe.matching(view.text())
        if not found:
            return False
        if any(found.issuperset(words) for words in self.removes):
            return True
        first = sum(len(words) for words in self.removes)
        return any(i >= first for i in found)


_CACHE: dict[int, _Steps] = {}
_CACHE_SIZE = 512


def _steps(rules: RuleSet) -> _Steps:
    steps = _CACHE.get(id(rules))
    if steps is not None and steps.rules is rules:
        return steps
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    steps = _CACHE[id(rules)] = _Steps(rules)
    return steps


def rewrite(body_html: str, rules: RuleSet) -> Rewritten:
    """Apply the rewrite steps of ``rules`` to one body.

    Returns:
        The body, ``changed`` and the labels of the steps that changed it; ``body_html``
        itself (``changed`` False) when no step changes anything, or when the body cannot
        be parsed as HTML at all.
    """
    if not rules.has_rewrite or not body_html:
        return Rewritten(body_html, False, ())
    steps = _steps(rules)
    if not steps.may_apply(body_html):
        return Rewritten(body_html, False, ())
    root = _parse(body_html)
    if root is None:
        return Rewritten(body_html, False, ())
    applied: list[str] = []
    for step in steps.remove:
        result = step.xpath(root)
        found = [
            e
            for e in (result if isinstance(result, list) else ())
            if isinstance(e, etree._Element) and e is not root
        ]
        if found:
            for element in found:
                if _attached(element, root):
                    _drop(element)
            applied.append(step.label)
    if steps.images:
        applied.extend(_drop_images(root, steps.images))
    for replace in steps.replaces:
        if _replace_text(root, replace.sub):
            applied.append(replace.label)
    if not applied:
        return Rewritten(body_html, False, ())
    return Rewritten(_serialise(root), True, tuple(applied))


def _parse(body: str) -> lxml.html.HtmlElement | None:
    text = _NOT_XML.sub("", body) if _NOT_XML.search(body) else body
    try:
        root = lxml.html.fragment_fromstring(text, create_parent=_WRAPPER, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    return root


def _attached(element: etree._Element, root: etree._Element) -> bool:
    """Whether ``element`` is still in the tree (an earlier match may have held it)."""
    return any(ancestor is root for ancestor in element.iterancestors())


def _drop(element: etree._Element) -> None:
    """Remove ``element`` and what it holds; its tail text joins the text before it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _drop_images(root: etree._Element, images: tuple[_Image, ...]) -> list[str]:
    hit: dict[str, None] = {}
    for img in list(root.iter("img")):
        urls = [v for v in (img.get(a) for a in _IMG_ATTRS) if v]
        for image in images:
            if any(image.matches(url) for url in urls):
                _drop(img)
                hit[image.label] = None
                break
    return [image.label for image in images if image.label in hit]


def _replace_text(root: etree._Element, sub: Callable[[str], str]) -> bool:
    changed = False
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag not in _NOT_TEXT and element.text:
            new = sub(element.text)
            if new != element.text:
                element.text = new
                changed = True
        if element is not root and element.tail:
            new = sub(element.tail)
            if new != element.tail:
                element.tail = new
                changed = True
    return changed


def _serialise(root: etree._Element) -> str:
    parts = [html_lib.escape(root.text, quote=False)] if root.text else []
    parts.extend(
        etree.tostring(child, encoding="unicode", method="html", with_tail=True) for child in root
    )
    return "".join(parts)


# -- the text of a body -------------------------------------------------------------------------

#: End tags (and ``<br>``, ``<hr>``) that close a block, as a cleaned body writes them
#: (lower case): they become line breaks, so words either side do not run together; other
#: tags (``<b>``, ``<a>``...) vanish: ``扫<b>码</b>`` is 扫码.
_BLOCK_END = re.compile(
    r"</(?:p|div|li|h[1-6]|tr|td|th|blockquote|pre|figure|figcaption|dt|dd|section|article"
    r"|header|footer|aside|table|ul|ol)>|<[bh]r\b[^>]*>"
)
_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
#: An entity other than the four a cleaned body uses in text.
_RARE_ENTITY = re.compile(r"&(?!amp;|lt;|gt;|nbsp;)")


def plain_text(body_html: str) -> str:
    """The text of a body, for ``content`` rules: tags removed (block ends become line
    breaks), entities decoded; white space as it is (a keyword's spaces match any run of
    white space, so it need not be collapsed).

    Meant for cleaned bodies (tags whole and lower case, ``<`` in text escaped); it is three
    string scans, not a parse (some 10 µs for a cleaned body of 4 KB).
    """
    text = body_html
    if "<" in text:
        text = _TAG.sub("", _BLOCK_END.sub("\n", text))
    if "&" in text:
        if _RARE_ENTITY.search(text):
            text = html_lib.unescape(text)
        else:
            text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", "\xa0")
            text = text.replace("&amp;", "&")
    return text
