"""When to fetch a feed and where from: backoff across runs and instance health. Pure.

* A feed that fails once is tried again on the next run. From the second
  consecutive failure on it waits ``BACKOFF_BASE`` × 2^(failures − 2), capped
  at ``BACKOFF_CAP``, ±``BACKOFF_JITTER`` so feeds that broke together do not
  come back together. It is never disabled: ``feedsite status`` shows it.
* A ``Retry-After`` the run could not wait for defers the feed to that time
  without counting as a failure.
* RSSHub instances that failed recently are tried after healthy ones; the
  instance that answered a feed last is tried first while it stays healthy.
* A feed with an interval (its ``interval:``, or ``watch.interval`` in a watch;
  docs/watch.md) is fetched again after it: stretched by what the server said
  (RSS ``ttl``, ``Cache-Control: max-age``, ``Expires``), stretched by up to
  ``INTERVAL_JITTER`` so feeds added together spread out, and after failures
  doubled per failure; always within ``min_interval`` .. ``max_interval``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsite._records import StoredFeed

BACKOFF_BASE = timedelta(minutes=30)
BACKOFF_CAP = timedelta(hours=24)
BACKOFF_JITTER = 0.1
#: An interval is stretched by up to this share (never shortened: a server's max-age holds).
INTERVAL_JITTER = 0.1


@dataclass(frozen=True, slots=True)
class Schedule:
    """The intervals of a run (docs/watch.md).

    Attributes:
        default: the interval of feeds without an ``interval:`` (``watch.interval`` in a
            watch; None in ``feedsite run``: such feeds are fetched every run).
        floor: ``watch.min_interval``.
        ceiling: ``watch.max_interval``.
    """

    default: timedelta | None = None
    floor: timedelta = timedelta(minutes=1)
    ceiling: timedelta = timedelta(hours=24)


#: A plain run's schedule: feeds without an ``interval:`` are fetched every run.
EVERY_RUN = Schedule()


def _unit(seed: int, key: str, salt: str = "") -> float:
    """A number in ``[0, 1)`` drawn from ``seed`` and ``key`` (the same for the same pair)."""
    digest = hashlib.sha256(f"{seed}\x1f{key}{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def next_fetch(
    interval: timedelta | None,
    schedule: Schedule,
    *,
    failures: int,
    server_says: float | None,
    key: str,
    now: datetime,
    seed: int,
) -> datetime | None:
    """When a feed is fetched next, after this run's fetch (None: on the next run).

    Args:
        interval: the feed's own ``interval:``; None: ``schedule.default``.
        schedule: the run's defaults and bounds.
        failures: consecutive failures including this run's (0: the fetch answered).
        server_says: seconds the answer said it stays fresh (the longest of the feed's
            ``ttl`` and the response's ``max-age``/``Expires``); None when it said nothing.
        key: the feed's key (its jitter comes from it and ``seed``).
        now: the run's time.
        seed: the run's jitter seed.
    """
    every = interval or schedule.default
    if every is None:  # `feedsite run` of a feed without an interval: the old rule
        return next_attempt_after(failures, key, now, seed) if failures else None
    seconds = every.total_seconds()
    if failures:  # doubled per failure after the first
        seconds *= 2.0 ** min(failures - 1, 40)
        seconds *= 1 + BACKOFF_JITTER * (2 * _unit(seed, key) - 1)
    else:
        seconds = max(seconds, server_says or 0.0)
        seconds *= 1 + INTERVAL_JITTER * _unit(seed, key, "interval")
    floor, ceiling = schedule.floor.total_seconds(), schedule.ceiling.total_seconds()
    return now + timedelta(seconds=min(max(seconds, floor), ceiling))


def sooner_after_reload(
    stored: Mapping[str, datetime | None],
    intervals: Mapping[str, timedelta | None],
    schedule: Schedule,
    now: datetime,
) -> dict[str, datetime]:
    """The feeds whose recorded next fetch (``stored``) is later than their interval from
    ``now`` allows, and that time: after a reload lowered an interval, a feed waits at most
    its new interval (``intervals``: each feed's own ``interval:``, None: the schedule's
    default), within the schedule's bounds, not what the old one planned."""
    out: dict[str, datetime] = {}
    for key, interval in intervals.items():
        every = interval or schedule.default
        planned = stored.get(key)
        if every is None or planned is None:
            continue
        longest = min(max(every, schedule.floor), schedule.ceiling)
        if planned > now + longest:
            out[key] = now + longest
    return out


def not_due(stored: StoredFeed | None, now: datetime, *, by_interval: bool = True) -> str | None:
    """Why a feed must not be fetched now (None: it is due).

    ``by_interval`` False: the feed has no interval in this run (a plain ``feedsite run``
    of a feed without an ``interval:`` of its own): only a backoff after failures or a
    server's ``Retry-After`` holds it back, not the interval a ``feedsite watch`` recorded.
    """
    if stored is None or stored.next_attempt is None or stored.next_attempt <= now:
        return None
    failures = stored.consecutive_failures
    if not by_interval and not failures and stored.last_status != "deferred":
        return None
    if stored.last_status == "deferred":
        why = "as the server asked (Retry-After)"
    elif failures:
        why = f"after {failures} failure(s)"
    else:
        why = "for its interval"
    return f"waiting {why}: next attempt {stored.next_attempt:%Y-%m-%d %H:%M:%S} UTC"


def next_attempt_after(failures: int, key: str, now: datetime, seed: int) -> datetime | None:
    """When a feed with ``failures`` consecutive failures may be tried again.

    Args:
        failures: consecutive failures including this run's.
        key: the feed's key (its jitter is derived from it and ``seed``).
        now: the run's time.
        seed: jitter seed of this run (tests pin it).
    """
    if failures < 2:
        return None
    delay = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(failures - 2, 32)))
    return now + delay * (1 + BACKOFF_JITTER * (2 * _unit(seed, key) - 1))


def source_order(
    labels: Sequence[str], preferred: str | None, failures: Mapping[str, int]
) -> list[str]:
    """Instance labels in the order to try them.

    Healthy instances (no recent failure) first, the feed's last good one
    leading; then the failing ones, fewest consecutive failures first; ties
    keep the config's order.
    """
    position = {label: i for i, label in enumerate(labels)}

    def rank(label: str) -> tuple[int, int, int]:
        failing = failures.get(label, 0)
        return (failing, 0 if label == preferred else 1, position[label])

    return sorted(labels, key=rank)


def due_feeds(
    keys: Sequence[str], next_attempts: Mapping[str, datetime | None], now: datetime
) -> tuple[list[str], datetime | None]:
    """Which feeds are due at ``now``, and when the next of the others is (``feedsite
    watch``'s clock: docs/watch.md).

    Args:
        keys: the configured feeds, in the config's order.
        next_attempts: each known feed's next fetch (absent or None: due).
        now: the current time.

    Returns:
        The due keys in the config's order, and the earliest next fetch of the rest
        (None when every feed is due).
    """
    due: list[str] = []
    soonest: datetime | None = None
    for key in keys:
        when = next_attempts.get(key)
        if when is None or when <= now:
            due.append(key)
        elif soonest is None or when < soonest:
            soonest = when
    return due, soonest
