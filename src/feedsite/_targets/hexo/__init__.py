"""Hexo target: one Markdown post per kept item.

``plan_posts`` (pure) turns the decider's item changes into the posts to write,
delete or let go; ``render_post`` (pure) turns a :class:`~feedsite.types.PostSource`
into the post's bytes for the configured profile; ``render_key`` says when a stored
post must be rendered again. The run writes the plan through the one ledger.
"""

from __future__ import annotations

from ._plan import PostJob, PostPlan, plan_posts, post_folder
from ._render import RENDER_VERSION, render_key, render_post

#: The posts folder under the Hexo root.
POSTS_DIR = "source/_posts"
#: The target's name in the ledger.
TARGET = "hexo"

__all__ = [
    "POSTS_DIR",
    "RENDER_VERSION",
    "TARGET",
    "PostJob",
    "PostPlan",
    "plan_posts",
    "post_folder",
    "render_key",
    "render_post",
]
