"""Rules in a run (issue #13): what the decider needs to judge stored items again, and the
preview of what rules hide and rewrite (``feedsite rules``, ``run --dry-run``). Decides
nothing: ``_plan`` judges (``_plan._rules``), ``_clean._rewrite`` rewrites."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from feedsite._plan import Decision
from feedsite._plan._rules import ItemFields
from feedsite._records import ItemData, StoredFeed, StoredItem
from feedsite._store import State
from feedsite.config import Config

__all__ = ["RuleEffect", "effects", "stored_fields"]


def stored_fields(
    config: Config,
    state: State,
    stored_feeds: Mapping[str, StoredFeed],
    stored_items: Mapping[str, Sequence[StoredItem]],
) -> dict[tuple[str, str], ItemFields]:
    """The fields of the live and filtered items of every feed whose rule set is not the one
    its items were last judged by (read from the store only for those feeds)."""
    keys: list[tuple[str, str]] = []
    needs_content: dict[str, bool] = {}
    for feed in config.feeds:
        key = "" if feed.rules.empty else feed.rules.key()
        before = stored_feeds.get(feed.key)
        if ((before.rules_key if before is not None else None) or "") == key or not key:
            continue
        needs_content[feed.key] = feed.rules.needs_content
        keys += [
            (feed.key, s.item_id)
            for s in stored_items.get(feed.key, ())
            if s.status in ("live", "filtered")
        ]
    if not keys:
        return {}
    from feedsite._clean._rewrite import plain_text

    times = {
        (s.feed_key, s.item_id): s.date or s.first_seen
        for feed_key in needs_content
        for s in stored_items.get(feed_key, ())
    }
    out: dict[tuple[str, str], ItemFields] = {}
    for k, data in state.item_data(keys).items():
        item = data.item
        out[k] = ItemFields(
            title=item.title,
            content=plain_text(data.body_clean) if needs_content[k[0]] else "",
            author=item.author or "",
            link=item.link or "",
            categories=item.categories,
            time=times[k],
        )
    return out


@dataclass(frozen=True, slots=True)
class RuleEffect:
    """What one rule does to one post this run (the preview of ``feedsite rules``)."""

    #: ``hide`` (its post goes), ``show`` (hidden at first sight: never posted), ``restore``
    #: (its rule went: posted again) or ``rewrite`` (its body changes).
    action: Literal["hide", "show", "restore", "rewrite"]
    rule: str
    feed: str
    item_id: str
    title: str
    #: For ``rewrite``: a unified diff of the cleaned body, one tag per line.
    diff: str = ""


def effects(
    config: Config,
    state: State,
    decision: Decision,
    data: Mapping[tuple[str, str], ItemData],
) -> list[RuleEffect]:
    """What the rules do in ``decision``: posts hidden, shown, restored, rewritten."""
    labels = {f.key: f.label for f in config.feeds}
    feeds = {f.key: f for f in config.feeds}
    wanted = [(f, i) for f, i, _r, _live in decision.filtered] + list(decision.unfiltered)
    stored = state.item_data([k for k in wanted if k not in data])
    # Bodies cleaned again in feeds with rewrite steps, or whose rules changed this run.
    rewritten = [
        k
        for k in decision.to_reclean
        if k[0] in feeds and (feeds[k[0]].rules.has_rewrite or k[0] in decision.rules_keys)
    ]
    before = state.bodies(rewritten)

    def title(k: tuple[str, str]) -> str:
        got = data.get(k) or stored.get(k)
        return got.item.title if got is not None else ""

    out = [
        RuleEffect("hide" if live else "show", rule, labels.get(f, f), i, title((f, i)))
        for f, i, rule, live in decision.filtered
    ]
    out += [
        RuleEffect("restore", "(no rule hides it any more)", labels.get(f, f), i, title((f, i)))
        for f, i in decision.unfiltered
    ]
    for k in rewritten:
        new = data.get(k)
        old = before.get(k, "")
        if new is None or new.body_clean == old:
            continue
        from feedsite._clean._rewrite import rewrite

        raw = new.item.content_html or new.item.summary_html or ""
        steps = rewrite(raw, feeds[k[0]].rules).applied if raw else ()
        diff = "".join(
            difflib.unified_diff(_lines(old), _lines(new.body_clean), "before", "after", n=1)
        )
        for rule in steps or ("(the rewrite rules changed)",):
            out.append(RuleEffect("rewrite", rule, labels.get(k[0], k[0]), k[1], title(k), diff))
    return out


def _lines(body: str) -> list[str]:
    """A body as lines for a diff: a line break after each closing tag."""
    return [line + "\n" for line in body.replace("><", ">\n<").splitlines()]
