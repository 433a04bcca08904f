"""Sanitising keeps the article (text, images) and drops what can run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import lxml.html
import pytest

from feedsite._clean import clean_html
from feedsite._parse import parse_feed
from feedsite.config import DEFAULT_IFRAME_HOSTS

HOSTS = DEFAULT_IFRAME_HOSTS


def clean(html: str, base: str | None = "https://example.org/a/") -> str:
    return clean_html(html, base_url=base, iframe_hosts=HOSTS)


@pytest.mark.parametrize(
    ("dirty", "must_not_contain", "must_contain"),
    [
        ("<p>hi<script>alert(1)</script></p>", ["script", "alert"], ["<p>hi</p>"]),
        (
            '<img src="https://x/a.png" onerror="alert(1)">',
            ["onerror", "alert"],
            ["https://x/a.png"],
        ),
        ('<a href="javascript:alert(1)">x</a>', ["javascript"], [">x</a>"]),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', ["alert"], [">x</a>"]),
        ('<p style="x:expression(alert(1))">t</p>', ["expression", "style"], ["t"]),
        (
            "<style>body{background:url(javascript:x)}</style><p>t</p>",
            ["javascript", "body{"],
            ["<p>t</p>"],
        ),
        ('<iframe src="https://evil.example/x"></iframe>', ["evil"], []),
        ('<iframe srcdoc="<script>alert(1)</script>"></iframe>', ["srcdoc", "alert"], []),
        ('<meta http-equiv="refresh" content="0;url=https://evil">', ["refresh", "evil"], []),
        ("<svg><script>alert(1)</script></svg>", ["alert", "svg"], []),
        ('<math><a href="javascript:alert(1)">m</a></math>', ["javascript"], []),
        ('<img src="data:text/html;base64,PHNjcmlwdD4=">', ["data:"], []),
        ('<form action="https://evil"><input name="p"></form>', ["form", "input"], []),
    ],
)
def test_dangerous_markup_is_removed(
    dirty: str, must_not_contain: list[str], must_contain: list[str]
) -> None:
    out = clean(dirty).lower()
    for bad in must_not_contain:
        assert bad.lower() not in out, out
    for good in must_contain:
        assert good.lower() in out, out


def test_allowed_video_iframes_are_kept() -> None:
    out = clean(
        '<iframe src="//player.bilibili.com/player.html?bvid=BV1" allowfullscreen></iframe>'
    )
    assert 'src="https://player.bilibili.com/player.html?bvid=BV1"' in out


def test_lazy_images_relative_urls_and_referrer_policy() -> None:
    out = clean(
        '<img src="data:image/gif;base64,R0lGOD" data-src="/i/1.jpg"><a href="../b.html">b</a>'
    )
    assert '<img src="https://example.org/i/1.jpg" referrerpolicy="no-referrer">' in out
    assert 'href="https://example.org/b.html"' in out


def test_text_and_structure_survive() -> None:
    html = "<h2>标题</h2><p>正文 <b>加粗</b> &amp; <code>x &lt; y</code></p><pre>  a\n\n  b</pre>"
    out = clean(html)
    assert out == html


def _text(html: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # an unparsable fragment has no text to keep
        return ""
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    return "".join(root.itertext())


def test_realworld_text_survives(shared: Path) -> None:
    """On average at least 95 % of each entry's text survives sanitising."""
    ratios = []
    for path in sorted((shared / "corpora/realworld/feeds").iterdir()):
        feed = parse_feed(path.read_bytes(), url="https://example.org/feed")
        for item in feed.items:
            body = item.content_html or item.summary_html
            if not body:
                continue
            before = Counter(ch for ch in _text(body) if not ch.isspace())
            if not before:
                continue
            after = Counter(
                ch for ch in _text(clean(body, item.base_url or item.link)) if not ch.isspace()
            )
            kept = sum(min(n, after[ch]) for ch, n in before.items())
            ratios.append(kept / sum(before.values()))
    assert len(ratios) > 6000
    average = sum(ratios) / len(ratios)
    worst = sorted(ratios)[: len(ratios) // 100]
    print(f"text kept: average {average:.4f}, worst 1% below {worst[-1]:.3f}")
    assert average >= 0.95
