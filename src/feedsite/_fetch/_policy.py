"""The retry policy: what to do after a failed try, and how long to wait.

Scope: pure functions (no I/O, no clock reads, no randomness of their own):
``is_retryable``, ``retry_delay``, ``parse_retry_after`` and ``decide``, which
combines them into ``Retry`` / ``Failover`` / ``Defer``.

Decisions, in order:

1. A 429 or 503 with a usable ``Retry-After`` of ``w`` seconds: wait ``w`` and
   retry when ``w <= backoff_cap``, it ends before the run deadline, and tries
   are left; ``Defer`` when ``w > backoff_cap`` or it passes the deadline (the
   server said when to come back, and that is later than this run waits);
   ``Failover`` when the retries are used up. ``w`` is slept exactly, without
   jitter: the server chose it.
2. Not transient (4xx other than 408/429, not a feed, too large, bad URL,
   redirect loop...): ``Failover`` at once.
3. Transient (timeout, connection error or reset, protocol error such as a
   truncated body, 408, 429, 5xx) with tries left: ``Retry`` after
   ``retry_delay``, unless that wait passes the run deadline (``Failover``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from feedsite.config import FetchConfig

from ._try import Problem

#: Statuses whose ``Retry-After`` is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Retry:
    """Try the same source again after ``delay`` seconds."""

    delay: float


@dataclass(frozen=True, slots=True)
class Failover:
    """Give up on this source and try the next one.

    Attributes:
        note: why, when it needs saying (e.g. the run deadline); "" otherwise.
    """

    note: str = ""


@dataclass(frozen=True, slots=True)
class Defer:
    """The server asked for a pause longer than this run waits.

    Attributes:
        delay: seconds from now the server said to come back after.
        why: e.g. ``"is longer than backoff_cap (8.0 s)"``.
    """

    delay: float
    why: str


Decision = Retry | Failover | Defer


def is_retryable(problem: Problem) -> bool:
    """Tell whether trying the same source again may help.

    Args:
        problem: the failed try.

    Returns:
        True for timeouts, connection errors and resets, protocol errors
        (truncated bodies), and HTTP 408, 429 and 5xx; False otherwise.
    """
    if problem.kind == "http":
        status = problem.status or 0
        return status in (408, 429) or 500 <= status <= 599
    return problem.kind in ("timeout", "connect", "network", "protocol")


def retry_delay(retry: int, settings: FetchConfig, jitter: float) -> float:
    """Seconds to wait before retry number ``retry``: capped exponential backoff, jittered.

    ``d = min(backoff_cap, backoff_base * 2 ** (retry - 1))``, then
    ``d / 2 + d / 2 * jitter`` ("equal jitter": never below half the backoff,
    so waits still grow, never above the cap).

    Args:
        retry: 1 for the first retry, 2 for the second...
        settings: ``backoff_base`` and ``backoff_cap``.
        jitter: a number in ``[0, 1]`` (clamped), e.g. a call of ``fetch_all``'s ``jitter``.

    Returns:
        The delay in seconds, in ``[d / 2, d]``.
    """
    exponent = min(max(retry - 1, 0), 62)
    capped = min(settings.backoff_cap, settings.backoff_base * 2.0**exponent)
    spread = min(max(jitter, 0.0), 1.0)
    return capped / 2 + capped / 2 * spread


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Read a ``Retry-After`` header: delay-seconds or an HTTP-date.

    Args:
        value: the header, or None.
        now: the current time (aware), to turn a date into a delay.

    Returns:
        Seconds from ``now`` (0 for a date in the past), or None when the
        header is absent or unreadable (then it is ignored).
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def decide(
    problem: Problem,
    tries: int,
    settings: FetchConfig,
    jitter: float,
    remaining: float | None,
) -> Decision:
    """Decide what follows a failed try (see the module docstring for the rules).

    Args:
        problem: the failed try.
        tries: tries made on this source so far, this one included (1 or more).
        settings: ``retries``, ``backoff_base``, ``backoff_cap``.
        jitter: a number in ``[0, 1)`` for ``retry_delay``.
        remaining: seconds left before the run deadline; None when there is none.

    Returns:
        ``Retry(delay)``, ``Failover(note)`` or ``Defer(delay, why)``.
    """
    tries_left = tries <= settings.retries
    wait = problem.retry_after if problem.status in RETRY_AFTER_STATUSES else None
    if problem.kind == "http" and wait is not None:
        if wait > settings.backoff_cap:
            return Defer(wait, f"is longer than backoff_cap ({float(settings.backoff_cap)} s)")
        if remaining is not None and wait >= remaining:
            return Defer(wait, "passes the run deadline")
        return Retry(wait) if tries_left else Failover()
    if not is_retryable(problem) or not tries_left:
        return Failover()
    delay = retry_delay(tries, settings, jitter)
    if remaining is not None and delay >= remaining:
        return Failover("no time left to retry before the run deadline")
    return Retry(delay)
