"""Bounds on one item's HTML before anything parses it: size and nesting depth.

Pure; contains no business logic. The sanitiser (nh3 / html5ever) spends time
proportional to the depth of the open-element stack for many start and end
tags, so a body of 200,000 nested ``<div>`` took 2 min 19 s (issue #10 row 6).
:func:`bound_html` caps what reaches it:

* **size**: at most :data:`MAX_HTML_CHARS` characters; a longer body is cut
  before its last incomplete tag and ends with ``…``;
* **depth**: in a body with more than :data:`SCAN_ABOVE` tags, start tags
  that would open an element deeper than :data:`MAX_DEPTH` are removed, with
  as many end tags after them; their text stays. Browsers and libxml2 stop
  nesting around there too (Chromium's tree builder at 512, libxml2 at 256
  without ``XML_PARSE_HUGE``). A smaller body cannot nest deep enough to cost
  nh3 more than ~30 ms, and is not scanned.

The depth is counted by a linear scan of the tags that approximates an HTML
parser's stack of open elements: void elements and comments open nothing, a
self-closing tag opens nothing inside ``<svg>``/``<math>`` (or with a
namespaced name such as Word's ``<o:p/>``), ``<p>``, ``<li>``, ``<td>``…
close an open one of their kind near the top, an end tag closes its nearest
open match and everything above it, a stray one is ignored. Where it differs
from a browser it mostly counts too deep, so the worst a real body can meet is
losing tags beyond depth 256; the deepest body in the corpora (6,534 real
bodies) reaches 46. Removing tags never makes HTML safe or unsafe: the
sanitiser still reads every byte that is left.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DEPTH", "MAX_HTML_CHARS", "SCAN_ABOVE", "bound_html"]

#: Longest body (characters) that is cleaned whole. The largest real body in the
#: corpora is 762,498 characters; nh3 cleans 1 MB of ordinary HTML in ~0.1 s.
MAX_HTML_CHARS = 1_000_000
#: Deepest element kept (the deepest real body in the corpora: 46). nh3's worst
#: case on a 1 MB body kept at this depth is under a second (measured: 0.1-0.6 s).
MAX_DEPTH = 256

#: Bodies with at most this many ``<`` are not scanned for depth: they cannot nest
#: deeper than that, and nh3's worst case for them (4,000 nested ``<div>``) is ~30 ms.
#: Scanning every body over 256 would cost a fifth to a half of nh3's own time on
#: the real-world corpus; over 4,000, a sixth of the bodies' tags are scanned.
SCAN_ABOVE = 4000

#: Ends a cut body.
ELLIPSIS = "…"

_VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "bgsound",
        "br",
        "col",
        "embed",
        "frame",
        "hr",
        "image",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
#: Elements that a start tag of the same kind closes (their end tag is optional).
_SIBLING_CLOSES = frozenset(["p", "li", "dt", "dd", "option", "tr", "td", "th"])
#: How near the top of the stack an open element of the kind must be for that.
_SIBLING_REACH = 4
_TABLE_PARTS = frozenset(["td", "th", "tr", "tbody", "thead", "tfoot"])
#: End tags that close whatever is open above their element (HTML's "special"
#: elements, those that matter here).
BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dd",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "li",
        "listing",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
#: Elements that stop an end tag's search in HTML ("has an element in scope").
_SCOPE = frozenset(
    ["applet", "caption", "html", "marquee", "object", "table", "td", "template", "th"]
)
#: Where a self-closing tag (``<path/>``) opens nothing, as in HTML's foreign content.
_FOREIGN = frozenset(("svg", "math"))
# A comment (to its end, or to the end of the body: HTML reads an unclosed one so),
# else a start or end tag. No "<" inside a tag keeps the scan linear: an unclosed
# "<a" cannot make the regex rescan the rest of the body from every later "<".
_TOKEN_RE = re.compile(r"<!--.*?(?:-->|\Z)|<(/?[A-Za-z][^\s/<>]*)([^<>]*)>", re.S)


def bound_html(html: str) -> str:
    """``html`` cut to :data:`MAX_HTML_CHARS` and flattened below :data:`MAX_DEPTH`.

    Cost: one ``str.count`` for a body with at most :data:`SCAN_ABOVE` ``<``
    (all but 15 of 6,534 real bodies); otherwise one linear scan of its tags (about half of
    what nh3 then spends on the same body; 0.5 s for the worst, 1 MB of
    ``<div>``). Returns ``html`` itself when nothing had to change.
    """
    if len(html) > MAX_HTML_CHARS:
        html = _cut(html)
    if html.count("<") <= SCAN_ABOVE:
        return html  # too few tags to nest deeper than nh3 handles in a few ms
    return _flatten(html)


def _cut(html: str) -> str:
    head = html[:MAX_HTML_CHARS]
    lt = head.rfind("<")
    if lt > head.rfind(">"):
        head = head[:lt]  # do not leave half a tag
    amp = head.rfind("&")
    if amp > head.rfind(";") and len(head) - amp < 32:
        head = head[:amp]  # nor half an entity
    return head + ELLIPSIS


def _flatten(html: str) -> str:
    """Remove the start tags that would open an element deeper than the limit, and
    as many end tags after them (a close counts only while such tags are open)."""
    stack: list[str] = []
    foreign = 0  # svg/math elements on the stack
    excess = 0  # start tags removed and not yet closed
    drop: list[tuple[int, int]] = []
    for m in _TOKEN_RE.finditer(html):
        raw, rest = m.group(1), m.group(2)
        if raw is None:
            continue  # a comment
        if raw[0] == "/":
            if excess:
                excess -= 1
                drop.append(m.span())
                continue
            name = raw[1:].lower()
            if stack and stack[-1] == name:
                stack.pop()
                if name in _FOREIGN:
                    foreign -= 1
            elif name in stack:  # its nearest open match (searched at C speed)
                at = len(stack) - 1 - stack[::-1].index(name)
                # HTML closes what is open above it unless a scope boundary (for block
                # elements) or any block element (for the others) is in the way.
                if (_SCOPE if name in BLOCKS else BLOCKS).isdisjoint(stack[at + 1 :]):
                    foreign -= sum(n in _FOREIGN for n in stack[at:])
                    del stack[at:]
            continue  # a stray end tag changes nothing
        name = raw.lower()
        if name in _VOID:
            continue
        if rest.endswith("/") and (foreign or ":" in name):
            continue  # self-closing in svg/math (and Word's <o:p/>): opens nothing
        if name in _SIBLING_CLOSES and name in stack[-_SIBLING_REACH:]:
            # <li>, <tr>, <td>, <p>… close an open one of their kind near the top
            # and what is open inside it, unless a block is in the way (as HTML does:
            # <div><p><div><p> nests): a sibling, no deeper.
            at = len(stack) - 1 - stack[::-1].index(name)
            blocks = BLOCKS - _TABLE_PARTS if name in _TABLE_PARTS else BLOCKS
            if blocks.isdisjoint(stack[at + 1 :]):
                foreign -= sum(n in _FOREIGN for n in stack[at:])
                del stack[at:]
        if len(stack) >= MAX_DEPTH:
            excess += 1
            drop.append(m.span())
            continue
        stack.append(name)
        if name in _FOREIGN:
            foreign += 1
    if not drop:
        return html
    parts = []
    at = 0
    for start, end in drop:
        parts.append(html[at:start])
        at = end
    parts.append(html[at:])
    return "".join(parts)
