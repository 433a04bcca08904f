"""Date parsing: the real-world shapes of RFC 822, ISO 8601 and Chinese dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feedsite._parse._dates import parse_date

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RFC 822 / 1123 and their variants
        ("Fri, 07 Jan 2022 15:23:27 GMT", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 07 Jan 2022 23:23:27 +0800", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 07 Jan 2022 23:23:27 +08:00", utc(2022, 1, 7, 15, 23, 27)),
        ("07 Jan 2022 15:23:27 GMT", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 7 Jan 2022 15:23:27 UT", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 07 Jan 22 15:23:27 GMT", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 07 Jan 2022 15:23 GMT", utc(2022, 1, 7, 15, 23)),
        ("Fri, 07 Jan 2022 10:23:27 EST", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 07 Jul 2022 08:23:27 PDT", utc(2022, 7, 7, 15, 23, 27)),
        ("Fri, 07 Jan 2022 09:23:27 CST", utc(2022, 1, 7, 15, 23, 27)),  # US Central
        ("Fri, 07 Jan 2022 16:23:27 CET", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 07 Jan 2022 15:23:27 -0000", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri, 07 Jan 2022 23:23:27 GMT+8", utc(2022, 1, 7, 15, 23, 27)),
        ("Friday, 07-Jan-2022 15:23:27 GMT", utc(2022, 1, 7, 15, 23, 27)),  # RFC 850
        ("Wed, 19 jan 2026", utc(2026, 1, 19)),
        ("Jan 07 2022 15:23:27 GMT", utc(2022, 1, 7, 15, 23, 27)),
        ("Fri Jan  7 15:23:27 2022", utc(2022, 1, 7, 15, 23, 27)),  # asctime
        ("Fri Jan 07 09:23:27 CST 2022", utc(2022, 1, 7, 15, 23, 27)),  # Java toString
        ("Mon, 01 Jan 0001 00:00:00 +0000", utc(1, 1, 1)),  # Hugo's zero date
        ("Fri, 07 Jan 2022 03:23:27 PM +0000", utc(2022, 1, 7, 15, 23, 27)),
        # ISO 8601 / W3CDTF
        ("2022-01-07T15:23:27Z", utc(2022, 1, 7, 15, 23, 27)),
        ("2022-01-07T23:23:27+08:00", utc(2022, 1, 7, 15, 23, 27)),
        ("2022-01-07T23:23:27+0800", utc(2022, 1, 7, 15, 23, 27)),
        ("2022-01-07T15:23:27.52Z", datetime(2022, 1, 7, 15, 23, 27, 520000, tzinfo=UTC)),
        ("2022-01-07T15:23:27.123456789Z", datetime(2022, 1, 7, 15, 23, 27, 123456, tzinfo=UTC)),
        ("2022-01-07T15:23Z", utc(2022, 1, 7, 15, 23)),
        ("2022-01-07", utc(2022, 1, 7)),
        ("2022-01", utc(2022, 1, 1)),
        ("20220107T152327Z", utc(2022, 1, 7, 15, 23, 27)),
        ("2022-01-07 23:23:27 +0800", utc(2022, 1, 7, 15, 23, 27)),
        ("  2022-01-07T15:23:27Z\n", utc(2022, 1, 7, 15, 23, 27)),
        # Chinese forms (no zone: default_tz, UTC here)
        ("2022-01-07 15:23:27", utc(2022, 1, 7, 15, 23, 27)),
        ("2022/01/07 15:23", utc(2022, 1, 7, 15, 23)),
        ("2022/1/7", utc(2022, 1, 7)),
        ("2022年1月7日 15:23", utc(2022, 1, 7, 15, 23)),
        ("2022年01月07日 15:23:27", utc(2022, 1, 7, 15, 23, 27)),
        ("2022年1月7日", utc(2022, 1, 7)),
        ("2022年1月7日 下午3:23", utc(2022, 1, 7, 15, 23)),
        ("2022年1月7日 15时23分", utc(2022, 1, 7, 15, 23)),
        ("2022.01.07 15:23:27", utc(2022, 1, 7, 15, 23, 27)),
        # Unix timestamps
        ("1641569007", utc(2022, 1, 7, 15, 23, 27)),
        ("1641569007000", utc(2022, 1, 7, 15, 23, 27)),
        # Not dates
        ("", None),
        ("   ", None),
        ("not a date", None),
        ("3小时前", None),
        ("Fri, 32 Jan 2022 15:23:27 GMT", None),
        ("2022-13-07", None),
        ("Fri, 07 Jan 2022 25:23:27 GMT", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-07 15:23:27", utc(2022, 1, 7, 7, 23, 27)),
        ("2022年1月7日 15:23", utc(2022, 1, 7, 7, 23)),
        ("Fri, 07 Jan 2022 15:23:27", utc(2022, 1, 7, 7, 23, 27)),
        ("2022-01-07T15:23:27", utc(2022, 1, 7, 7, 23, 27)),
        # An explicit zone wins over default_tz.
        ("Fri, 07 Jan 2022 15:23:27 GMT", utc(2022, 1, 7, 15, 23, 27)),
        ("2022-01-07T15:23:27Z", utc(2022, 1, 7, 15, 23, 27)),
    ],
)
def test_default_tz_applies_only_without_offset(text: str, expected: datetime) -> None:
    assert parse_date(text, SHANGHAI) == expected


def test_results_are_utc_even_with_a_fixed_offset_default() -> None:
    parsed = parse_date("2022-01-07 15:23:27", timezone(timedelta(hours=-5)))
    assert parsed == utc(2022, 1, 7, 20, 23, 27)
    assert parsed is not None and parsed.tzinfo is UTC
