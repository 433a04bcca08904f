"""Date parsing for feed documents. Contains no business logic.

Turns the date strings feeds carry into aware UTC datetimes:

* RFC 822 / 1123 and their real-world variants (missing weekday, one-digit day,
  two-digit year, named zones, ``+0800`` and ``+08:00`` offsets, no zone at all),
  plus the ``asctime`` / Java ``Date.toString()`` shape
  (``Fri Jan 07 15:23:27 CST 2022``);
* ISO 8601 / W3CDTF (with or without seconds, fractional seconds, ``Z``,
  offsets, date only, year-month only);
* common Chinese forms: ``2022-01-07 15:23:27``, ``2022/1/7 15:23``,
  ``2022年1月7日 15:23``, ``2022年01月07日 下午3:23``;
* Unix timestamps of 10 (seconds) or 13 (milliseconds) digits.

A date without a zone is read in the caller's ``default_tz``. An unknown zone
name is read in ``default_tz`` too (feedparser reads it as UTC; with the
default ``default_tz=UTC`` both agree).

Zone names follow feedparser and RFC 822: ``CST`` is US Central Standard Time
(UTC-6), ``EST`` UTC-5 and so on. ``CST`` is ambiguous in Chinese feeds (China
Standard Time, UTC+8, as printed by Java's ``Date.toString()`` on a Shanghai
server), but none of the corpora shows a Chinese feed using it, and a
disagreement with feedparser would be silent; feeds that mean China time
almost always write ``+0800`` or no zone at all (then ``default_tz`` applies).

Does not decide which of an item's dates to use; that is the mappers' job.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from types import MappingProxyType

__all__ = ["parse_date"]

#: Zone abbreviations (hours east of UTC). US zones as in RFC 822 / feedparser.
_ZONES = MappingProxyType(
    {
        "UT": 0.0, "UTC": 0.0, "GMT": 0.0, "Z": 0.0, "WET": 0.0,
        "EST": -5.0, "EDT": -4.0, "CST": -6.0, "CDT": -5.0,
        "MST": -7.0, "MDT": -6.0, "PST": -8.0, "PDT": -7.0,
        "AST": -4.0, "ADT": -3.0, "AKST": -9.0, "AKDT": -8.0, "HST": -10.0,
        "BST": 1.0, "WEST": 1.0, "CET": 1.0, "MET": 1.0, "CEST": 2.0, "MEST": 2.0,
        "EET": 2.0, "EEST": 3.0, "MSK": 3.0,
        "HKT": 8.0, "SGT": 8.0, "AWST": 8.0, "JST": 9.0, "KST": 9.0,
        "ACST": 9.5, "AEST": 10.0, "AEDT": 11.0, "NZST": 12.0, "NZDT": 13.0,
    }
)  # fmt: skip

_MONTHS = MappingProxyType(
    {m: i for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )}
)  # fmt: skip
_WEEKDAYS = frozenset(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

_OFFSET_RE = re.compile(r"(?:GMT|UTC|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(.*)$")

#: Numeric dates: ISO 8601 leftovers and the Chinese forms.
_NUMERIC_RE = re.compile(
    r"""\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?)?  # date
    (?:\s*T?\s*(上午|下午|AM|PM)?\s*
       (\d{1,2})\s*[:时時点點]\s*(\d{1,2})\s*分?          # hour, minute
       (?:\s*[:]?\s*(\d{1,2})\s*秒?(?:[.,](\d{1,9}))?)?   # second, fraction
       \s*(上午|下午|AM|PM)?)?
    \s*(Z|[A-Z]{2,5}|(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def parse_date(value: str, default_tz: tzinfo = UTC) -> datetime | None:
    """Parses a feed date string.

    Args:
        value: the date as the feed wrote it.
        default_tz: the zone for dates without an offset.

    Returns:
        The instant as an aware UTC datetime, or None when the string is not a
        date this module understands.
    """
    text = value.strip()
    if not text:
        return None
    try:
        if text[0].isdigit():
            parsed = _parse_iso(text) or _parse_numeric(text) or _parse_rfc822(text)
        else:
            parsed = _parse_email(text) or _parse_rfc822(text)
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=default_tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _parse_iso(text: str) -> datetime | None:
    """The fast path for ISO 8601: ``datetime.fromisoformat``."""
    if len(text) in (10, 13) and text.isdigit():
        stamp = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(stamp, UTC)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_email(text: str) -> datetime | None:
    """The fast path for RFC 822: the standard library, trusted only when it found a zone."""
    try:
        parsed = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError):
        return None
    # Naive means "no zone", "-0000" or a zone the stdlib does not know (CEST,
    # +08:00...). The stdlib also turns every year below 100 into 19xx/20xx,
    # "0001" included (Hugo's zero date). Let the tolerant parser look again.
    if parsed.tzinfo is None or str(parsed.year) not in text:
        return None
    return parsed


def _parse_numeric(text: str) -> datetime | None:
    """Year-first numeric dates, including the Chinese ``年月日`` forms."""
    match = _NUMERIC_RE.match(text)
    if match is None:
        return None
    year, month, day, ampm, hour, minute, second, fraction, ampm2, zone = match.groups()
    if hour is None and zone is not None and month is None:
        return None  # "2022 EST" is not a date
    hour_value = _twelve_hour(int(hour or 0), ampm or ampm2)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    naive = datetime(
        int(year), int(month or 1), int(day or 1),
        hour_value, int(minute or 0), int(second or 0), micro,
    )  # fmt: skip
    return _apply_zone(naive, zone)


def _parse_rfc822(text: str) -> datetime | None:
    """A token-based RFC 822 reader in the spirit of feedparser's, with better zones."""
    day = month = year = None
    hour = minute = second = 0
    zone: str | None = None
    ampm: str | None = None
    for token in text.replace(",", " ").split():
        low = token.lower().rstrip(".")
        if low[:3] in _MONTHS and low.isalpha() and month is None:
            month = _MONTHS[low[:3]]
        elif low[:3] in _WEEKDAYS and low.isalpha():
            continue
        elif low in ("am", "pm"):
            ampm = low
        elif (time_match := _TIME_RE.match(token)) is not None:
            hour, minute = int(time_match[1]), int(time_match[2])
            second = int(time_match[3] or 0)
            zone = time_match[4] or zone
        elif token.isdigit():
            number = int(token)
            if len(token) >= 3 or (day is not None and year is None) or number > 31:
                year = number + (2000 if number < 90 else 1900) if len(token) <= 2 else number
            elif day is None:
                day = number
            else:
                return None
        else:
            zone = token.strip("()")
    if day is None or month is None or year is None:
        return None
    naive = datetime(year, month, day, _twelve_hour(hour, ampm), minute, second)
    return _apply_zone(naive, zone)


def _twelve_hour(hour: int, marker: str | None) -> int:
    """Converts a 12-hour clock reading (上午/下午, AM/PM) to 0-23."""
    if marker is None:
        return hour
    if marker.lower() in ("pm", "下午") and hour < 12:
        return hour + 12
    if marker.lower() in ("am", "上午") and hour == 12:
        return 0
    return hour


def _apply_zone(naive: datetime, zone: str | None) -> datetime:
    """Attaches a zone token (name or offset); unknown or missing zones leave it naive."""
    if not zone:
        return naive
    token = zone.strip()
    hours = _ZONES.get(token.upper())
    if hours is not None:
        return naive.replace(tzinfo=timezone(timedelta(hours=hours)))
    match = _OFFSET_RE.match(token)
    if match is None:
        return naive
    sign = -1 if match[1] == "-" else 1
    offset = timedelta(hours=int(match[2]), minutes=int(match[3] or 0))
    if offset >= timedelta(hours=24):
        return naive
    return naive.replace(tzinfo=timezone(sign * offset))
