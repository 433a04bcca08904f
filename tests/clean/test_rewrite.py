"""Rewriting bodies by rules (issue #13): remove, replace in text only, drop_images, no-op."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from textwrap import dedent, indent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsite._clean import _rewrite
from feedsite._clean._rewrite import Rewritten, plain_text, rewrite, text_probe
from feedsite._config._rules import EMPTY, RuleSet, merge, read_rules
from feedsite._config._tree import MapNode, Reader
from feedsite._plan._rules import ItemFields, judge

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def ruleset(text: str) -> RuleSet:
    r = Reader("feedsite.yaml", {}, max_values=100_000)
    tree = r.parse("rules:\n  rewrite:\n" + indent(dedent(text), "    "))
    assert isinstance(tree, MapNode)
    return merge([read_rules(r, tree.entries[0].value, "rules")])


def judging(text: str) -> RuleSet:
    """A set of ``block``/``keep`` rules from the text under ``rules:``."""
    r = Reader("feedsite.yaml", {}, max_values=100_000)
    tree = r.parse("rules:\n" + indent(dedent(text), "  "))
    assert isinstance(tree, MapNode)
    return merge([read_rules(r, tree.entries[0].value, "rules")])


def run(body: str, text: str) -> Rewritten:
    return rewrite(body, ruleset(text))


# -- remove ----------------------------------------------------------------------------------------

REMOVE_CASES = [
    # (selectors, body, expected)
    (
        "[div.share-bar]",
        '<p>intro</p><div class="share-bar x">share <b>me</b></div>tail',
        "<p>intro</p>tail",
    ),
    (
        "[.qrcode]",
        'a<p class="qrcode">qr</p>b<span class="qrcode-no">c</span>',
        'ab<span class="qrcode-no">c</span>',
    ),
    ("['#related']", '<p>x</p><ul id="related"><li>1</li></ul>', "<p>x</p>"),
    ("['p:contains(\"扫码\")']", "<p>正文</p><p>请<b>扫码</b>关注</p>", "<p>正文</p>"),
    (
        "['div > p.ad']",
        '<div><p class="ad">1</p></div><p class="ad">2</p>',
        '<div></div><p class="ad">2</p>',
    ),
    (
        "['a[href*=\"utm_source=ads\"]']",
        '<a href="/x?utm_source=ads">ad</a> <a href="/y">ok</a>',
        ' <a href="/y">ok</a>',
    ),
    ("[iframe]", 'v<iframe src="https://v/1"></iframe>w', "vw"),
    # both a parent and its child match: removed once, no error
    ("[.box]", '<div class="box">1<div class="box">2</div>3</div>after', "after"),
    # upper-case markup (lxml reads tag and attribute names in lower case)
    ("[.qrcode]", '<P CLASS="qrcode">qr</P>rest', "rest"),
    # text at the very start, then the removed element's tail joins it
    ("[b]", "start <b>x</b> end", "start  end"),
]


@pytest.mark.parametrize(("selectors", "body", "expected"), REMOVE_CASES)
def test_remove(selectors: str, body: str, expected: str) -> None:
    out = run(body, f"remove: {selectors}\n")
    assert out.html == expected
    assert out.changed
    assert out.applied == (f"rewrite.remove {_quote(ruleset(f'remove: {selectors}').remove[0])}",)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def test_remove_lists_only_the_selectors_that_removed_something() -> None:
    out = run('<p class="a">1</p><p class="c">2</p>', "remove: [.a, .b, .c]\n")
    assert out.html == ""
    assert out.applied == ('rewrite.remove ".a"', 'rewrite.remove ".c"')


# -- replace ---------------------------------------------------------------------------------------


REPLACE_CASES = [
    # (pattern, with, body, expected)
    (
        "'/本文来自.*?转载/'",
        "''",
        "<p>正文。本文来自某站，转载请注明。</p>",
        "<p>正文。请注明。</p>",
    ),
    ("原文链接", "'→'", "<p>原文链接：x</p>", "<p>→：x</p>"),
    # keywords ignore case, expressions keep it unless /i
    ("read more", "''", "<p>x READ MORE</p>", "<p>x </p>"),
    ("'/read more/'", "''", "<p>x READ MORE read more</p>", "<p>x READ MORE </p>"),
    ("'/read more/i'", "''", "<p>x READ MORE read more</p>", "<p>x  </p>"),
    # text only: never a tag name, an attribute or a URL
    (
        "原文链接",
        "''",
        '<a title="原文链接" href="https://e.org/原文链接">原文链接</a>尾',
        '<a title="原文链接" href="https://e.org/%E5%8E%9F%E6%96%87%E9%93%BE%E6%8E%A5"></a>尾',
    ),
    ("div", "span", '<div class="div">div</div>', '<div class="div">span</div>'),
    # every text node, tails too; the replacement is literal text, escaped on output
    (
        "ad",
        "'<b>\\1</b>'",
        "<p>ad <i>x</i> ad</p>",
        "<p>&lt;b&gt;\\1&lt;/b&gt; <i>x</i> &lt;b&gt;\\1&lt;/b&gt;</p>",
    ),
    # anchors hold per text node
    ("'/^广告/'", "''", "<p>广告一</p><p>二广告</p>", "<p>一</p><p>二广告</p>"),
    ("'/尾$/'", "'.'", "<p>头尾</p>尾巴", "<p>头.</p>尾巴"),
    # entities are text
    ("'AT&T'", "ATT", "<p>AT&amp;T rocks</p>", "<p>ATT rocks</p>"),
]


@pytest.mark.parametrize(("pattern", "replacement", "body", "expected"), REPLACE_CASES)
def test_replace_in_text_only(pattern: str, replacement: str, body: str, expected: str) -> None:
    out = run(body, f"replace:\n  - {{pattern: {pattern}, with: {replacement}}}\n")
    assert out.html == expected
    assert out.changed
    assert len(out.applied) == 1 and out.applied[0].startswith("rewrite.replace ")
    assert "(rules.rewrite.replace[0].pattern, line 4)" in out.applied[0]


def test_replace_leaves_scripts_styles_and_comments_to_the_cleaner() -> None:
    body = "<script>var ad = 1;</script><style>.ad{}</style><!-- ad --><p>ad</p>"
    out = run(body, "replace: [{pattern: ad, with: X}]\n")
    assert out.html == "<script>var ad = 1;</script><style>.ad{}</style><!-- ad --><p>X</p>"


def test_replace_steps_run_in_order() -> None:
    out = run("<p>abc</p>", "replace: [{pattern: a, with: b}, {pattern: bb, with: X}]\n")
    assert out.html == "<p>Xc</p>"
    assert len(out.applied) == 2


def test_a_phrase_split_by_a_tag_is_not_one_text() -> None:
    body = "<p>The post <a href='/x'>X</a> appeared first on <a href='/'>Blog</a>.</p>"
    out = run(body, "replace: [{pattern: '/The post .* appeared first on .*/', with: ''}]\n")
    assert out == Rewritten(body, False, ())


# -- drop_images -----------------------------------------------------------------------------------

IMAGE_CASES = [
    # (patterns, body, expected)
    ("['/qrcode|erweima/i']", '<p>a<img src="https://x/QRCode.png">b</p>', "<p>ab</p>"),
    (
        "['*.gif']",
        '<img src="https://x/a.GIF?w=1"><img src="https://x/a.gift">',
        '<img src="https://x/a.gift">',
    ),
    ("['*.gif']", '<img src="https://x/a.gif#f">', ""),
    (
        "['https://ads.example.com/*']",
        '<img src="https://ads.example.com/1.png"><img src="https://x/ads.example.com/2.png">',
        '<img src="https://x/ads.example.com/2.png">',
    ),
    (
        "[pixel]",
        '<img src="https://x/PIXEL.png"><img src="https://x/p.png">',
        '<img src="https://x/p.png">',
    ),
    # the lazy-loading URL counts as much as src
    ("[erweima]", '<img src="data:image/gif;base64,R0lG" data-src="https://x/erweima.jpg">t', "t"),
    ("[erweima]", "<img data-original='https://x/erweima.jpg'>", ""),
    # relative URLs are matched as written
    ("['*.gif']", '<img src="/spacer.gif">x', "x"),
    # the text after an image stays
    ("[q]", "<p>1<img src='q.png'>2<img src='q.png'>3</p>", "<p>123</p>"),
]


@pytest.mark.parametrize(("patterns", "body", "expected"), IMAGE_CASES)
def test_drop_images(patterns: str, body: str, expected: str) -> None:
    out = run(body, f"drop_images: {patterns}\n")
    assert out.html == expected
    assert out.changed
    assert out.applied[0].startswith("rewrite.drop_images ")


def test_drop_images_keeps_others_and_labels_each_pattern_that_dropped() -> None:
    body = '<img src="https://x/a.gif"><img src="https://x/qr.png"><img src="https://x/ok.jpg">'
    out = run(body, "drop_images: ['*.gif', nothing, qr]\n")
    assert out.html == '<img src="https://x/ok.jpg">'
    assert out.applied == (
        'rewrite.drop_images "*.gif" (rules.rewrite.drop_images[0], line 3)',
        'rewrite.drop_images "qr" (rules.rewrite.drop_images[2], line 3)',
    )


# -- the order of steps ----------------------------------------------------------------------------


def test_steps_run_remove_then_images_then_replace() -> None:
    rules = ruleset("""\
        remove: [.share]
        drop_images: ['*.gif']
        replace: [{pattern: 广告, with: ''}]
    """)
    body = '<p>广告正文<img src="a.gif"></p><div class="share">广告</div>'
    out = rewrite(body, rules)
    assert out.html == "<p>正文</p>"
    assert [label.split()[0] for label in out.applied] == [
        "rewrite.remove",
        "rewrite.drop_images",
        "rewrite.replace",
    ]


# -- no-op: the very same string -------------------------------------------------------------------

ALL_STEPS = """\
remove: [.share-bar, '#related', 'p:contains("扫码")']
drop_images: ['/qrcode/i', '*.gif']
replace: [{pattern: '/本文来自.*?转载/', with: ''}, {pattern: 原文链接, with: ''}]
"""

UNTOUCHED = [
    "",
    "plain text, no tags",
    "<p>正文</p>",
    '<p class="share">x</p><img src="https://x/a.png">',
    '<p class="x">share-bar in text, related too</p>',  # words outside any tag
    '<img src="https://x/a.gif.png">',
    "<p>本文来自<b>某站</b>转载</p>",  # split by a tag
    '<a href="https://e.org/原文链接">x</a>',  # only in an attribute
    '<!-- class="share-bar" --><p>x</p>',  # a comment is not an element
    "<p>unclosed <b>bold <i>x</p><div>",
    "</div>stray end tags</p>",
    "a < b && c > d",
    "<P>UPPER &amp; &#8217; &nbsp;</P>",
]


@pytest.mark.parametrize("body", UNTOUCHED)
def test_no_change_returns_the_same_string(body: str) -> None:
    out = rewrite(body, ruleset(ALL_STEPS))
    assert out == Rewritten(body, False, ())
    assert out.html is body


def test_no_rewrite_steps_is_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(_rewrite, "_parse", fail)
    body = '<div class="share-bar"><img src="a.gif"></div>'
    assert rewrite(body, EMPTY).html is body
    r = Reader("feedsite.yaml", {}, max_values=100)
    tree = r.parse("rules: {block: {title: [x]}, max_age: 1d}\n")
    assert isinstance(tree, MapNode)
    blocks = merge([read_rules(r, tree.entries[0].value, "rules")])  # no rewrite steps
    assert rewrite(body, blocks).html is body
    # steps that cannot apply are ruled out without parsing
    assert rewrite("<p>x</p>", ruleset(ALL_STEPS)).html == "<p>x</p>"


# -- odd HTML --------------------------------------------------------------------------------------

ODD = [
    # (body, selectors/steps, expected)
    ("<p>unclosed <b class=ad>bold <i>x</p>after", "remove: [.ad]\n", "<p>unclosed </p>after"),
    (
        "<div><div><div class=ad><p>deep</p></div></div></div>",
        "remove: [.ad]\n",
        "<div><div></div></div>",
    ),
    ("</div><p class=ad>x</p>", "remove: [.ad]\n", ""),
    (
        "<table><tr><td class=ad>x</td><td>y</td></tr></table>",
        "remove: [.ad]\n",
        "<table><tr><td>y</td></tr></table>",
    ),
    ("<p>a\x00b\x0c<span class=ad>c</span></p>", "remove: [.ad]\n", "<p>ab</p>"),
    ("<html><body><p class=ad>x</p><p>y</p></body></html>", "remove: [.ad]\n", "<p>y</p>"),
    ("<p>a &lt; b 广告</p>", "replace: [{pattern: 广告, with: ''}]\n", "<p>a &lt; b </p>"),
    ('<img src="a.gif" alt=">"><p>t</p>', "drop_images: ['*.gif']\n", "<p>t</p>"),
    ("<p>x\r\n广告</p>", "replace: [{pattern: '/x\\s+广告/', with: y}]\n", "<p>y</p>"),
]


@pytest.mark.parametrize(("body", "steps", "expected"), ODD)
def test_malformed_and_nested_html(body: str, steps: str, expected: str) -> None:
    out = run(body, steps)
    assert out.html == expected
    assert out.changed


def test_a_catastrophic_replace_pattern_returns_fast() -> None:
    rules = ruleset(
        "replace: [{pattern: '/(a+)+$/', with: ''}, {pattern: '/(x+x+)+y/', with: ''}]\n"
    )
    body = "<p>" + "a" * 50 + "b</p>" + "<p>" + "x" * 20_000 + "</p>"
    rewrite("<p>warm</p>", rules)
    start = time.perf_counter()
    out = rewrite(body, rules)
    assert time.perf_counter() - start < 0.05
    assert not out.changed


# -- the look before parsing never hides a change --------------------------------------------------


def _forced(body: str, rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> Rewritten:
    """``rewrite`` without its shortcuts: every body parsed, every text node tried."""
    with monkeypatch.context() as m:
        m.setattr(_rewrite._Steps, "may_apply", lambda self, body: True)
        m.setattr(_rewrite, "_candidates", lambda step, texts: range(len(texts)))
        _rewrite._CACHE.clear()
        try:
            return rewrite(body, rules)
        finally:
            _rewrite._CACHE.clear()


PIECES = st.sampled_from(
    [
        "<p>", "</p>", "<div class='share-bar'>", "<div class=share-bar>", "</div>", "<b>",
        "</b>", "<p id=related>", "<img src='a.gif'>", "<img data-src=\"QRCODE.png\">",
        "<img src=x.png>", "本文来自", "某站", "转载", "原文链接", "扫码", "&amp;", "&lt;",
        "&#21407;文链接", "&nbsp;", " ", "\n", "\r\n", "text", "<!-- c -->",
        "<script>原文链接</script>",
        "<a href='原文链接'>", "</a>", "<", ">", "&", "<span class='x share-bar'>", "</span>",
        "原文", "链接", "\x00", "<textarea>", "</p> ", "<?pi?>", "<P CLASS=share-bar>",
        # references that decode to characters no probe reads, and to ones some do
        "&#8221;", "&rsquo;", "&#34;", "&#x2019;", "&#25512;", "广", "&#x544a;", "推",
        "sponsored", "&#83;ponsored", "by", "<img src='ERWEIMA.jpg'>", "<img src='e&#114;weima'>",
    ]
)  # fmt: skip

#: Expressions with a top-level ``|`` (the look needs a letter of either branch).
ALT_STEPS = """drop_images: ['/erweima|qrcode/i']
replace: [{pattern: '/推广|sponsored\\s*by/i', with: ''}, {pattern: '/(广告)|原文/', with: x}]
"""


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_skipping_the_parse_never_changes_the_result(body: str) -> None:
    rules = ruleset(ALL_STEPS)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert rewrite(body, rules) == _forced(body, rules, monkeypatch)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_skipping_the_parse_never_changes_the_result_with_alternations(body: str) -> None:
    rules = ruleset(ALT_STEPS)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert rewrite(body, rules) == _forced(body, rules, monkeypatch)


@pytest.mark.parametrize(
    "body",
    [
        "<p>本文来自某站转载</p>",
        "<p>&#21407;文链接</p>",  # an entity spells the keyword
        '<p class="share&#45;bar">x</p>',  # an entity spells the class name
        "<p>x</p><p id='related'>y</p>",
        "<img src='https://x/a.gif'>",
        "<img src='https://x/QrCode.png'>",
        "<p>请<b>扫码</b>关注</p>",
        "<p>原文\x00链接</p>",  # lxml drops the NUL: the keyword is whole
        "原文</p>链接",  # a stray end tag: lxml joins the texts
        "<textarea><a href='原文链接'></textarea>",  # a tag in a textarea is text
    ],
)
def test_bodies_that_change_are_parsed(body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = ruleset(ALL_STEPS)
    out = rewrite(body, rules)
    assert out.changed
    assert out == _forced(body, rules, monkeypatch)


# -- plain_text ------------------------------------------------------------------------------------

TEXTS = [
    ("", ""),
    ("plain", "plain"),
    ("<p>扫<b>码</b>关注</p><p>第二段</p>", "扫码关注\n第二段\n"),
    ("a<br>b<hr/>c", "a\nb\nc"),
    ("<li>1</li><li>2</li>", "1\n2\n"),
    ("<p>AT&amp;T &lt;tag&gt; a&nbsp;b</p>", "AT&T <tag> a\xa0b\n"),
    ("<p>&#8217;&eacute;</p>", "’é\n"),
    ('<a href="x" title="广告">链接</a>', "链接"),
    ("<!-- 广告 -->text", "text"),
]


@pytest.mark.parametrize(("body", "text"), TEXTS)
def test_plain_text(body: str, text: str) -> None:
    assert plain_text(body) == text


# -- the look before making the text (content rules) -----------------------------------------------

CONTENT = """\
block:
  content: [扫码关注, "/use (the )?promo code/i", "/限时(优惠|折扣)/", "/推广|sponsored/i"]
"""


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES | st.sampled_from(["扫码关注", "限时", "优惠", "promo code", "use "]),
                max_size=12).map("".join))  # fmt: skip
def test_the_text_probe_never_rules_out_a_match(body: str) -> None:
    rules = judging(CONTENT)
    probe = text_probe(rules.content_patterns)
    fields = ItemFields("", plain_text(body), "", "", (), NOW)
    if judge(rules, fields, NOW) is not None:
        assert probe.may_match(body)


def test_the_text_probe_rules_out_and_lets_through() -> None:
    probe = text_probe(judging(CONTENT).content_patterns)
    assert not probe.may_match("<p>nothing to see&#8221; here</p>")
    assert probe.may_match("<p>扫<b>码</b>关注</p>")
    assert probe.may_match("<p>&#25195;码关注</p>")  # a reference spells a letter
    assert probe.may_match("<p>限时优惠</p>")
    assert probe.may_match("<p>SPONSORED</p>")
    # a pattern that needs no letters: every body is looked at
    assert text_probe(judging("block: {content: ['/^$/']}\n").content_patterns).may_match("x")
