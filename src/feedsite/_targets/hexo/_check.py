"""Does a post load? The front-matter check run before Hexo and by the tests.

Scope: reading post files back. Contains no rendering and decides nothing about
what to write.

Hexo skips a post whose front matter it cannot read, logs an error somewhere in a
long build log and still exits 0; a post without a date silently gets the file's
time. :func:`check_post` catches those cases in Python, in milliseconds, and
names the file: the front matter is found as hexo-front-matter finds it (a
``---`` block, or everything above the first ``---`` line), YAML loads it into a
mapping, and it has a non-empty ``title``, ``categories`` as a list of names and a
``date`` Hexo can read (a YAML timestamp, ISO 8601-like text or an RFC 2822 date).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import yaml

from feedsite.errors import PostCheckError

__all__ = ["REQUIRED_KEYS", "PostCheckError", "check_post", "check_posts", "front_matter"]

#: Keys every post feedsite writes has, in both profiles.
REQUIRED_KEYS = ("title", "categories", "date")

# hexo-front-matter's split(), ported: "---" (or ";;;" for JSON) opens the file and closes
# the block; or, with no opening line, everything up to the first "---" line is front matter.
_OLD_STYLE = re.compile(r"(-{3,}|;{3,})\n([\s\S]+?)\n\1\n?([\s\S]*)")
_PREFIX_SEP = re.compile(r"(-{3,}|;{3,})")
_NEW_STYLE = re.compile(r"([\s\S]+?)\n(-{3,}|;{3,})\n?([\s\S]*)")
_TABS = re.compile(r"\n(\t+)")
# Dates as feedsite writes them (``2021-04-25 16:06:43``), optionally with T, fraction, offset.
_DATE = re.compile(
    r"\A\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:[ ]?(?:Z|[+-]\d{2}(?::?\d{2})?))?\Z"
)
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def front_matter(text: str) -> dict[str, object]:
    """The front matter of a post's text, split as Hexo splits it and loaded as YAML.

    Raises:
        ValueError: no front-matter block, YAML that does not load, or not a mapping.
    """
    separator, raw = _split(text)
    if not raw:
        raise ValueError("no front matter: the file must start with a --- block closed by ---")
    try:
        if separator.startswith(";"):
            data = json.loads("{" + raw + "}")
        else:
            # Hexo turns leading tabs into spaces before js-yaml reads the block.
            raw = _TABS.sub(lambda m: "\n" + "  " * len(m.group(1)), raw)
            data = yaml.load(raw, Loader=_Loader)  # a SafeLoader (C if available)
    except (yaml.YAMLError, ValueError) as e:
        raise ValueError(f"the front matter is not valid YAML: {_one_line(e)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the front matter is not a mapping but {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _split(text: str) -> tuple[str, str]:
    """(separator, raw front matter) as hexo-front-matter's ``split`` finds them."""
    if m := _OLD_STYLE.match(text):
        return m.group(1), m.group(2)
    if _PREFIX_SEP.match(text):
        return "", ""
    if m := _NEW_STYLE.match(text):
        return m.group(2), m.group(1)
    return "", ""


def check_post(path: Path) -> dict[str, object]:
    """Check that the post at ``path`` loads; return its front matter.

    Raises:
        PostCheckError: the file cannot be read, or its front matter does not load,
            lacks a required key, or has a date Hexo cannot read. The message names
            ``path`` and the reason.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise PostCheckError(path, f"cannot read it: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise PostCheckError(path, f"not UTF-8 (byte {e.start})") from e
    try:
        data = front_matter(text)
    except ValueError as e:
        raise PostCheckError(path, str(e)) from None
    missing = [k for k in REQUIRED_KEYS if data.get(k) in (None, "", [])]
    if missing:
        raise PostCheckError(path, f"the front matter lacks {', '.join(missing)}")
    if not isinstance(data["title"], str | int | float):
        raise PostCheckError(path, f"title is a {type(data['title']).__name__}, not text")
    categories = data["categories"]
    if not isinstance(categories, list) or not all(
        isinstance(c, str | int | float) and str(c).strip() for c in categories
    ):
        raise PostCheckError(path, f"categories must be a list of names, got {categories!r}")
    if not _readable_date(data["date"]):
        raise PostCheckError(path, f"date {data['date']!r} is not a date Hexo can read")
    return data


def check_posts(paths: Iterable[Path]) -> int:
    """Check every post; return how many. Stops at the first broken one.

    Raises:
        PostCheckError: naming the first post that would not load.
    """
    n = 0
    for path in paths:
        check_post(path)
        n += 1
    return n


def _readable_date(when: object) -> bool:
    """A YAML timestamp, an ISO 8601-like text or an RFC 2822 date (the legacy profile's)."""
    if isinstance(when, datetime | date):
        return True
    if not isinstance(when, str):
        return False
    if _DATE.match(when.strip()):
        return True
    try:
        parsedate_to_datetime(when)
    except (TypeError, ValueError, IndexError):
        return False
    return True


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())
