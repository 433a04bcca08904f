"""Pure parts of the site's page plan (``_targets/site/_plan.py``)."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from feedsite._targets.site._plan import EXCERPT_CHARS, excerpt, language

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def whole_head_excerpt(head: str, limit: int = EXCERPT_CHARS) -> str:
    """The reference: the same rules applied to the whole head at once."""
    lt = head.rfind("<")
    if lt > head.rfind(">"):
        head = head[:lt]
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", head))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<img src='x.jpg' alt='a > b'>",
        "&amp;",
        "&#20013;",
        "&nbsp;",
        " ",
        "\n",
        "新闻",
        "word ",
        '<a href="https://example.org/a/very/long/path">',
        "</a>",
        "&",
        "<",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=400).map("".join))
def test_excerpt_reads_only_what_it_needs_but_says_the_same(head: str) -> None:
    assert excerpt(head) == whole_head_excerpt(head)


def test_excerpt_examples() -> None:
    assert excerpt("<p>Hello &amp; <b>world</b></p>") == "Hello & world"
    long = "<p>" + "字" * 300 + "</p>"
    assert excerpt(long) == "字" * (EXCERPT_CHARS - 1) + "…"
    assert excerpt("<p>cut <img src='x") == "cut"


def test_language() -> None:
    assert language("人工智能的未来 AI") == "zh"
    assert language("The future of AI 人工") == "en"
    assert language("") == "en"
