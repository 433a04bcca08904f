"""Rendering a Hexo post. Pure.

``render_post`` turns a :class:`~feedsite.types.PostSource` into the post's
bytes for the configured profile; ``render_key`` says when a stored post must
be rendered again (profile, options, feedsite's rendering version, the item).
"""

from __future__ import annotations

import hashlib

from feedsite.types import PostSource, RenderSettings

from . import _default, _legacy

__all__ = ["RENDER_VERSION", "render_key", "render_post"]

#: Bumped whenever a profile's output changes for the same inputs (the ``legacy`` profile
#: never changes: its posts keep their keys).
#: default 2: local images and generated covers (issue #12).
RENDER_VERSION = "2"
_VERSIONS = {"legacy": "1", "default": RENDER_VERSION}


def render_post(post: PostSource, settings: RenderSettings) -> bytes:
    """The post file's bytes."""
    if settings.profile == "legacy":
        return _legacy.render(post, settings).encode("utf-8")
    return _default.render(post, settings).encode("utf-8")


def render_key(
    content_hash: str, first_seen: str, settings: RenderSettings, names: tuple[str, ...]
) -> str:
    """Key of every input that changes a post's bytes (not the bytes themselves)."""
    raw = "\x1f".join(
        (
            _VERSIONS[settings.profile],
            settings.profile,
            settings.timezone or "",
            settings.image_proxy or "",
            settings.placeholder,
            settings.source_key,
            *((settings.image_prefix or "",) if settings.profile == "default" else ()),
            content_hash,
            first_seen,
            *names,
        )
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
