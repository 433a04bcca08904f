"""RSS ``<ttl>``: minutes a channel may be cached (a hint for ``feedsite watch``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from feedsite._parse import parse_feed


def channel(ttl: str) -> bytes:
    return (
        f'<rss version="2.0"><channel><title>t</title>{ttl}'
        "<item><title>a</title><guid>1</guid></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("ttl", "minutes"),
    [
        ("<ttl>5</ttl>", 5),
        ("<ttl> 60 </ttl>", 60),
        ("", None),
        ("<ttl>soon</ttl>", None),
        ("<ttl>-5</ttl>", None),
        ("<ttl>99999999999</ttl>", 7 * 24 * 60),  # read as a week at most
    ],
)
def test_ttl(ttl: str, minutes: int | None) -> None:
    parsed = parse_feed(
        channel(ttl), url="https://e.org/", content_type=None, default_tz=ZoneInfo("UTC")
    )
    assert parsed.ttl == minutes
    assert len(parsed.items) == 1
