"""The first-image rule: which image of a body is the item's picture. Pure.

Both targets use it (the Hexo profiles for a post's cover, the native site for a
card's picture), so it lives below them: in the clean stage, which makes the
bodies it reads and already judges every ``<img>`` in them. It is a rule about
bodies, not about one target's files; a target importing another target's
private module for it would tie the two together.
"""

from __future__ import annotations

import html as html_lib
import re

from feedsite._url import safe_url

__all__ = ["first_img_src"]

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
