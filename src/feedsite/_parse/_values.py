"""Bounded tag, enclosure and person values, shared by the XML and JSON mappers.

Contains no business logic: turns the strings a feed gives into
:class:`~feedsite.types.Tag`, :class:`~feedsite.types.Enclosure` and
:class:`~feedsite.types.Person` values, bounding every count and length (a hostile
feed with 100,000 categories or a 10 MB MIME type costs nothing more than its
parse), and maps Windows-1252 C1 code points. URLs are checked by the callers
(:func:`feedsite._url.safe_url`), which know the base.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable

from feedsite.types import Enclosure, Person, Tag

__all__ = [
    "MAX_AUTHORS",
    "MAX_ENCLOSURES",
    "MAX_TAGS",
    "demoronize",
    "duration_seconds",
    "has_c1",
    "make_person",
    "medium",
    "merge_enclosures",
    "mime_type",
    "person",
    "positive_int",
    "short_text",
    "tag",
    "unique_people",
    "unique_tags",
    "with_defaults",
]

#: Tags kept per item (a feed listing hundreds of tags per entry gains nothing more).
MAX_TAGS = 64
#: Enclosures kept per item.
MAX_ENCLOSURES = 32
#: Authors kept per item.
MAX_AUTHORS = 16
#: Longest term, scheme, label, name, e-mail or enclosure title kept, in characters.
MAX_TEXT = 200
#: Largest length (bytes: 1 PB) and duration (seconds: a year) taken; larger is noise.
_MAX_LENGTH = 10**15
_MAX_DURATION = 366 * 24 * 3600
_MEDIA = frozenset(("audio", "video", "image", "document", "executable"))
_MIME_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_EMAIL_RE = re.compile(r"[^@\s<>()\"',;]+@[^@\s<>()\"',;]+\.[^@\s<>()\"',;]+")
_DURATION_RE = re.compile(r"(?:(\d{1,4}):)?(?:(\d{1,4}):)?(\d{1,9})(?:[.,]\d*)?")

# Windows-1252 in the C1 range (feedparser's "demoronize"): U+0080-U+009F in a feed are
# almost always cp1252 bytes read as Latin-1 (or written as references: "&#146;").
# The five code points cp1252 leaves undefined stay as they are.
_CP1252 = {
    code: bytes((code,)).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
_C1_TABLE = str.maketrans({chr(code): char for code, char in _CP1252.items()})
_C1_RE = re.compile("[\x80-\x9f]")
_C1_UTF8_RE = re.compile(b"\xc2[\x80-\x9f]")
_C1_REFERENCE_RE = re.compile(r"&#(?:(1[2-5][0-9])|[xX]0*([89][0-9a-fA-F]));")


def has_c1(utf8: bytes) -> bool:
    """Whether a UTF-8 document holds a C1 character (cheap: most have no ``\xc2`` byte)."""
    return b"\xc2" in utf8 and _C1_UTF8_RE.search(utf8) is not None


def demoronize(text: str, *, c1: bool = True, references: bool = True) -> str:
    """``text`` with Windows-1252 C1 characters and references to them mapped
    (U+0092 and ``&#146;`` → U+2019 and ``&#x2019;``); ``text`` itself when none.

    ``c1=False`` (the document has no C1 character: :func:`has_c1`) skips the
    character scan; ``references=False`` skips references (HTML bodies: every HTML5
    parser, the clean stage's included, maps ``&#146;`` itself).
    """
    if c1 and not text.isascii() and _C1_RE.search(text):
        text = text.translate(_C1_TABLE)
    if references and "&#" in text:
        text = _C1_REFERENCE_RE.sub(_map_reference, text)
    return text


def _map_reference(match: re.Match[str]) -> str:
    code = int(match[1]) if match[1] else int(match[2], 16)
    char = _CP1252.get(code)
    return match[0] if char is None else f"&#x{ord(char):x};"


#: C0 and C1 control characters that ``str.split`` does not take for white space.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def short_text(value: str | None, limit: int = MAX_TEXT) -> str | None:
    """Whitespace-normalised text without control characters, cut to ``limit``
    characters; None when empty."""
    if not value:
        return None
    value = value[: limit * 4]
    if _CONTROLS.search(value):
        value = _CONTROLS.sub("", value)
    value = " ".join(value.split())[:limit].strip()
    return value or None


def tag(term: str | None, scheme: str | None = None, label: str | None = None) -> Tag | None:
    """A tag, or None without a term."""
    term = short_text(term)
    if term is None:
        return None
    return Tag(term, short_text(scheme), short_text(label))


def unique_tags(tags: Iterable[Tag | None]) -> tuple[Tag, ...]:
    """Tags in order, the first of each term, at most :data:`MAX_TAGS`."""
    out: dict[str, Tag] = {}
    for value in tags:
        if value is not None and value.term not in out:
            out[value.term] = value
            if len(out) >= MAX_TAGS:
                break
    return tuple(out.values())


def person(text: str | None) -> Person | None:
    """An author as RSS writes one: ``mail@example.com (Name)``, ``Name (mail@...)``,
    ``Name <mail@...>``, a bare address or a bare name; None when empty."""
    value = " ".join((text or "")[: MAX_TEXT * 4].split())
    if not value:
        return None
    for opening, closing in (("(", ")"), ("<", ">")):
        if value.endswith(closing) and opening in value:
            cut = value.rindex(opening)
            inner, outer = value[cut + 1 : -1].strip(), value[:cut].strip().strip('"').strip()
            if _EMAIL_RE.fullmatch(inner):
                return make_person(outer, inner)
            if _EMAIL_RE.fullmatch(outer):
                return make_person(inner, outer)
            break
    match = _EMAIL_RE.search(value)
    if match and match[0] == value:
        return make_person(None, value)
    return make_person(value, None)


def make_person(name: str | None, email: str | None, uri: str | None = None) -> Person | None:
    """A bounded person; None when nothing is left."""
    name, email = short_text(name), short_text(email)
    if name is None and email is None and uri is None:
        return None
    return Person(name, email, uri)


def unique_people(people: Iterable[Person | None]) -> tuple[Person, ...]:
    """People in order without repeats (same name, else same address), at most 16."""
    out: dict[str, Person] = {}
    for value in people:
        if value is None:
            continue
        key = (value.name or value.email or value.uri or "").casefold()
        if key not in out:
            out[key] = value
            if len(out) >= MAX_AUTHORS:
                break
    return tuple(out.values())


def mime_type(value: str | None) -> str | None:
    """A MIME type, lower case, without parameters; None when it is not one."""
    if not value:
        return None
    value = value[:300].split(";", 1)[0].strip().lower()
    return value if _MIME_RE.fullmatch(value) else None


def medium(declared: str | None, kind: str | None) -> str | None:
    """``media:content``'s ``medium`` when known, else the MIME type's major part."""
    declared = (declared or "").strip().lower()
    if declared in _MEDIA:
        return declared
    major = kind.partition("/")[0] if kind else ""
    if major in ("audio", "video", "image"):
        return major
    return None


def positive_int(value: object, limit: int = _MAX_LENGTH) -> int | None:
    """A length: a positive integer (a string of digits, or an int) up to ``limit``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip().replace(",", "")
        if not (value.isascii() and value.isdigit() and len(value) <= 20):
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= limit:
        return value
    return None


def duration_seconds(value: object) -> int | None:
    """A play time in whole seconds: ``3600``, ``61.5``, ``1:01``, ``01:00:01``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # NaN and ±inf (JSON's 1e400, Infinity) are no duration: int() of inf raises.
        seconds = int(value) if math.isfinite(value) else 0
    elif isinstance(value, str):
        match = _DURATION_RE.fullmatch(value.strip()[:40])
        if match is None:
            return None
        parts = [int(part) for part in match.groups() if part is not None]
        seconds = 0
        for part in parts:
            seconds = seconds * 60 + part
    else:
        return None
    return seconds if 0 < seconds <= _MAX_DURATION else None


def merge_enclosures(enclosures: Iterable[Enclosure]) -> tuple[Enclosure, ...]:
    """Enclosures in order, one per URL (later ones fill the fields the first lacks),
    at most :data:`MAX_ENCLOSURES`."""
    out: dict[str, Enclosure] = {}
    for enclosure in enclosures:
        first = out.get(enclosure.url)
        if first is None:
            if len(out) < MAX_ENCLOSURES:
                out[enclosure.url] = enclosure
            continue
        changes = {
            name: getattr(enclosure, name)
            for name in ("type", "length", "duration", "thumbnail", "title", "medium")
            if getattr(first, name) is None and getattr(enclosure, name) is not None
        }
        if changes:
            out[enclosure.url] = dataclasses.replace(first, **changes)
    return tuple(out.values())


def with_defaults(
    enclosures: tuple[Enclosure, ...], *, thumbnail: str | None, duration: int | None
) -> tuple[Enclosure, ...]:
    """Enclosures given an item-level thumbnail / duration where they have none
    (``media:thumbnail`` / ``itunes:image`` beside them, ``itunes:duration``); the
    duration only for audio and video."""
    if thumbnail is None and duration is None:
        return enclosures
    out = []
    for enclosure in enclosures:
        changes: dict[str, object] = {}
        if thumbnail is not None and enclosure.thumbnail is None and enclosure.medium != "image":
            changes["thumbnail"] = thumbnail
        if (
            duration is not None
            and enclosure.duration is None
            and enclosure.medium in ("audio", "video", None)
        ):
            changes["duration"] = duration
        out.append(dataclasses.replace(enclosure, **changes) if changes else enclosure)  # type: ignore[arg-type]
    return tuple(out)
