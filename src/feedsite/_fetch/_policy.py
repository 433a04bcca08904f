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

``freshness`` reads how long an answer (a 200 or a 304) says it stays fresh
(RFC 9111 §4.2.1, as a private cache): the outcomes' ``max_age``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from feedsite.config import FetchConfig

from ._try import Problem

#: Statuses whose ``Retry-After`` is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 503})

#: The largest delta-seconds kept (RFC 9111 §1.2.2: a larger one counts as 2**31).
MAX_DELTA_SECONDS = 2**31

#: One ``Cache-Control`` directive: a name, then ``=`` and a token or a quoted string.
_DIRECTIVE = re.compile(r"""\s*([^\s=,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^\s,]*))?\s*(?:,|$)""")


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
    if text.isdigit():  # capped: 10**14 seconds would not fit a timedelta
        return float(min(int(text), MAX_DELTA_SECONDS))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # capped: "Fri, 31 Dec 9999" would end past the last datetime once rounded up
    return min(max(0.0, (when - now).total_seconds()), float(MAX_DELTA_SECONDS))


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


def _directives(cache_control: str) -> dict[str, str | None]:
    """``Cache-Control`` as ``{name: argument}``, names lower-cased, the first of each kept."""
    found: dict[str, str | None] = {}
    position = 0
    while position < len(cache_control):
        match = _DIRECTIVE.match(cache_control, position)
        if match is None:  # a malformed element: skip it, up to the next comma
            comma = cache_control.find(",", position)
            if comma < 0:
                break
            position = comma + 1
            continue
        name, argument = match.group(1).lower(), match.group(2)
        if argument is not None and argument.startswith('"'):
            argument = re.sub(r"\\(.)", r"\1", argument[1:-1])
        found.setdefault(name, argument)
        position = match.end()
    return found


def _delta_seconds(argument: str | None) -> float | None:
    """A delta-seconds argument (``"60"``), capped; None when it is not one."""
    if argument is None or not argument.isascii() or not argument.isdigit():
        return None
    return float(min(int(argument), MAX_DELTA_SECONDS))


def _http_date(value: str | None) -> datetime | None:
    """An HTTP-date (any of RFC 9110's three forms), aware; None when unreadable."""
    if value is None:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def freshness(
    cache_control: str | None,
    expires: str | None,
    date: str | None,
    now: datetime,
    age: str | None = None,
) -> float | None:
    """Seconds a response says it stays fresh from now: its freshness lifetime (RFC 9111
    §4.2.1) minus the ``Age`` a cache on the way gave it (§5.1: a copy a CDN has held for
    500 s of its 600 is fresh for 100 more; an unreadable ``Age`` is ignored). The age
    is not also estimated from ``Date``: a server's clock that runs behind would make every
    response look old.

    Read as a private cache does, in order:

    1. ``Cache-Control: no-store`` or ``no-cache`` (unqualified) gives 0: ask
       again every time. ``no-cache="Set-Cookie"`` only limits those fields.
    2. ``Cache-Control: max-age=N`` gives N (the first one; a value that is not
       delta-seconds gives 0, as RFC 9111 §4.2.1 encourages: treat it as stale).
       ``s-maxage`` is for shared caches and ignored.
    3. ``Expires`` minus ``Date`` (minus ``now`` when ``Date`` is missing or
       unreadable), never below 0; an unreadable ``Expires`` ("0", "-1") gives 0
       (RFC 9111 §5.3: already expired).
    4. Otherwise None: the response does not say (heuristic freshness is the
       caller's business).

    Example::

        freshness("public, max-age=600", None, None, now)  # 600.0
        date, expires = "Thu, 01 Jan 2026 00:00:00 GMT", "Thu, 01 Jan 2026 00:10:00 GMT"
        freshness(None, expires, date, now)  # 600.0

    Args:
        cache_control: the ``Cache-Control`` field (several lines joined by ``", "``), or None.
        expires: the ``Expires`` field, or None.
        date: the ``Date`` field, or None.
        now: when the response arrived (aware): stands in for a missing ``Date``.
        age: the ``Age`` field, or None.

    Returns:
        Seconds (0 or more), or None.
    """
    lifetime = _lifetime(cache_control, expires, date, now)
    if lifetime is None:
        return None
    held = _delta_seconds(age.partition(",")[0].strip()) if age else None
    return max(0.0, lifetime - held) if held else lifetime


def _lifetime(
    cache_control: str | None, expires: str | None, date: str | None, now: datetime
) -> float | None:
    if cache_control:
        directives = _directives(cache_control)
        if "no-store" in directives or directives.get("no-cache", "") is None:
            return 0.0
        if "max-age" in directives:
            return _delta_seconds(directives["max-age"]) or 0.0
    if expires is None:
        return None
    until = _http_date(expires)
    if until is None:
        return 0.0
    since = _http_date(date) or now
    return max(0.0, (until - since).total_seconds())
