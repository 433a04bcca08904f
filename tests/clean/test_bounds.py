"""Bounds on item HTML before sanitising (issue #10 row 6)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from feedsite._clean import clean_html
from feedsite._clean._bounds import ELLIPSIS, MAX_DEPTH, MAX_HTML_CHARS, SCAN_ABOVE, bound_html
from feedsite._parse import parse_feed

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "realworld" / "feeds"


def depth(html: str) -> int:
    """The nesting depth of well-formed HTML without void elements (nh3's output)."""
    deepest = level = 0
    for close in re.findall(r"<(/?)[a-z]+[^>]*>", html):
        level += -1 if close else 1
        deepest = max(deepest, level)
    return deepest


def test_200000_nested_divs_are_bounded_fast() -> None:
    """issue #10 row 6: 200,000 nested <div> (2.2 MB): 2 min 19 s in the cleaner."""
    body = "<div>" * 200_000 + "deep" + "</div>" * 200_000
    started = time.monotonic()
    cleaned = clean_html(bound_html(body), base_url=None, iframe_hosts=())
    assert time.monotonic() - started < 2.0
    assert depth(cleaned) <= MAX_DEPTH


def test_text_below_the_limit_is_kept_and_the_structure_above() -> None:
    body = "<div>" * SCAN_ABOVE + "<p>deep</p>" + "</div>" * SCAN_ABOVE + "<p>after</p>"
    bounded = bound_html(body)
    assert depth(bounded) == MAX_DEPTH
    assert "deep" in bounded and bounded.endswith("</div><p>after</p>")
    assert bounded.startswith("<div>" * MAX_DEPTH + "deep")


@pytest.mark.parametrize(
    "unit",
    [
        "<div><object></div>",  # an end tag HTML ignores: the depth still grows
        "<span><div></span>",
        "<b id=x>",
        "<div/>",  # "/" means nothing on an HTML element
        "<foo/>",
        "<div><p>",  # a block closes nothing: the next <p> is no sibling of the first
        "<li><div>",
    ],
)
def test_tricks_that_nest_in_html_are_counted(unit: str) -> None:
    body = unit * 50_000
    started = time.monotonic()
    cleaned = clean_html(bound_html(body), base_url=None, iframe_hosts=())
    assert time.monotonic() - started < 2.0
    assert depth(cleaned) <= MAX_DEPTH


@pytest.mark.parametrize(
    "body",
    [
        "<p>plain</p>" * SCAN_ABOVE,
        "<ul>" + "<li>item" * SCAN_ABOVE + "</ul>",  # optional end tags close their siblings
        ("<p>" + "<span>unclosed" * 200 + "</p>")
        * (SCAN_ABOVE // 200),  # closed by their block's end tag
        "<svg>" + "<path d='M0'/>" * SCAN_ABOVE + "</svg>",  # self-closing in svg
        "<!--[if gte mso 9]><xml>" + "<w:LsdException/>" * SCAN_ABOVE + "</xml><![endif]-->",
        "<table>" + "<tr><td>cell" * SCAN_ABOVE + "</table>",
    ],
)
def test_ordinary_html_is_returned_untouched(body: str) -> None:
    assert body.count("<") > SCAN_ABOVE  # scanned, and found within the bounds
    assert bound_html(body) is body


def test_a_body_with_few_tags_is_not_scanned_and_cheap_however_deep() -> None:
    body = "<div>" * (SCAN_ABOVE // 2) + "x" + "</div>" * (SCAN_ABOVE // 2)
    assert bound_html(body) is body
    started = time.monotonic()
    clean_html(body, base_url=None, iframe_hosts=())
    assert time.monotonic() - started < 0.5


def test_a_body_over_the_size_limit_is_cut_outside_tags_and_entities() -> None:
    unit = '<p class="x">a &amp; b</p>'
    body = unit * (MAX_HTML_CHARS // len(unit) + 10)
    bounded = bound_html(body)
    assert len(bounded) <= MAX_HTML_CHARS + len(ELLIPSIS)
    assert bounded.endswith(ELLIPSIS)
    head = bounded[: -len(ELLIPSIS)]
    assert head.rfind("<") < head.rfind(">")
    assert head.rfind("&") < head.rfind(";") or "&" not in head[-8:]


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs ../shared/corpora")
def test_every_real_body_of_the_corpus_is_untouched() -> None:
    """The bounds change nothing on 6,500 real bodies (the largest: 762 KB, depth 46)."""
    bodies = []
    for path in sorted(CORPUS.iterdir()):
        try:
            feed = parse_feed(path.read_bytes(), url="https://example.org/")
        except Exception:
            continue
        bodies += [b for i in feed.items for b in (i.content_html, i.summary_html) if b]
    assert len(bodies) > 6000
    assert [b for b in bodies if bound_html(b) is not b] == []
