"""The placeholder cover of a Hexo post, shared by both profiles. Pure.

The cover itself is the body's first image (:func:`feedsite._clean.first_img_src`,
shared with the native site), proxied by :func:`feedsite._url.proxied`.
"""

from __future__ import annotations


def placeholder(template: str, item_id: str) -> str:
    """The placeholder cover of an item: the same item always gets the same number."""
    return template.format(n=int(item_id, 16) % 1000 + 1, id=item_id)
