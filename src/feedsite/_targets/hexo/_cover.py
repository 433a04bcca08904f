"""Cover image choice, shared by both profiles. Pure."""

from __future__ import annotations

import re

_IMG_SRC = re.compile(r"""<img\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def first_img_src(html: str | None) -> str | None:
    """The ``src`` of the first ``<img>`` in ``html`` (None if there is none or it is empty)."""
    if not html:
        return None
    for m in _IMG_SRC.finditer(html):
        src = (
            m.group(1)
            if m.group(1) is not None
            else (m.group(2) if m.group(2) is not None else m.group(3))
        )
        if src:
            return src
    return None


def placeholder(template: str, item_id: str) -> str:
    """The placeholder cover of an item: the same item always gets the same number."""
    return template.format(n=int(item_id, 16) % 1000 + 1, id=item_id)


def apply_image_proxy(html: str, proxy: str) -> str:
    """Put ``proxy`` in front of every ``src="http://`` (the old script's rule)."""
    return html.replace('src="http://', f'src="{proxy}http://')
