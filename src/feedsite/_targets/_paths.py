"""Path building for output trees. Pure; contains no business logic.

Names come from the config (category/site/feed) and ids from feeds: both are
untrusted. Every component is reduced to something no filesystem misreads:
no separators, no ``..``, no control characters, no Windows-reserved names or
characters, at most ``MAX_COMPONENT_BYTES`` bytes, and no leading ``_`` or
``.`` (Hexo silently skips every path under ``source/_posts`` with a part that
starts with either). A component that had to be changed gets a short hash of
the original appended, so two different names can never land in the same folder.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

MAX_COMPONENT_BYTES = 120

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.I)
#: The ending this function gives a name it changed: a name that already ends so is hashed
#: too, or a feed could name a tag (or a config a folder) what another name becomes.
_HASHED = re.compile(r"~[0-9a-f]{8}$")


@lru_cache(maxsize=4096)
def safe_component(name: str) -> str:
    """Return a filesystem-safe folder/file name for ``name`` (stable, injective)."""
    safe = unicodedata.normalize("NFC", name)
    safe = _UNSAFE.sub("_", safe).strip(" .").lstrip("_.")
    if _RESERVED.match(safe):
        safe = "x-" + safe
    if not safe:
        safe = "x"
    if safe != name or _HASHED.search(safe) or len(safe.encode()) > MAX_COMPONENT_BYTES:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        safe = _truncate(safe, MAX_COMPONENT_BYTES - 9) + "~" + digest
    return safe


def post_relpath(category: str, site: str, feed: str, item_id: str) -> str:
    """The post's path relative to ``source/_posts``, always with ``/`` separators."""
    if not re.fullmatch(r"[0-9a-f]{16}", item_id):
        raise ValueError(f"item id must be 16 hex digits, got {item_id!r}")
    return "/".join(
        (safe_component(category), safe_component(site), safe_component(feed), item_id + ".md")
    )


def _truncate(text: str, max_bytes: int) -> str:
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")
