"""When to fetch a feed and where from: backoff across runs and instance health. Pure.

* A feed that fails once is tried again on the next run. From the second
  consecutive failure on it waits ``BACKOFF_BASE`` × 2^(failures − 2), capped
  at ``BACKOFF_CAP``, ±``BACKOFF_JITTER`` so feeds that broke together do not
  come back together. It is never disabled: ``feedsite status`` shows it.
* A ``Retry-After`` the run could not wait for defers the feed to that time
  without counting as a failure.
* RSSHub instances that failed recently are tried after healthy ones; the
  instance that answered a feed last is tried first while it stays healthy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from feedsite._records import StoredFeed

BACKOFF_BASE = timedelta(minutes=30)
BACKOFF_CAP = timedelta(hours=24)
BACKOFF_JITTER = 0.1


def not_due(stored: StoredFeed | None, now: datetime) -> str | None:
    """Why a feed must not be fetched now (None: it is due)."""
    if stored is None or stored.next_attempt is None or stored.next_attempt <= now:
        return None
    failures = stored.consecutive_failures
    if stored.last_status == "deferred":
        why = "as the server asked (Retry-After)"
    else:
        why = f"after {failures} failure(s)"
    return f"waiting {why}: next attempt {stored.next_attempt:%Y-%m-%d %H:%M} UTC"


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
    digest = hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()
    unit: float = int.from_bytes(digest[:8], "big") / 2**64  # 0 <= unit < 1
    return now + delay * (1 + BACKOFF_JITTER * (2 * unit - 1))


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
