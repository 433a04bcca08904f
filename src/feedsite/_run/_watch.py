"""``feedsite watch``: fetch each feed when it is due, write as changes arrive, rebuild.

A loop around :func:`feedsite._run.run` (docs/watch.md). Each turn reads when every feed
is next due (``feeds.next_attempt`` in the state, set by the decider from the feed's
interval, what its server said and its failures: ``_plan._schedule.next_fetch``), runs
the due feeds only, marks the targets stale when posts changed, rebuilds them at most
once per ``watch.build_every``, and sleeps until the next feed is due. It decides
nothing itself: what is due is ``_plan.due_feeds``'s answer.

* The first turn, and the first after a reload, is a whole run (every due feed, the feeds
  gone from the config forgotten); later turns run the due feeds only.
* SIGHUP reloads the config between turns; a config that does not load is reported and
  the old one kept. SIGTERM/SIGINT stop the watch: between turns at once, during a turn
  as a run stops (fetches abandoned whole, what was fetched written), then it returns.
* Every write goes through the run's ledger, so a killed watch loses nothing: the next
  start settles what it left, as the next run after a killed run does.
* One watch per state (``<state>.watch.lock``); a ``feedsite run`` or ``build`` in
  between takes the run lock as usual and the watch waits for it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from feedsite._plan import Schedule, due_feeds, sooner_after_reload
from feedsite._store import State
from feedsite._store._lock import locked
from feedsite._url import redact
from feedsite.config import Config
from feedsite.errors import ConfigError, FeedsiteError, LockedError

from . import RunResult, run
from ._build import TargetBuild, TargetFailed, build

#: Longest sleep between two looks at the state (a feed added by a `feedsite run`, a clock
#: that jumped, a state restored from a backup are seen within this).
MAX_SLEEP = 60.0
#: Wait after a turn failed (the state is locked by another run, a disk error).
RETRY_AFTER = 5.0
#: How often a sleeping watch looks at its signal flags (seconds).
_TICK = 0.1
#: The longest wait before a failed build is tried again (seconds).
MAX_BUILD_PAUSE = 3600.0

#: What a watch tells its caller: a turn's run, a build, a reload, a problem.
Event = Literal["run", "built", "reloaded", "problem", "stopped"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing the watch did or met, for the CLI to print."""

    event: Event
    message: str = ""
    #: ``run``: the turn's result.
    result: RunResult | None = None
    #: ``built``: each target's outcome.
    builds: tuple[TargetBuild, ...] = ()


class _Signals:
    """SIGHUP (reload) and SIGTERM/SIGINT (stop) as flags, which a sleep looks at.

    The handler takes no lock: it runs between two bytecodes of the main thread, which may
    hold any lock at that moment (a ``threading.Event``'s, set from the handler while the
    loop was inside ``clear()``, deadlocked the watch under a storm of SIGHUPs)."""

    def __init__(self) -> None:
        self.reload = False
        self.stop: str | None = None

    def handle(self, number: int, _frame: object) -> None:
        name = signal.Signals(number).name
        if number == signal.SIGHUP:
            self.reload = True
        elif self.stop is not None:
            # A second stop: at once (the writes of a turn or a build are crash-safe; the
            # next start settles them). During a turn the run's own handler takes the first
            # and interrupts on the second itself.
            raise KeyboardInterrupt
        else:
            self.stop = name

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # tests and embedding: no signals, stop through `stop`
            return
        previous: dict[signal.Signals, Any] = {}
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, self.handle)
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less as soon as a signal set a flag (within ``_TICK``)."""
        end = time.monotonic() + seconds
        while self.stop is None and not self.reload:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, _TICK))


def _next_attempts(config: Config) -> dict[str, datetime | None]:
    """Each known feed's next fetch, read from the state (none yet: every feed is due)."""
    if not config.state_path.exists():
        return {}
    with State.open(config.state_path) as state:
        return {key: feed.next_attempt for key, feed in state.feeds().items()}


def _sooner_after_reload(config: Config, now: datetime) -> None:
    """After a reload: no feed waits longer than its interval in the new config allows
    (``_plan.sooner_after_reload`` decides; recorded under the run lock)."""
    if not config.state_path.exists():
        return
    w = config.watch
    schedule = Schedule(w.interval, w.min_interval, w.max_interval)
    with (
        locked(config.state_path, holder="feedsite watch"),
        State.open(config.state_path) as state,
    ):
        stored = {key: feed.next_attempt for key, feed in state.feeds().items()}
        intervals = {f.key: f.interval for f in config.feeds}
        sooner = sooner_after_reload(stored, intervals, schedule, now)
        if sooner:
            with state.transaction() as tx:
                state.set_next_attempts(tx, sooner)


def _changed(result: RunResult) -> bool:
    """Whether a turn changed what the targets show."""
    c = result.counts()
    return bool(
        c.posts_new
        or c.posts_updated
        or c.posts_restored
        or c.posts_pruned
        or result.removed_feeds
        or (result.images is not None and result.images.fetched)
    )


def watch(
    load: Callable[[], Config],
    on_notice: Callable[[Notice], None],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> str:
    """Watch until SIGTERM or SIGINT; return the signal's name.

    Args:
        load: reads the config (at start and on SIGHUP); raises ``ConfigError``.
        on_notice: told of every turn, build, reload and problem.
        clock: the current time (UTC).

    Raises:
        ConfigError: the config does not load at start.
        LockedError: another watch uses this state.
    """
    config = load()
    signals = _Signals()
    with (
        signals.installed(),
        locked(config.state_path, suffix=".watch.lock", holder="feedsite watch"),
    ):
        whole = True  # the first turn runs every due feed and forgets removed ones
        stale = True  # build at start: the site reflects the state from the first minute
        last_build = float("-inf")
        build_failures = 0  # in a row: a failed build is tried again, less and less often
        while signals.stop is None:
            if signals.reload:
                signals.reload = False
                try:
                    config = load()
                except ConfigError as e:
                    on_notice(Notice("problem", f"config not reloaded, the old one stays: {e}"))
                else:
                    whole = True
                    on_notice(Notice("reloaded", f"config reloaded: {len(config.feeds)} feeds"))
                    try:
                        _sooner_after_reload(config, clock())
                    except FeedsiteError as e:
                        on_notice(Notice("problem", f"new intervals apply after each fetch: {e}"))
            keys = [f.key for f in config.feeds]
            wait = MAX_SLEEP
            try:
                now = clock()
                due, soonest = due_feeds(keys, _next_attempts(config), now)
                if due or whole:
                    result = run(config, now=now, only=None if whole else due, watching=True)
                    whole = False
                    stale = stale or _changed(result)
                    on_notice(Notice("run", result=result))
                    if result.stopped_by:
                        signals.stop = signals.stop or result.stopped_by
                        break
                    now = clock()
                    due, soonest = due_feeds(keys, _next_attempts(config), now)
                    if due:  # fell due while the turn ran: the next turn starts now
                        wait = 0.0
            except LockedError as e:
                on_notice(Notice("problem", f"{e}; trying again in {RETRY_AFTER:.0f} s"))
                signals.sleep(RETRY_AFTER)
                continue
            except FeedsiteError as e:  # the state unreadable, a disk error
                on_notice(Notice("problem", f"turn failed: {e}"))
                signals.sleep(RETRY_AFTER)
                continue
            except Exception as e:  # a bug must not end a server's watch: said, then retried
                on_notice(Notice("problem", f"turn failed: {type(e).__name__}: {redact(str(e))}"))
                signals.sleep(RETRY_AFTER)
                continue
            if soonest is not None:
                wait = min(wait, max(0.0, (soonest - now).total_seconds()))
            if stale:
                ready = last_build + _build_pause(config, build_failures)
                if time.monotonic() >= ready:
                    built = _build(config, on_notice)
                    build_failures = 0 if built else build_failures + 1
                    stale = not built
                    last_build = time.monotonic()
                    ready = last_build + _build_pause(config, build_failures)
                if stale:
                    wait = min(wait, max(0.0, ready - time.monotonic()))
            signals.sleep(wait)
        if stale:
            _build(config, on_notice)  # what the last turn wrote is on the site before we go
    stopped = signals.stop or "SIGTERM"
    on_notice(Notice("stopped", stopped))
    return stopped


def _build_pause(config: Config, failures: int) -> float:
    """Seconds between two builds: ``watch.build_every``, doubled per failed build in a
    row up to an hour (a full disk is tried again, not every few seconds)."""
    every = config.watch.build_every.total_seconds()
    return min(every * 2.0 ** min(failures, 20), max(every, MAX_BUILD_PAUSE))


def _build(config: Config, on_notice: Callable[[Notice], None]) -> bool:
    """Build the configured targets; whether the site is now up to date (False: try again
    later: the state was locked, a target failed on a full disk or in Hexo). A Hexo folder
    that is no Hexo site is not tried again until something changes: only the owner's
    ``feedsite init`` mends it."""
    try:
        results = build(config, config.site.targets)
    except LockedError as e:
        on_notice(Notice("problem", f"build postponed: {e}"))
        return False
    except FeedsiteError as e:
        on_notice(Notice("problem", f"build failed: {e}"))
        return False
    on_notice(Notice("built", builds=tuple(results)))
    return not any(isinstance(r, TargetFailed) and not r.not_a_site for r in results)
