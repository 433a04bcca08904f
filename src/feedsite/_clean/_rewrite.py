"""Rewrite steps of ``rules:`` applied to one body (issue #13). Pure; decides nothing else.

In the order they run (each level's steps accumulate, parents' first: docs/rules.md):

1. ``remove``: the elements each CSS selector selects are removed with what they hold (the
   text after an element stays);
2. ``drop_images``: every ``<img>`` whose URL (``src``, or a lazy-loading attribute)
   matches a pattern is removed;
3. ``replace``: matches of each pattern in the *text* are replaced, one text node at a time
   (tags and attribute values are never touched, so a pattern cannot break the markup; a
   phrase split by a tag, ``本文<b>来自</b>…``, is not one text).

Its input is the item's body as the feed gave it, *before* ``clean_html``: the sanitiser
drops ``class`` and ``id``, which selectors need, and the lazy-loading attributes are still
there. Its output is HTML the lxml serialiser wrote (or the input itself), untrusted like
the input: the caller cleans it next. Comments, scripts and styles are left to the cleaner
(their text is never replaced).

Speed: parsing is most of the cost, so :func:`rewrite` first looks at the raw text
(:meth:`_Steps.may_apply`): a few RE2 passes that rule out a body no step can change (no
start tag carries a selector's class name or id, no image URL matches, the text cannot hold
a replace pattern). The look is a necessary condition, never a guess: a body it rules out
is one the steps would leave as it is (tests/clean/test_rewrite.py checks this against the
parse on generated bodies). When nothing changes, the very string given comes back.

:func:`plain_text` is the text the ``content`` rules match, made from the cleaned body.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import html as html_lib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import cssselect
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

__all__ = ["Rewritten", "TextProbe", "plain_text", "rewrite", "text_probe"]


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
#: promotes to ``src`` later).
_IMG_ATTRS = ("src", "data-src", "data-original", "data-lazy-src", "data-actualsrc")
#: Elements whose text is not text a reader sees (the cleaner drops them).
_NOT_TEXT = frozenset({"script", "style", "template"})
_PARSER = etree.HTMLParser(remove_comments=False, remove_pis=True)
#: A body that is a whole page (lxml.html's test): parsed as it is, not inside a <body>.
_FULL_PAGE = re.compile(r"\s*<(?:html|!doctype)", re.IGNORECASE)
#: Characters XML cannot hold (lxml refuses a str that has them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# -- rewriting -----------------------------------------------------------------------------------


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
    # lxml refuses these characters: both the look and the parse go without them.
    body = _NOT_XML.sub("", body_html) if _NOT_XML.search(body_html) else body_html
    if not steps.may_apply(body):
        return Rewritten(body_html, False, ())
    root = _parse(body)
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
    if steps.replaces:
        applied.extend(_replace_all(root, steps.replaces))
    if not applied:
        return Rewritten(body_html, False, ())
    return Rewritten(_serialise(root), True, tuple(applied))


def _parse(body: str) -> etree._Element | None:
    """The ``<body>`` element of ``body`` parsed as a page (plain lxml elements: lxml.html's
    per-element class lookup costs a Python call for each)."""
    page = body if _FULL_PAGE.match(body) else f"<html><body>{body}</body></html>"
    try:
        doc = etree.fromstring(page, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return None if doc is None else doc.find("body")


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


def _replace_all(root: etree._Element, steps: tuple[_Replace, ...]) -> list[str]:
    """Run the replace steps over every text node; the labels of those that changed one."""
    nodes: list[tuple[etree._Element, bool]] = []
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag not in _NOT_TEXT and element.text:
            nodes.append((element, False))
        if element is not root and element.tail:
            nodes.append((element, True))
    texts = [(e.tail if tail else e.text) or "" for e, tail in nodes]
    applied: list[str] = []
    for step in steps:
        changed = False
        for i in _candidates(step, texts):
            element, tail = nodes[i]
            new = step.sub(texts[i])
            if new != texts[i]:
                texts[i] = new
                if tail:
                    element.tail = new
                else:
                    element.text = new
                changed = True
        if changed:
            applied.append(step.label)
    return applied


def _candidates(step: _Replace, texts: list[str]) -> Iterable[int]:
    """The text nodes ``step`` may change: all of them, or, when it has a probe (no
    anchors, no word boundaries), those the probe's matches in all the text (a line break
    between nodes) touch: one search instead of one per node.

    Every node where the step matches is among them: a match of the step in a node is a
    match of the probe in the joined text, so the probe's leftmost matches either start
    there or run over it."""
    if step.probe_regex is None:
        return range(len(texts))
    starts: list[int] = []
    offset = 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    found: set[int] = set()
    for match in step.probe_regex.finditer("\n".join(texts)):
        start, end = match.span()
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, max(start, end - 1)) - 1
        found.update(range(first, last + 1))
    return sorted(found)


def _serialise(root: etree._Element) -> str:
    parts = [html_lib.escape(root.text, quote=False)] if root.text else []
    parts.extend(
        etree.tostring(child, encoding="unicode", method="html", with_tail=True) for child in root
    )
    return "".join(parts)


# -- the steps, compiled ---------------------------------------------------------------------------


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
    """One ``replace`` step, and what a body must hold for it to change anything."""

    __slots__ = ("label", "needs", "probe_regex", "regex", "replacement")

    def __init__(self, p: Pattern, replacement: str) -> None:
        self.label = p.label("rewrite.replace")
        self.regex = compile_regex(regex_source(p))
        self.replacement = replacement
        probe = _text_probe(p)
        #: The text probe, compiled, for the one search over a parsed body's text.
        self.probe_regex = None if probe is None else compile_regex(probe)
        #: Markup view sources (the required words, tags allowed between their letters),
        #: then the text view's probe when there is one.
        self.needs: tuple[tuple[str, str], ...] = tuple(
            ("markup", source) for source in _markup_words(p)
        ) + ((("text", probe),) if probe is not None else ())

    def sub(self, text: str) -> str:
        replacement = self.replacement
        return self.regex.sub(lambda _: replacement, text)


class _Remove:
    """One ``remove`` selector, and what a body must hold for it to select anything."""

    __slots__ = ("label", "needs", "xpath")

    def __init__(self, selector: str) -> None:
        self.label = f"rewrite.remove {quote(selector)}"
        self.xpath = etree.XPath(selector_xpath(selector))
        #: Per selector of the list: (view, RE2 source) that must all match for it to
        #: select anything; () for one that requires nothing (``img``, ``p:first-child``).
        self.needs = tuple(
            _selector_needs(parsed.parsed_tree) for parsed in cssselect.parse(selector)
        )


class _Steps:
    """A set's rewrite steps, compiled once, with the look at a raw body that may rule
    them all out (:meth:`may_apply`)."""

    __slots__ = (
        "alphabet",
        "any_image",
        "image_needs",
        "images",
        "markup",
        "needs",
        "raw_start",
        "refused",
        "remove",
        "replaces",
        "rules",
        "text",
    )

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
        # One RE2 set per view; per remove selector and replace step, the indexes of what
        # it needs in each.
        markup: list[str] = []
        text: list[str] = []
        needs: list[tuple[frozenset[int], frozenset[int]]] = []
        groups = [n for step in self.remove for n in step.needs]
        groups += [step.needs for step in self.replaces]
        #: Per image pattern, the markup sources its URL needs (a pattern that needs no
        #: letters makes the look read every image URL: None).
        self.image_needs = _indexed([_image_words(p) for p in rules.drop_images], markup)
        self.alphabet = _alphabet(
            [*rules.remove, *(p.text for p in rules.drop_images)]
            + [r.pattern.text for r in rules.replace]
        )
        for group in groups:
            in_markup = frozenset(_add(markup, s) for view, s in group if view == "markup")
            in_text = frozenset(_add(text, s) for view, s in group if view == "text")
            needs.append((in_markup, in_text))
        #: The index of _RAW_START in the markup set (-1: no text view is ever needed).
        self.raw_start = _add(markup, _RAW_START) if text else -1
        self.needs = tuple(needs)
        try:
            self.markup = RegexSet(markup) if markup else None
            self.text = RegexSet(text) if text else None
            #: RE2 refused a whole set (too big together): every body is parsed.
            self.refused = False
        except ValueError:
            self.markup = self.text = None
            self.refused = True

    def _images_may_match(self, view: _View, in_markup: frozenset[int]) -> bool:
        """Whether an image URL of the body matches a ``drop_images`` pattern (the letters
        each pattern needs are looked for in the markup first)."""
        if self.image_needs is not None and not any(n <= in_markup for n in self.image_needs):
            return False
        if not _IMG.search(view.body):
            return False
        regex = self.any_image
        for url in view.image_urls():
            if regex is not None:
                if regex.search(url.encode("utf-8", "replace")) is not None:
                    return True
            elif any(image.matches(url) for image in self.images):
                return True
        return False

    def may_apply(self, body: str) -> bool:
        """False when no step can change ``body``: a look at the raw text, no parsing.

        Never False for a body a step would change: each test is a necessary condition
        (see :func:`_selector_needs`, :func:`_markup_words`, :func:`_text_probe`).
        """
        if self.refused:
            return True
        view = _View(body, self.alphabet)
        in_markup = self.markup.matching(view.markup()) if self.markup else frozenset()
        if self.images and self._images_may_match(view, in_markup):
            return True
        live = [t for m, t in self.needs if m <= in_markup]
        if not live:
            return False
        if not all(live):  # a step that needs nothing more of the text
            return True
        # The text view (the dearer one): it is not exact with a CR ("\r\n" may read as
        # "\n") nor with a <textarea>, <script>... that holds tags, as text.
        if "\r" in body or (self.raw_start in in_markup and _RAW_TEXT.search(body)):
            return True
        in_text = self.text.matching(view.text()) if self.text else frozenset()
        return any(t <= in_text for t in live)


def _indexed(
    groups: Sequence[Sequence[str]], sources: list[str]
) -> tuple[frozenset[int], ...] | None:
    """Per group of sources a pattern needs, their indexes in ``sources`` (added there);
    None when a group is empty (a pattern that needs nothing rules out no body)."""
    if not all(groups):
        return None
    return tuple(frozenset(_add(sources, source) for source in group) for group in groups)


def _add(sources: list[str], source: str) -> int:
    if source in sources:
        return sources.index(source)
    sources.append(source)
    return len(sources) - 1


_CACHE: dict[int, _Steps] = {}
_CACHE_SIZE = 512


def _steps(rules: RuleSet) -> _Steps:
    """The compiled steps of ``rules``, cached by identity (an entry holds its set, so its
    id is not reused while it is cached)."""
    steps = _CACHE.get(id(rules))
    if steps is not None and steps.rules is rules:
        return steps
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    steps = _CACHE[id(rules)] = _Steps(rules)
    return steps


# -- the look before parsing -----------------------------------------------------------------------


class _View:
    """A body seen without parsing it, each form made on first use."""

    __slots__ = ("_markup", "_text", "alphabet", "body")

    def __init__(self, body: str, alphabet: frozenset[str] | None = None) -> None:
        self.body = body
        #: The characters the probes read (None: any); a reference that decodes to none
        #: of them cannot make a probe match, so the decoded copy is not made for it.
        self.alphabet = alphabet
        self._markup: bytes | None = None
        self._text: bytes | None = None

    def markup(self) -> bytes:
        """The body as written, UTF-8; when it has character references other than the
        common five (``&amp;`` ``&lt;`` ``&gt;`` ``&quot;`` ``&nbsp;``), then also, after a
        line break, the body with those decoded (an attribute may spell a class name with
        one, a text a letter; decoding could unbalance a value's quotes: both are seen)."""
        if self._markup is None:
            body = self.body
            if "&" in body and _RARE_ENTITY.search(body) and self._decoding_matters():
                body = f"{body}\n{_RARE_REFERENCE.sub(_unescape, body)}"
            self._markup = body.encode("utf-8", "replace")
        return self._markup

    def _decoding_matters(self) -> bool:
        """Whether a rare reference of the body decodes to a character a probe reads.

        When none does, a match in the decoded copy is a match in the body as written at
        the same place: the probes read such characters only through ``[^>]``-like
        classes under ``*``, which the reference's own characters (``&#8221;``) match too.
        """
        alphabet = self.alphabet
        if alphabet is None:
            return True
        for reference in set(_RARE_REFERENCE.findall(self.body)):
            for c in _unescaped(reference):
                if c in alphabet or c.lower() in alphabet or c.upper() in alphabet:
                    return True
        return False

    def text(self) -> bytes:
        """The body without its tags, comments and processing instructions, entities then
        decoded, UTF-8: each text node lxml makes is a stretch of it (lxml joins the text
        either side of a stray end tag; this joins every two)."""
        if self._text is None:
            text = _STRIP.sub("", self.body) if "<" in self.body else self.body
            self._text = _decode(text).encode("utf-8", "replace")
        return self._text

    def image_urls(self) -> Iterator[str]:
        """The URLs of every ``<img>`` (the attributes ``_drop_images`` reads)."""
        for tag in _IMG_TAG.finditer(self.body):
            for m in _IMG_URL.finditer(tag.group(0)):
                value = m.group(2) or m.group(3) or m.group(4) or ""
                yield html_lib.unescape(value) if "&" in value else value


def _selector_needs(tree: object) -> tuple[tuple[str, str], ...]:
    """What a body must hold for one selector (cssselect's parse tree) to select anything:
    its class names, ids and attribute values in a start tag (markup view), its
    ``:contains()`` words in the text (text view, and in the markup view with tags allowed
    between their letters). Nothing from ``:not()``, ``:is()`` or ``:has()``."""
    in_tag: set[tuple[str, str]] = set()
    in_text: set[str] = set()
    _required(tree, in_tag, in_text)
    # A word with one of these characters could be spelt in ways the markup view does not
    # show (and would break the quoting the probes read): such a selector is not probed.
    if any(c in word for _, word in in_tag for c in "&<>\"'\xa0"):
        return ()
    needs = sorted(("markup", _attribute_probe(a, w)) for a, w in in_tag)
    for word in sorted(in_text):
        needs += [("markup", _spread(word, fold=False)), ("text", literal_source(word))]
    return tuple(needs)


def _required(tree: object, in_tag: set[tuple[str, str]], in_text: set[str]) -> None:
    while tree is not None:
        if isinstance(tree, cssselect.parser.Class):
            in_tag.add(("class", tree.class_name))
        elif isinstance(tree, cssselect.parser.Hash):
            in_tag.add(("id", tree.id))
        elif isinstance(tree, cssselect.parser.Attrib):
            value = tree.value
            tested = tree.operator != "exists" and value is not None and value.value
            if tested and value is not None and tree.namespace is None and tree.attrib:
                in_tag.add((tree.attrib.lower(), str(value.value)))
        elif isinstance(tree, cssselect.parser.Function):
            arguments = tree.arguments
            if tree.name == "contains" and len(arguments) == 1 and arguments[0].value:
                in_text.add(str(arguments[0].value))
        elif isinstance(tree, cssselect.parser.CombinedSelector):
            _required(tree.subselector, in_tag, in_text)
        tree = getattr(tree, "selector", None)


def _attribute_probe(attribute: str, word: str) -> str:
    """RE2 source for ``attribute`` holding ``word`` in a start tag: ``class`` as one of its
    space-separated names, ``id`` as its whole value, another attribute anywhere in its
    value (cssselect compares values case-sensitively; lxml reads attribute names in lower
    case). Quote-aware, so a ``>`` inside another attribute's value does not hide it."""
    w = literal_source(word)
    name = f"[\\s\"'/](?i:{literal_source(attribute)})\\s*=\\s*"
    if attribute == "class":
        value = f"\"(?:[^\"]*\\s)?{w}[\\s\"]|'(?:[^']*\\s)?{w}[\\s']|{w}(?:[\\s/>]|\\z)"
    elif attribute == "id":
        value = f"\"{w}\"|'{w}'|{w}(?:[\\s/>]|\\z)"
    else:
        value = f"\"[^\"]*{w}|'[^']*{w}|[^\\s\"'>]*{w}"
    return f"{name}(?:{value})"


def _markup_words(p: Pattern) -> list[str]:
    """Markup view sources a body must match for replace pattern ``p`` to match its text:
    a keyword, or each run of plain letters an expression requires, with tags allowed
    between any two letters; for an expression with a top-level ``|``, one source: the
    longest run of each branch, any of them. [] when an expression requires no plain
    letters (or one branch requires none)."""
    if not p.regex:
        return [_spread(p.text, fold=True)]
    branches = _literal_runs(p.text)
    if len(branches) == 1:
        return [_spread(run, fold=True) for run in branches[0]]
    if not all(branches):
        return []
    longest = (max(runs, key=len) for runs in branches)
    return ["(?:" + "|".join(_spread(run, fold=True) for run in longest) + ")"]


def _image_words(p: Pattern) -> list[str]:
    """Markup sources a body must match for ``drop_images`` pattern ``p`` to match one of
    its image URLs: the letters between a wildcard pattern's ``*``, else as
    :func:`_markup_words` (with tags allowed between letters: more than a URL needs)."""
    if p.is_glob:
        return [_spread(part, fold=True) for part in p.text.split("*") if part.strip()]
    return _markup_words(p)


#: Characters every probe reads besides the letters of its words: white space (a
#: reference spelling one in a ``class`` value splits it). A reference that decodes to a
#: quote, ``<``, ``>`` or ``=`` is never markup for lxml, so it matters only when a word
#: holds that character (then the word's characters bring it in).
_STRUCTURAL = frozenset(" \t\n\r\f\v\xa0\u3000")


def _alphabet(texts: Iterable[str]) -> frozenset[str]:
    """The characters probes made from ``texts`` read, in both cases (RE2's case folding
    maps e.g. the Kelvin sign to ``k``: a decoded character is tested lowered and raised
    too), with :data:`_STRUCTURAL`."""
    chars = {c for text in texts for c in text}
    return frozenset(_STRUCTURAL | chars | {c.lower() for c in chars} | {c.upper() for c in chars})


class TextProbe:
    """A look at a raw body that rules out every pattern of a set matching its text
    (:func:`plain_text`): the letters each pattern needs, searched in the markup with
    tags allowed between them. Never False for a body one of them matches."""

    __slots__ = ("_needs", "_set", "alphabet", "patterns")

    def __init__(self, patterns: tuple[Pattern, ...]) -> None:
        self.patterns = patterns
        self.alphabet = _alphabet(p.text for p in patterns)
        sources: list[str] = []
        # a pattern that needs no letters (``/^/``): no look (None)
        needs = _indexed([_markup_words(p) for p in patterns], sources)
        self._set: RegexSet | None = None
        self._needs: tuple[frozenset[int], ...] | None = None
        if needs is not None and sources:
            with contextlib.suppress(ValueError):  # RE2 refused the set: no look
                self._set = RegexSet(sources)
                self._needs = needs

    def may_match(self, body_html: str) -> bool:
        """False when no pattern can match the text of ``body_html``."""
        if self._set is None or self._needs is None:
            return bool(self.patterns)
        found = self._set.matching(_View(body_html, self.alphabet).markup())
        return any(n <= found for n in self._needs)


_PROBES: dict[tuple[Pattern, ...], TextProbe] = {}


def text_probe(patterns: tuple[Pattern, ...]) -> TextProbe:
    """The :class:`TextProbe` of ``patterns``, cached."""
    probe = _PROBES.get(patterns)
    if probe is None:
        if len(_PROBES) >= _CACHE_SIZE:
            _PROBES.clear()
        probe = _PROBES[patterns] = TextProbe(patterns)
    return probe


#: What may come between two letters of a text in the markup: tags (quote-aware or not:
#: broken markup may be read either way) and comments.
_GAP = r"(?:<!--(?s:.)*?-->|<[^>]*>|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)*"
#: A run of white space in a keyword, in the markup.
_SPACE_GAP = r"(?:[\s\x{a0}\x{3000}]|&nbsp;|<!--(?s:.)*?-->|<[^>]*>)+"
#: The common references the markup view leaves as they are.
_SPELT = {"&": "(?:&|&amp;)", "<": "(?:<|&lt;)", ">": "(?:>|&gt;)", '"': '(?:"|&quot;)'}


def _spread(text: str, *, fold: bool) -> str:
    """RE2 source matching ``text`` in the markup view with tags or comments between any
    two of its letters (and a keyword's white space as any run of white space)."""
    parts: list[str] = []
    for word, space in _WORDS.findall(text):
        if word:
            parts.append(_GAP.join(_SPELT.get(c) or literal_source(c) for c in word))
        if space and fold:
            parts.append(_SPACE_GAP)
        elif space:
            parts.append(_GAP.join(literal_source(c) for c in space))
    source = _GAP.join(part for part in parts if part)
    return f"(?i:{source})" if fold else source


_WORDS = re.compile(r"(\S*)(\s*)")


def _literal_runs(expression: str) -> list[list[str]]:
    """Per top-level branch (split at a top-level ``|``), the runs of plain characters it
    requires, read conservatively: only at the top level (not inside a group or a set); a
    letter under a quantifier, an escape or a metacharacter ends a run."""
    branches: list[list[str]] = []
    runs: list[str] = []
    run: list[str] = []
    depth, i, n = 0, 0, len(expression)
    while i < n:
        c = expression[i]
        if c == "\\":
            runs.append("".join(run))
            run = []
            i += 2
            if i < n and expression[i - 1] in "xpP" and expression[i] == "{":
                i = expression.find("}", i) + 1 or n
            elif expression[i - 1] == "Q":
                end = expression.find("\\E", i)
                i = n if end < 0 else end + 2
            continue
        if c == "[":
            runs.append("".join(run))
            run = []
            i = _after_set(expression, i)
            continue
        if c in "?*+{":
            if run:
                run.pop()  # the letter before a quantifier may be missing or repeated
            if c == "{":
                i = expression.find("}", i) + 1 or n
                continue
        if c == "|" and depth == 0:
            runs.append("".join(run))
            branches.append([r for r in runs if r])
            runs, run = [], []
        elif c in "()|^$.?*+":
            depth += (c == "(") - (c == ")")
            runs.append("".join(run))
            run = []
        elif depth == 0:
            run.append(c)
        i += 1
    runs.append("".join(run))
    branches.append([r for r in runs if r])
    return branches


def _after_set(expression: str, i: int) -> int:
    """The index after the set (``[...]``) that starts at ``i``."""
    n = len(expression)
    j = i + 1
    if j < n and expression[j] == "^":
        j += 1
    if j < n and expression[j] == "]":
        j += 1
    while j < n and expression[j] != "]":
        if expression[j] == "\\":
            j += 2
        elif expression.startswith("[:", j):
            end = expression.find(":]", j + 2)
            j = n if end < 0 else end + 2
        else:
            j += 1
    return j + 1


def _text_probe(p: Pattern) -> str | None:
    """An expression that matches the text view of a body (:meth:`_View.text`) wherever
    ``p`` matches one text node; None when there is none (then the markup decides alone).

    The text view joins the text nodes (and text lxml would join, around a stray end tag),
    so a keyword, or an expression without anchors or word boundaries, that matches a node
    matches the view. ``^``, ``$``, ``\\A``, ``\\z``, ``\\b`` and ``\\B`` would not hold
    where two nodes meet.
    """
    if not p.regex:
        return regex_source(p)
    body = p.text
    if "$" in body or _CARET.search(body):
        return None
    i = 0
    while (i := body.find("\\", i)) != -1:
        if body[i + 1 : i + 2] in ("A", "z", "b", "B"):
            return None
        i += 2
    return regex_source(p)


#: A ``^`` that is not the first character of a set (``[^...]``).
_CARET = re.compile(r"(?<!\[)\^")
_IMG = re.compile("<img", re.IGNORECASE)
_IMG_TAG = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_IMG_URL = re.compile(
    r"""\s(src|data-src|data-original|data-lazy-src|data-actualsrc)\s*=\s*"""
    r"""(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""",
    re.IGNORECASE,
)
#: The start of an element whose content lxml reads as text, tags and all (RE2) ...
_RAW_START = r"(?i)<(?:script|style|textarea|title|xmp|plaintext|iframe|noembed|noframes)[\s/>]"
#: ... and such an element with content (an empty ``<iframe ...></iframe>`` is common).
_RAW_TEXT = re.compile(
    r"<(script|style|textarea|title|xmp|plaintext|iframe|noembed|noframes)\b[^>]*>"
    r"(?!\s*</\1\s*>)",
    re.IGNORECASE,
)
#: What lxml reads as markup: a comment, a tag, an end tag, a doctype or a processing
#: instruction (``a < b`` stays text, as it does for lxml).
_STRIP = re.compile(r"<!--.*?-->|<[A-Za-z/!?][^>]*>", re.DOTALL)


def _decode(text: str) -> str:
    """``text`` with its character references decoded (the common five without a regex
    callback per reference when they are the only ones)."""
    if "&" not in text:
        return text
    if _RARE_ENTITY.search(text):
        return html_lib.unescape(text)
    return _COMMON.sub(_common, text)


#: A character reference other than the five a cleaned body uses.
_RARE_ENTITY = re.compile(r"&(?!amp;|lt;|gt;|quot;|nbsp;)")
_COMMON = re.compile(r"&(?:amp|lt|gt|quot|nbsp);")
#: A character reference as html.unescape reads one, but for the common five.
_RARE_REFERENCE = re.compile(
    r"&(?!(?:amp|lt|gt|quot|nbsp);)(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)"
)


@functools.lru_cache(maxsize=4096)
def _unescaped(reference: str) -> str:
    return html_lib.unescape(reference)


def _unescape(match: re.Match[str]) -> str:
    return html_lib.unescape(match.group(0))


_COMMON_CHARS = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&nbsp;": "\xa0"}


def _common(match: re.Match[str]) -> str:
    return _COMMON_CHARS[match.group(0)]


# -- the text of a body -------------------------------------------------------------------------

#: End tags (and ``<br>``, ``<hr>``) that close a block, as a cleaned body writes them
#: (lower case): they become line breaks, so words either side do not run together; other
#: tags (``<b>``, ``<a>``...) vanish: ``扫<b>码</b>`` is 扫码.
_BLOCK_END = re.compile(
    r"</(?:p|div|li|h[1-6]|tr|td|th|blockquote|pre|figure|figcaption|dt|dd|section|article"
    r"|header|footer|aside|table|ul|ol)>|<[bh]r\b[^>]*>"
)
_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)


def plain_text(body_html: str) -> str:
    """The text of a body, for ``content`` rules: tags removed (block ends become line
    breaks), entities decoded; white space as it is (a keyword's spaces match any run of
    white space, so it need not be collapsed).

    Meant for cleaned bodies (tags whole and lower case, ``<`` in text escaped); it is
    three string scans, not a parse (some 20 µs for a cleaned body of 4 KB).
    """
    text = body_html
    if "<" in text:
        text = _TAG.sub("", _BLOCK_END.sub("\n", text))
    return _decode(text)
