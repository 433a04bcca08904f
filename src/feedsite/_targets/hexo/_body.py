"""Make sanitised HTML pass through Hexo's post pipeline unchanged. Pure.

Hexo runs a post body through three passes that can alter HTML:

1. the code-fence filter (``backtick_code_block``) turns any line starting
   with ```` ``` ```` or ``~~~`` into a highlighted code block;
2. Nunjucks renders ``{{ }}``, ``{% %}`` and ``{# #}`` (a stray one aborts
   the whole ``hexo generate``);
3. Markdown: the body is one HTML block only until the first blank line;
   after it, indented lines become code and ``_x_`` becomes emphasis.

Each is neutralised with a character reference that the browser decodes to
the same text: backticks, runs of tildes and braces become ``&#96;``,
``&#126;``, ``&#123;``/``&#125;``; blank lines disappear (between tags they
are insignificant whitespace; inside ``<pre>`` every newline becomes
``&#10;`` so the block stays one line and keeps its text exactly).

The input must be canonical HTML as the clean stage writes it: ``<`` and
``&`` are escaped in text, attribute values are double-quoted.
"""

from __future__ import annotations

import re

from feedsite._url import safe_url
from feedsite.types import PostSource

_PRE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre>)", re.S | re.I)
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*(?=\n)")
_TILDES = re.compile(r"~{2,}")
_REFS = (("{", "&#123;"), ("}", "&#125;"), ("`", "&#96;"))


def hexo_safe(html: str) -> str:
    """Return ``html`` with everything Hexo would reinterpret neutralised."""
    # str.replace is a memchr-speed scan; str.translate with a dict would be ~50x slower.
    for char, ref in _REFS:
        if char in html:
            html = html.replace(char, ref)
    if "~~" in html:
        html = _TILDES.sub(lambda m: "&#126;" * len(m.group(0)), html)
    if "<pre" in html or "<PRE" in html:
        html = _PRE.sub(lambda m: m.group(1) + m.group(2).replace("\n", "&#10;") + m.group(3), html)
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    # Strip all edge whitespace: a whitespace-only first line is a blank line to Markdown.
    return _BLANK_LINES.sub("", html).strip(" \t\n\r\f\v")


def sources_footer(post: PostSource) -> str:
    """The list of a story's other reports after a post's body (``site.dedupe: link``):
    site › feed and the title, linking to the report's original URL when it is safe."""
    items = []
    for other in post.others:
        name = _escape(f"{other.site} › {other.feed}")
        title = _escape(other.title)
        link = safe_url(other.link)
        text = f'<a href="{_attr(link)}" rel="noopener">{title}</a>' if link else title
        items.append(f"<li>{name}: {text}</li>")
    return (
        '<aside class="feedsite-sources"><p>其他来源 · Also reported by</p><ul>'
        + "".join(items)
        + "</ul></aside>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")
