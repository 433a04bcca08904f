"""Tag names as the targets show them (issue #17). Pure; contains no business logic.

A feed's tags are untrusted text of any length: a name is the tag's label, else its
term, without control or format characters (bidi overrides included), whitespace
collapsed, cut to :data:`MAX_TAG_CHARS`; a post shows at most :data:`MAX_TAGS`, in the
feed's order, each :func:`tag_key` once. Each target escapes the names for its own
output (the native site through Jinja2's autoescape); ``drop`` removes characters a
target cannot escape (Hexo themes print tag names unescaped).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from feedsite.types import Tag

#: Tags a post shows at most (RSSHub routes give a dozen keywords).
MAX_TAGS = 10
#: Characters of one tag name at most.
MAX_TAG_CHARS = 40
#: Characters of a label or term read at most (a 10 MB term is not scanned whole).
_READ = 4 * MAX_TAG_CHARS + 64


def tag_name(tag: Tag, *, max_chars: int = MAX_TAG_CHARS, drop: str = "") -> str:
    """``tag``'s display name ("" when nothing printable is left)."""
    text = tag.label or tag.term
    if not isinstance(text, str):  # a stored row may hold anything
        return ""
    text = text[:_READ]
    if drop:
        text = text.translate(dict.fromkeys(map(ord, drop), None))
    text = " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())
    return text[:max_chars].strip()


def tag_key(name: str) -> str:
    """The identity of a tag name: NFKC (full-width and half-width forms, ligatures fold
    to one) then case-folded, so ``AI``, ``ai`` and ``ＡＩ`` are one tag."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def tag_names(
    tags: Iterable[Tag],
    *,
    max_tags: int = MAX_TAGS,
    max_chars: int = MAX_TAG_CHARS,
    drop: str = "",
) -> tuple[str, ...]:
    """The names a post shows: :func:`tag_name` of each tag, empty ones and repeats (by
    :func:`tag_key`) left out, at most ``max_tags``, in the feed's order."""
    names: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        name = tag_name(tag, max_chars=max_chars, drop=drop)
        key = tag_key(name)
        if name and key not in seen:
            seen.add(key)
            names.append(name)
            if len(names) == max_tags:
                break
    return tuple(names)
