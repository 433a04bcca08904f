"""Applying a decision: clean the items it needs, plan the Hexo posts, write them.

The I/O half of a run after the decider. Decides nothing: it carries the
decision out through the store and the one ledger
(:mod:`feedsite._targets._ledger`: pending → atomic write → sync → written).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from feedsite._clean import clean_html, image_urls
from feedsite._clean._bounds import bound_html
from feedsite._config._rules import EMPTY as EMPTY_RULES
from feedsite._config._rules import RuleSet
from feedsite._plan import Decision, fail_feeds, without_feeds, without_items
from feedsite._plan._fulltext import item_clean_key, uses_article
from feedsite._plan._stories import Story
from feedsite._records import (
    DiskState,
    FeedIntent,
    FileWrite,
    ImageRefs,
    ItemData,
)
from feedsite._store import State, Tx
from feedsite._targets._ledger import Ledger
from feedsite._targets._writer import Writer
from feedsite._targets.hexo import PostJob, PostPlan, plan_posts, post_folder, render_post
from feedsite.config import Config
from feedsite.errors import TargetError
from feedsite.types import OtherReport, ParsedItem, PostSource, RenderSettings

if TYPE_CHECKING:
    from . import RunResult
    from ._fulltext import Articles
    from ._images import PostImages
    from ._stories import StoryUpdate


def clean_items(
    decision: Decision,
    state: State,
    config: Config,
    ckey: str,
    result: RunResult | None = None,
    deadline: float | None = None,
    articles: Articles | None = None,
) -> tuple[Decision, dict[tuple[str, str], ItemData]]:
    """Build the stored data of every item the decision needs (the clean stage).

    Feed by feed, and item by item:

    * an item that cannot be cleaned (any exception) fails alone: it is named
      in ``result.item_errors`` and taken out of the decision
      (:func:`~feedsite._plan.without_items`: not posted, its feed's
      validators not saved), so the next run meets it again;
    * past ``deadline`` (a ``time.monotonic()`` value, from ``--max-time``)
      plus one request timeout (``fetch.timeout``: the overrun ``--max-time``
      already allows the fetches in flight, so feeds fetched just before the
      deadline are still posted) no further item is cleaned: the feeds not
      finished are taken out of the decision whole
      (:func:`~feedsite._plan.without_feeds`, reported ``skipped``) and
      decided again by the next run. The first feed is always finished, so
      every run makes progress;
    * an item of a full-text feed whose article is in ``articles`` gets its body from
      the article (docs/fulltext.md); its cleaning key says which article.

    Returns:
        The decision that is left, and the data of its items.
    """
    hosts = config.clean.iframe_hosts
    labels = {f.key: f.label for f in config.feeds}
    fulltext = {f.key: f.fulltext.key() for f in config.feeds}
    rules = {f.key: f.rules for f in config.feeds}
    rewrite_keys = {f.key: f.rules.rewrite_key() for f in config.feeds}
    article_keys = articles.keys if articles is not None else {}
    article_html = articles.html if articles is not None else {}
    stop = None if deadline is None else deadline + config.fetch.timeout
    work: dict[str, list[tuple[tuple[str, str], ParsedItem | None]]] = {}
    for key, parsed in decision.to_clean.items():
        work.setdefault(key[0], []).append((key, parsed))
    for key in decision.to_reclean:
        work.setdefault(key[0], []).append((key, None))
    data: dict[tuple[str, str], ItemData] = {}
    failed: list[tuple[str, str]] = []
    late: list[str] = []
    finished = 0
    for feed_key, items in work.items():
        if stop is not None and finished and time.monotonic() > stop:
            late.append(feed_key)
            continue
        stale = state.item_data([k for k, p in items if p is None])
        for key, given in items:
            if stop is not None and finished and time.monotonic() > stop:
                late.append(feed_key)
                break
            try:
                source = stale[key].item if given is None else given
                akey = article_keys.get(key, "-")
                feed_rules = rules.get(feed_key, EMPTY_RULES)
                data[key] = item_data(
                    source,
                    hosts,
                    item_clean_key(
                        ckey, fulltext.get(feed_key, "off"), akey, rewrite_keys.get(feed_key, "")
                    ),
                    article_html.get(key) if akey != "-" else None,
                    feed_rules,
                )
            except Exception as e:  # one item must not cost the others (issue #10 row 4)
                failed.append(key)
                if result is not None:
                    label = labels.get(feed_key, feed_key)
                    result.item_errors.append(f"{label}: item {key[1]}: cannot clean: {e!r}")
        finished += 1
    decision = without_items(decision, failed)
    if late:
        decision = without_feeds(decision, late, "out of time (--max-time): cleaning not finished")
        late_feeds = set(late)
        data = {k: v for k, v in data.items() if k[0] not in late_feeds}
    return decision, data


def item_data(
    item: ParsedItem,
    iframe_hosts: tuple[str, ...],
    ckey: str,
    article: str | None = None,
    rules: RuleSet = EMPTY_RULES,
) -> ItemData:
    """An item's stored form: what the feed said (its HTML bounded) plus its cleaned body:
    of the feed's content, or of ``article`` (the extracted article page, full text), then
    rewritten by the feed's ``rewrite`` rules (docs/rules.md).

    The bodies are bounded first (:func:`feedsite._clean._bounds.bound_html`:
    at most 1 MB, nesting at most 256 deep, issue #10 row 6), for the cleaner
    and for what is stored and rendered (the legacy profile writes
    ``description_raw``); an item within the bounds is stored unchanged.
    """
    content, summary, raw = (
        None if h is None else bound_html(h)
        for h in (item.content_html, item.summary_html, item.description_raw)
    )
    if (content, summary, raw) != (item.content_html, item.summary_html, item.description_raw):
        item = replace(item, content_html=content, summary_html=summary, description_raw=raw)
    body = item.content_html or item.summary_html
    base = item.base_url or item.link
    if article is not None:
        body, base = bound_html(article), item.link or base
    if rules.has_rewrite and body:
        # Before the sanitiser: selectors may name the classes and ids it drops.
        from feedsite._clean._rewrite import rewrite

        body = rewrite(body, rules).html
    clean = clean_html(body, base_url=base, iframe_hosts=iframe_hosts) if body else ""
    return ItemData(item, clean, ckey, image_urls(clean, item.images))


def plan_hexo(
    decision: Decision,
    ledger: Ledger,
    disk: Mapping[str, DiskState],
    config: Config,
    settings: RenderSettings,
    ckey: str,
    result: RunResult,
    images: PostImages | None = None,
    refs: Mapping[tuple[str, str], ImageRefs] | None = None,
    stories: Mapping[tuple[str, str], Story] | None = None,
    story_hashes: Mapping[tuple[str, str], str] | None = None,
    dead: Collection[tuple[str, str]] = (),
) -> tuple[Decision, PostPlan]:
    """The Hexo posts of ``decision``, less the feeds whose post folder cannot be written.

    Such a feed fails alone (docs/security.md): its item changes go
    (:func:`~feedsite._plan.fail_feeds`), it is recorded and reported as failed with
    the folder's path, and the posts are planned again without it.
    """
    owned = ledger.owned()
    image_keys = _image_keys(config, images, refs or {}) if images is not None else None
    per_feed = feed_settings(config, settings)

    def plan(d: Decision) -> PostPlan:
        return plan_posts(
            d.changes,
            config.feeds,
            d.forget_feeds,
            owned,
            disk,
            settings,
            ckey,
            image_keys,
            per_feed,
            stories,
            config.site.dedupe,
            story_hashes,
            dead,
        )

    posts = plan(decision)
    concerned = {c.feed_key for c in decision.changes} | {
        o.feed_key for o in owned.values() if o.feed_key is not None
    }
    folder_of = {f.key: post_folder(f) for f in config.feeds if f.key in concerned}
    feed_by_folder = {folder: key for key, folder in folder_of.items()}
    touched: dict[str, set[str]] = {}
    for job in posts.renders:
        touched.setdefault(folder_of[job.feed_key], set()).add(job.feed_key)
    for path in (*(d.path for d in posts.deletes), *posts.releases):
        folder = path.rpartition("/")[0]
        keys = touched.setdefault(folder, set())
        if folder in feed_by_folder:
            keys.add(feed_by_folder[folder])
    errors: dict[str, str] = {}
    bad: set[str] = set()
    for folder, keys in sorted(touched.items()):
        try:
            ledger.writer.check_folder(folder)
        except TargetError as e:
            bad.add(folder)
            for key in keys:
                errors[key] = f"cannot write posts to {ledger.writer.root / folder}: {e}"
            if not keys:
                result.warnings.append(f"posts of a removed feed not deleted: {e}")
    if not bad:
        return decision, posts
    if errors:
        first = posts
        decision = fail_feeds(decision, errors)
        posts = plan(decision)
        for key in errors:  # its posts stay as they are: the ones that were fine still count
            if key in first.tallies:
                posts.tally(key).unchanged = first.tallies[key].unchanged
    # Nothing in an unsafe folder is deleted or let go: the rows wait until it is fixed.
    posts.deletes = [d for d in posts.deletes if d.path.rpartition("/")[0] not in bad]
    posts.releases = [p for p in posts.releases if p.rpartition("/")[0] not in bad]
    return decision, posts


def feed_settings(config: Config, settings: RenderSettings) -> dict[str, RenderSettings]:
    """Feeds whose own ``images`` policy changes their posts' render settings."""
    out = {}
    for f in config.feeds:
        proxy = f.images.proxy if f.images.mode == "proxy" else None
        if proxy != settings.image_proxy:
            out[f.key] = replace(settings, image_proxy=proxy)
    return out


def _image_keys(
    config: Config, images: PostImages, refs: Mapping[tuple[str, str], ImageRefs]
) -> dict[tuple[str, str], str]:
    """Each post's image key (its local images; its generated cover)."""
    sites = {f.key: f.site for f in config.feeds}
    out = {}
    for key, ref in refs.items():
        if ref.urls:
            ikey = images.key(ref.urls)
        else:
            cover = images.covers.get(sites.get(key[0], ""))
            ikey = f"cover:{cover}" if cover else ""
        if ikey:
            out[key] = ikey
    return out


def unwritable(decision: Decision, config: Config, writer: Writer) -> Decision:
    """The decision with the feeds whose post folder cannot be written failed, before
    anything of theirs is recorded (docs/security.md): checked for every feed with an
    item change, as any of them may need its post written."""
    folders = {f.key: post_folder(f) for f in config.feeds}
    errors: dict[str, str] = {}
    for key in sorted({c.feed_key for c in decision.changes}):
        if key not in folders:
            continue
        try:
            writer.check_folder(folders[key])
        except TargetError as e:
            errors[key] = f"cannot write posts to {writer.root / folders[key]}: {e}"
    return fail_feeds(decision, errors)


def record_decision(
    state: State,
    decision: Decision,
    data: Mapping[tuple[str, str], ItemData],
    stories: StoryUpdate | None = None,
) -> None:
    """Record a batch's decision in one transaction: its feeds, its items with the data
    just built, the items and feeds it forgets, the rule sets, its story rows. The posts
    follow (:func:`write_posts`); a run killed in between leaves live items without posts,
    which the next run restores."""
    items = [
        replace(i, data=data[(i.feed_key, i.item_id)]) if (i.feed_key, i.item_id) in data else i
        for i in decision.item_intents
    ]
    with state.transaction() as tx:
        state.record_feeds(tx, decision.feed_intents)
        state.record_items(tx, items)
        state.forget_items(tx, decision.forget_items)
        state.forget_feeds(tx, decision.forget_feeds)
        state.record_rules_keys(
            tx, {k: v for k, v in decision.rules_keys.items() if k not in decision.forget_feeds}
        )
        if stories is not None:
            stories.record(state, tx)


def write_posts(
    posts: PostPlan,
    state: State,
    ledger: Ledger,
    config: Config,
    settings: RenderSettings,
    result: RunResult,
    images: PostImages | None = None,
    failed: Sequence[FeedIntent] = (),
    names: Mapping[str, tuple[str, str, str]] | None = None,
) -> None:
    """Carry a post plan out through the ledger: render each post from the stored data,
    record them pending (with ``failed``: feeds found unwritable meanwhile), write, delete,
    sync, mark written.

    A post that would be created where a file already exists that the ledger does not
    record (the state was lost, or someone put a file there) is not written
    (docs/security.md): the file is left as it is, reported, and the item is remembered as
    ``seen`` so the post comes back once ``feedsite adopt`` has taken the file in.

    ``config`` may hold only the plan's feeds; ``names`` (category, site, feed of every
    feed) then names the other reports of their stories.
    """
    names = names or {f.key: (f.category, f.site, f.name) for f in config.feeds}
    labels = {f.key: f.label for f in config.feeds}
    per_feed = feed_settings(config, settings)
    writer = ledger.writer
    feed_rules = {f.key: f.rules for f in config.feeds}
    all_data = state.item_data(
        k for j in posts.renders for k in ((j.feed_key, j.item_id), *j.others)
    )
    writes: list[FileWrite] = []
    refused: dict[str, PostJob] = {}
    jobs = {j.path: j for j in posts.renders}
    for job in posts.renders:
        if job.reason != "updated" and writer.stat(job.path) is not None:
            refused[job.path] = job  # not ours: never overwritten
            continue
        stored = all_data.get((job.feed_key, job.item_id))
        if stored is None:  # its data is gone (a bug, or the state edited meanwhile)
            result.item_errors.append(
                f"{labels[job.feed_key]}: item {job.item_id}: not written: no stored data"
            )
            continue
        source = post_source(
            job.item_id,
            names[job.feed_key],
            stored,
            job.first_seen,
            images,
            # Only the legacy profile writes the raw description the rules rewrite again.
            feed_rules.get(job.feed_key)
            if per_feed.get(job.feed_key, settings).profile == "legacy"
            else None,
        )
        if job.others:
            source = replace(source, others=_others(job.others, names, all_data))
        try:
            blob = render_post(source, per_feed.get(job.feed_key, settings))
        except Exception as e:  # one unrenderable item must not cost the others
            result.item_errors.append(
                f"{labels[job.feed_key]}: item {job.item_id}: cannot render: {e!r}"
            )
            continue
        writes.append(
            FileWrite(
                job.path,
                blob,
                hashlib.sha256(blob).hexdigest(),
                job.render_key,
                job.feed_key,
                job.item_id,
                create_only=job.reason != "updated",
            )
        )
    unposted = sorted({(j.feed_key, j.item_id) for j in refused.values()})

    def record(tx: Tx) -> None:
        state.record_feeds(tx, failed)
        state.set_items_seen(tx, unposted)

    with ledger.session() as session:
        session.stage(writes, [d.path for d in posts.deletes], also=record)
        for w in writes:
            if session.write(w) is None:  # appeared since it was looked at
                refused[w.path] = jobs[w.path]
        for gone in posts.deletes:
            if session.delete(gone.path) == "deleted":
                result.deleted += 1
        session.release(posts.releases)
    _report_refused(refused, posts, ledger, labels, result)


def post_source(
    iid: str,
    names: tuple[str, str, str],
    stored: ItemData,
    first_seen: datetime,
    images: PostImages | None = None,
    rules: RuleSet | None = None,
) -> PostSource:
    """What the renderer needs of one item's post.

    The ``legacy`` profile writes the feed's raw description; when the body is an article
    (full text) it writes that article's cleaned HTML instead, and ``rewrite`` rules apply
    to what it writes (docs/profiles.md: the byte format stays)."""
    d = stored.item
    raw = d.description_raw if d.description_raw is not None else (d.content_html or d.summary_html)
    if uses_article(stored.clean_key):
        raw = stored.body_clean
    elif raw and rules is not None and rules.has_rewrite:
        from feedsite._clean._rewrite import rewrite

        raw = rewrite(raw, rules).html
    category, site, feed = names
    local = {}
    if images is not None and images.local:
        urls = stored.image_urls
        if urls is None:
            urls = image_urls(stored.body_clean, d.images)
        local = {u: images.local[u] for u in urls if u in images.local}
    return PostSource(
        item_id=iid,
        category=category,
        site=site,
        feed=feed,
        title=d.title,
        link=d.link,
        date=d.date,
        first_seen=first_seen,
        body_clean=stored.body_clean,
        # JSON Feed items have no description element: the legacy body is their HTML.
        description_raw=raw,
        images=d.images,
        local_images=local,
        cover_file=images.covers.get(site) if images is not None else None,
        tags=d.tags,
    )


def _others(
    keys: Sequence[tuple[str, str]],
    names: Mapping[str, tuple[str, str, str]],
    data: Mapping[tuple[str, str], ItemData],
) -> tuple[OtherReport, ...]:
    """The other reports a post lists (``site.dedupe: link``), in the story's order."""
    out = []
    for key in keys:
        d = data.get(key)
        if d is not None and key[0] in names:
            _category, site, feed = names[key[0]]
            out.append(OtherReport(site, feed, d.item.title or "", d.item.link))
    return tuple(out)


def _report_refused(
    refused: dict[str, PostJob],
    posts: PostPlan,
    ledger: Ledger,
    labels: dict[str, str],
    result: RunResult,
) -> None:
    """Report each post not written over a file the ledger does not record, and one hint."""
    if not refused:
        return
    writer = ledger.writer
    for path, job in sorted(refused.items()):
        tally = posts.tally(job.feed_key)
        if getattr(tally, job.reason) > 0:
            setattr(tally, job.reason, getattr(tally, job.reason) - 1)
        result.item_errors.append(
            f"{labels.get(job.feed_key, job.feed_key)}: item {job.item_id}:"
            f" not written: {writer.resolve(path)} exists and the state does not record it"
        )
    owned = set(ledger.owned())
    folders = sorted({p.rpartition("/")[0] for p in refused})
    unrecorded = 0
    for folder in folders:
        try:
            names = os.listdir(writer.resolve(folder + "/x").parent)
        except (OSError, TargetError):
            continue
        unrecorded += sum(1 for n in names if n.endswith(".md") and f"{folder}/{n}" not in owned)
    result.warnings.append(
        f"the state {ledger.state.path} seems lost or new: {unrecorded} posts exist under"
        f" {writer.root} that it does not record; {len(refused)} of them were not"
        " written over. Run `feedsite adopt` to take feedsite's posts back"
        " (docs/migration.md); until then they are left as they are"
    )
