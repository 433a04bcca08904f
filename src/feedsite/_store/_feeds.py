"""Feeds, their HTTP validators and the RSSHub instances' health (tables ``feeds``,
``validators``, ``instances``). Records what was decided; decides nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from feedsite._records import FeedIntent, FeedRow, InstanceIntent, StoredFeed
from feedsite.types import Validators

from ._base import StateBase, Tx, from_iso, iso


class FeedsMixin(StateBase):
    """Feeds and instances."""

    def feeds(self) -> dict[str, StoredFeed]:
        """Every feed the state knows, by key."""
        validators: dict[str, dict[str, Validators]] = defaultdict(dict)
        for key, source, etag, modified in self._query(
            "SELECT feed_key, source, etag, last_modified FROM validators"
        ):
            validators[key][source] = Validators(etag, modified)
        return {
            key: StoredFeed(
                key,
                preferred,
                dict(validators[key]),
                from_iso(success),
                failures,
                from_iso(next_attempt),
                status,
                rules_key,
            )
            for key, preferred, success, failures, next_attempt, status, rules_key in self._query(
                "SELECT key, preferred_source, last_success, consecutive_failures, next_attempt,"
                " last_status, rules_key FROM feeds"
            )
        }

    def instance_failures(self) -> dict[str, int]:
        """Consecutive failures of every RSSHub instance seen so far, by label."""
        return dict(self._query("SELECT label, consecutive_failures FROM instances"))

    def feed_rows(self) -> list[FeedRow]:
        """Every feed's health, by key (for status displays)."""
        return [
            FeedRow(*row)
            for row in self._query(
                "SELECT key, preferred_source, last_attempt, last_success, last_status,"
                " last_error, consecutive_failures, next_attempt FROM feeds ORDER BY key"
            )
        ]

    def record_feeds(
        self,
        tx: Tx,
        feeds: Sequence[FeedIntent],
        instances: Sequence[InstanceIntent] = (),
    ) -> None:
        """Record what this run learned about ``feeds`` and RSSHub ``instances``."""
        for f in feeds:
            _record_feed(tx, f)
        for i in instances:
            _record_instance(tx, i)

    def set_next_attempts(self, tx: Tx, when: Mapping[str, datetime]) -> None:
        """Set the next fetch of feeds (feed key → time), as the caller decided it."""
        tx.executemany(
            "UPDATE feeds SET next_attempt=? WHERE key=?",
            [(iso(at), key) for key, at in when.items()],
        )

    def record_rules_keys(self, tx: Tx, keys: Mapping[str, str]) -> None:
        """Record the rule set each feed's items were judged by (feed key → rule set key)."""
        for key in keys:
            tx.execute("INSERT INTO feeds (key) VALUES (?) ON CONFLICT (key) DO NOTHING", (key,))
        tx.executemany(
            "UPDATE feeds SET rules_key=? WHERE key=?", [(v, k) for k, v in keys.items()]
        )

    def forget_feeds(self, tx: Tx, keys: Iterable[str]) -> None:
        """Forget feeds: their items, validators and rows."""
        rows = [(key,) for key in keys]
        tx.executemany("DELETE FROM items WHERE feed_key=?", rows)
        tx.executemany("DELETE FROM validators WHERE feed_key=?", rows)
        tx.executemany("DELETE FROM feeds WHERE key=?", rows)


def _record_feed(tx: Tx, f: FeedIntent) -> None:
    tx.execute("INSERT INTO feeds (key) VALUES (?) ON CONFLICT (key) DO NOTHING", (f.key,))
    succeeded = f.status in ("ok", "not_modified")
    tx.execute(
        "UPDATE feeds SET last_attempt=?, last_status=?, last_error=?,"
        " consecutive_failures=?, next_attempt=?,"
        " last_success=CASE WHEN ? THEN ? ELSE last_success END,"
        " preferred_source=coalesce(?, preferred_source) WHERE key=?",
        (
            iso(f.at),
            f.status,
            f.error,
            f.consecutive_failures,
            iso(f.next_attempt),
            succeeded,
            iso(f.at),
            f.source if succeeded else None,
            f.key,
        ),
    )
    if succeeded and f.source is not None and f.validators is not None:
        tx.execute(
            "INSERT INTO validators (feed_key, source, etag, last_modified) VALUES (?,?,?,?)"
            " ON CONFLICT (feed_key, source) DO UPDATE SET etag=excluded.etag,"
            " last_modified=excluded.last_modified",
            (f.key, f.source, f.validators.etag, f.validators.last_modified),
        )


def _record_instance(tx: Tx, i: InstanceIntent) -> None:
    tx.execute("INSERT INTO instances (label) VALUES (?) ON CONFLICT DO NOTHING", (i.label,))
    if i.ok:
        tx.execute(
            "UPDATE instances SET consecutive_failures=0, last_success=? WHERE label=?",
            (iso(i.at), i.label),
        )
    else:
        tx.execute(
            "UPDATE instances SET consecutive_failures=consecutive_failures+1,"
            " last_failure=?, last_error=? WHERE label=?",
            (iso(i.at), i.error, i.label),
        )
