"""``static/search.js``'s ``highlight``: marks matches in the text, never inside the escaping."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from feedsite._targets.site import _render

pytestmark = pytest.mark.hexo  # runs static/search.js under node

_RUNNER = """
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
%s
process.stdout.write(JSON.stringify(cases.map(([text, toks]) => highlight(text, toks))));
"""


def _js_highlight(source: str | None = None) -> str:
    if source is None:
        source = next(p for p in _render.STATIC_DIR.iterdir() if p.name == "search.js").read_text(
            encoding="utf-8"
        )
    return source[source.index("// highlight: begin") : source.index("// highlight: end")]


def highlight(cases: list[tuple[str, list[str]]], code: str | None = None) -> list[str]:
    node = shutil.which("node")
    assert node, "node is needed to run the search page's script (CI installs it)"
    done = subprocess.run(
        [node, "-e", _RUNNER % (code or _js_highlight())],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: list[str] = json.loads(done.stdout)
    return result


def shown(markup: str) -> str:
    """The text a browser shows for ``markup`` (``<mark>`` is the only tag highlight adds)."""
    assert re.sub(r"</?mark>", "", markup).count("<") == 0, markup
    return html.unescape(re.sub(r"</?mark>", "", markup))


@pytest.mark.parametrize("query", ["lt", "amp", "quot", "gt", "39"])
def test_searching_entity_names_marks_nothing_inside_entities(query: str) -> None:
    """issue #10 row 16: searching ``lt``/``amp``/``quot`` showed ``&lt;b>`` (the mark split
    the entity ``&lt;``)."""
    text = "a <b> & \"said\" 'x' title"
    (out,) = highlight([(text, [query])])
    assert shown(out) == text
    assert "<mark>" not in out  # the text holds none of these words


def test_matches_are_marked_and_escaped() -> None:
    """A match that holds markup characters is escaped inside its mark."""
    cases = [
        ("Rust <script>alert(1)</script> news", ["script", "rust"]),
        ("人工智能 AI & ML", ["人工", "智能", "ai"]),
        ("no match here", ["zzz"]),
        ("one letter q", ["q"]),
    ]
    out = highlight(cases)
    assert out[0] == (
        "<mark>Rust</mark> &lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; news"
    )
    assert out[1] == "<mark>人工</mark><mark>智能</mark> <mark>AI</mark> &amp; ML"
    assert out[2] == "no match here"
    assert out[3] == "one letter q"  # one-character tokens are not marked
    for (text, _toks), markup in zip(cases, out, strict=True):
        assert shown(markup) == text


def test_a_cjk_query_is_marked_whole() -> None:
    """issue #15 item 6: ``图书馆`` gives the overlapping bigrams 图书 and 书馆; the first
    match used to consume 书, so only 图书 was marked. Overlapping matches are one mark."""
    cases = [
        ("市图书馆开放", ["图书", "书馆"]),
        ("人工智能与图书馆", ["人工", "工智", "智能", "图书", "书馆"]),
        ("图书 与 书馆", ["图书", "书馆"]),  # the bigrams apart: each marked where it is
        ("图书馆图书馆", ["图书", "书馆"]),
        ("Library 图书馆 LIBRARY", ["library", "图书", "书馆"]),
    ]
    out = highlight(cases)
    assert re.findall(r"<mark>(.*?)</mark>", out[0]) == ["图书馆"]
    assert out[0] == "市<mark>图书馆</mark>开放"
    assert out[1] == "<mark>人工智能</mark>与<mark>图书馆</mark>"
    assert out[2] == "<mark>图书</mark> 与 <mark>书馆</mark>"
    assert out[3] == "<mark>图书馆</mark><mark>图书馆</mark>"  # adjacent, not overlapping
    assert out[4] == "<mark>Library</mark> <mark>图书馆</mark> <mark>LIBRARY</mark>"
    for (text, _toks), markup in zip(cases, out, strict=True):
        assert shown(markup) == text


def test_the_page_tokens_of_a_cjk_query_mark_it_whole() -> None:
    """The tokens the page makes of ``图书馆`` (its ``tokens``) mark the word whole."""
    source = next(p for p in _render.STATIC_DIR.iterdir() if p.name == "search.js").read_text(
        encoding="utf-8"
    )
    tokens = source[source.index("// tokens: begin") : source.index("// tokens: end")]
    runner = (
        tokens + _js_highlight(source) + "\nconst highlight2 = (t, q) => highlight(t, tokens(q));\n"
    )
    node = shutil.which("node")
    assert node, "node is needed to run the search page's script (CI installs it)"
    done = subprocess.run(
        [node, "-e", runner + 'process.stdout.write(highlight2("在图书馆里读书", "图书馆"));'],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == "在<mark>图书馆</mark>里读书"
