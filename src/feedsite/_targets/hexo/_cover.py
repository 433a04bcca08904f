"""Cover image choice, shared by both profiles. Pure."""

from __future__ import annotations

import html as html_lib
import re

from feedsite._url import safe_url

_IMG_SRC = re.compile(r"""<img\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def first_img_src(html: str | None, base: str | None = None) -> str | None:
    """The URL of the first ``<img>`` in ``html`` whose ``src`` is a safe URL.

    The attribute value is HTML-unescaped first (``?w=1&amp;h=2`` is the URL
    ``?w=1&h=2``: issue #10 row 17), then passed through
    :func:`feedsite._url.safe_url`: a ``javascript:``/``data:`` source, or one that
    would break out of a quoted attribute (row 2), is skipped.

    Args:
        html: a body, sanitised or not.
        base: resolves relative sources (must be public); None: they are skipped.

    Returns:
        An absolute http(s) URL, plain text (not attribute-escaped), or None.
    """
    if not html:
        return None
    for m in _IMG_SRC.finditer(html):
        src = (
            m.group(1)
            if m.group(1) is not None
            else (m.group(2) if m.group(2) is not None else m.group(3))
        )
        url = safe_url(html_lib.unescape(src), base) if src else None
        if url is not None:
            return url
    return None


def placeholder(template: str, item_id: str) -> str:
    """The placeholder cover of an item: the same item always gets the same number."""
    return template.format(n=int(item_id, 16) % 1000 + 1, id=item_id)


def apply_image_proxy(html: str, proxy: str) -> str:
    """Put ``proxy`` in front of every ``src="http://`` (the old script's rule).

    The proxy is the site owner's, but it lands inside an attribute: it is
    attribute-escaped so that no value of it can end the attribute.
    """
    return html.replace('src="http://', f'src="{html_lib.escape(proxy)}http://')
