"""Applying a decision: settle what a killed run left, look at the disk, clean, render, write.

The I/O half of a run after the decider. Decides nothing: it carries out the
decision through the store and the one writer, in the order that keeps every
post owned and recoverable (docs/retention.md): mark ``pending`` → write
atomically → sync → mark ``written``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feedsite._clean import clean_html
from feedsite._clean._bounds import bound_html
from feedsite._plan import Decision, RenderJob, without_feeds, without_items
from feedsite._records import DiskState, InstanceIntent, ItemData, ItemIntent, StoredPost
from feedsite._store import State
from feedsite._targets._paths import post_relpath
from feedsite._targets._writer import NotOwnedError, Writer
from feedsite._targets.hexo import render_post
from feedsite.config import Config
from feedsite.errors import TargetError
from feedsite.types import ParsedItem, PostSource, RenderSettings

if TYPE_CHECKING:
    from . import RunResult

TARGET = "hexo"


def settle(state: State, writer: Writer) -> None:
    """Finish what a killed run left half done, by looking at each file."""
    unfinished = state.unfinished_posts(TARGET)
    unsafe: set[str] = set()
    for folder in {path.rpartition("/")[0] for path, *_ in unfinished}:
        try:
            writer.remove_temp_files(folder)
        except TargetError:  # a symlink out, say: its rows wait until it is fixed
            unsafe.add(folder)
    for path, row_state, old_sha, new_sha, _rkey in unfinished:
        if path.rpartition("/")[0] in unsafe:
            continue
        target = writer.resolve(path)
        actual = _sha_of(target)
        if row_state == "deleting":
            if actual is not None and actual == old_sha:
                writer.delete(path)
            writer.sync()
            state.settle_post(TARGET, path, outcome="gone")
        elif actual is not None and actual == new_sha:
            st = target.stat()
            state.settle_post(TARGET, path, outcome="new", size=st.st_size, mtime_ns=st.st_mtime_ns)
        elif actual is not None and actual == old_sha:
            st = target.stat()
            state.settle_post(TARGET, path, outcome="old", size=st.st_size, mtime_ns=st.st_mtime_ns)
        elif actual is None and old_sha is not None:
            state.settle_post(TARGET, path, outcome="old")  # missing: the planner restores it
        else:
            # Never written (or not ours): forget the row; a live item is rendered again.
            state.settle_post(TARGET, path, outcome="gone")


def _sha_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def observe(
    posts: dict[str, StoredPost], writer: Writer, state: State, dry_run: bool
) -> dict[str, DiskState]:
    """Is each recorded post still on disk with the bytes we wrote?"""
    disk: dict[str, DiskState] = {}
    for path, post in posts.items():
        try:
            st = writer.stat(path)
        except TargetError:  # its folder is unsafe now: apply fails that feed alone
            disk[path] = "missing"
            continue
        if st is None:
            disk[path] = "missing"
            continue
        if st.st_size == post.size and st.st_mtime_ns == post.mtime_ns:
            disk[path] = "ok"
        elif _sha_of(writer.resolve(path)) == post.sha256:
            disk[path] = "ok"
            if not dry_run:
                state.refresh_stat(TARGET, path, st.st_size, st.st_mtime_ns)
        else:
            disk[path] = "edited"
    return disk


def clean_items(
    decision: Decision,
    state: State,
    config: Config,
    ckey: str,
    result: RunResult | None = None,
    deadline: float | None = None,
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
      every run makes progress.

    Returns:
        The decision that is left, and the data of its items.
    """
    hosts = config.clean.iframe_hosts
    labels = {f.key: f.label for f in config.feeds}
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
                data[key] = item_data(source, hosts, ckey)
            except Exception as e:  # one item must not cost the others (issue #10 row 4)
                failed.append(key)
                if result is not None:
                    label = labels.get(feed_key, feed_key)
                    result.item_errors.append(f"{label}: item {key[1]}: cannot clean: {e!r}")
        finished += 1
    decision = without_items(decision, failed)
    if late:
        decision = without_feeds(
            decision, config.feeds, late, "out of time (--max-time): cleaning not finished"
        )
        late_feeds = set(late)
        data = {k: v for k, v in data.items() if k[0] not in late_feeds}
    return decision, data


def item_data(item: ParsedItem, iframe_hosts: tuple[str, ...], ckey: str) -> ItemData:
    """An item's stored form: what the feed said (its HTML bounded) plus its cleaned body.

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
    clean = (
        clean_html(body, base_url=item.base_url or item.link, iframe_hosts=iframe_hosts)
        if body
        else ""
    )
    return ItemData(item, clean, ckey)


def apply(
    decision: Decision,
    data: dict[tuple[str, str], ItemData],
    state: State,
    writer: Writer,
    config: Config,
    settings: RenderSettings,
    result: RunResult,
    instances: Sequence[InstanceIntent] = (),
) -> None:
    """Carry the decision out: record intents (``pending``), write, sync, mark ``written``.

    Two checks come before anything is recorded (docs/security.md):

    * a feed whose post folder cannot be written (a symlink out of the posts
      folder, a file where the folder should be, no permission) fails alone:
      its writes, deletes and item changes are dropped and it is recorded
      as failed with the folder's path;
    * a post that would be created where a file already exists that the
      state does not record (the state was lost, or someone put a file
      there) is not written: the file is left as it is, reported, and the
      item stays ``seen`` so the post comes back once ``feedsite adopt``
      has taken the file in.
    """
    names = {f.key: (f.category, f.site, f.name) for f in config.feeds}
    labels = {f.key: f.label for f in config.feeds}
    decision = _drop_unwritable_feeds(decision, writer, names, labels, result)
    missing = [
        (j.feed_key, j.item_id) for j in decision.renders if (j.feed_key, j.item_id) not in data
    ]
    all_data = {**state.item_data(missing), **data}
    rendered: list[tuple[str, bytes, str, str]] = []
    refused: dict[str, RenderJob] = {}
    jobs = {j.path: j for j in decision.renders}
    for job in decision.renders:
        if job.reason != "updated" and writer.stat(job.path) is not None:
            refused[job.path] = job  # not ours: never overwritten
            continue
        source = post_source(
            job.item_id, names[job.feed_key], all_data[(job.feed_key, job.item_id)], job.first_seen
        )
        try:
            blob = render_post(source, settings)
        except Exception as e:  # one unrenderable item must not cost the others
            result.item_errors.append(
                f"{labels[job.feed_key]}: item {job.item_id}: cannot render: {e!r}"
            )
            continue
        rendered.append((job.path, blob, hashlib.sha256(blob).hexdigest(), job.render_key))
    refused_items = {(j.feed_key, j.item_id) for j in refused.values()}
    items = [
        replace(i, data=data[(i.feed_key, i.item_id)]) if (i.feed_key, i.item_id) in data else i
        for i in decision.item_intents
    ]
    items = [_unposted(i) if (i.feed_key, i.item_id) in refused_items else i for i in items]
    state.begin_apply(
        TARGET,
        feeds=decision.feed_intents,
        items=items,
        forget_items=decision.forget_items,
        forget_feeds=decision.forget_feeds,
        writes=[(p, jobs[p].feed_key, jobs[p].item_id, sha, rkey) for p, _, sha, rkey in rendered],
        deletes=[d.path for d in decision.deletes],
        instances=instances,
    )
    written = []
    late: list[str] = []
    for path, blob, _sha, _rkey in rendered:
        job = jobs[path]
        try:
            done = writer.write(path, blob, create_only=job.reason != "updated")
        except NotOwnedError:  # appeared since it was looked at: its pending row goes
            refused[path] = job
            late.append(path)
            continue
        written.append((path, done.size, done.mtime_ns))
    deleted = []
    for gone in decision.deletes:
        if writer.delete(gone.path):
            result.deleted += 1
        deleted.append(gone.path)
    writer.sync()
    state.finish_apply(
        TARGET, written=written, deleted=deleted, released=[*decision.releases, *late]
    )
    _report_refused(refused, decision, writer, state, labels, result)


def post_source(
    iid: str, names: tuple[str, str, str], stored: ItemData, first_seen: datetime
) -> PostSource:
    """What the renderer needs of one item's post."""
    d = stored.item
    category, site, feed = names
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
        description_raw=d.description_raw
        if d.description_raw is not None
        else (d.content_html or d.summary_html),
        images=d.images,
    )


def _unposted(intent: ItemIntent) -> ItemIntent:
    """A refused item is remembered as ``seen`` (with its data), not as posted."""
    return replace(intent, status="seen") if intent.status == "live" else intent


def _report_refused(
    refused: dict[str, RenderJob],
    decision: Decision,
    writer: Writer,
    state: State,
    labels: dict[str, str],
    result: RunResult,
) -> None:
    """Report each post not written over a file the state does not record, and one hint."""
    if not refused:
        return
    reports = {r.key: r for r in decision.reports}
    for path, job in sorted(refused.items()):
        report = reports.get(job.feed_key)
        if report is not None and getattr(report, job.reason) > 0:
            setattr(report, job.reason, getattr(report, job.reason) - 1)
        result.item_errors.append(
            f"{labels.get(job.feed_key, job.feed_key)}: item {job.item_id}:"
            f" not written: {writer.resolve(path)} exists and the state does not record it"
        )
    owned = set(state.posts(TARGET))
    folders = sorted({p.rpartition("/")[0] for p in refused})
    unrecorded = 0
    for folder in folders:
        try:
            names = os.listdir(writer.resolve(folder + "/x").parent)
        except (OSError, TargetError):
            continue
        unrecorded += sum(1 for n in names if n.endswith(".md") and f"{folder}/{n}" not in owned)
    result.warnings.append(
        f"the state {state.path} seems lost or new: {unrecorded} posts exist under"
        f" {writer.root} that it does not record; {len(refused)} of them were not"
        " written over. Run `feedsite adopt` to take feedsite's posts back"
        " (docs/migration.md); until then they are left as they are"
    )


def _drop_unwritable_feeds(
    decision: Decision,
    writer: Writer,
    names: dict[str, tuple[str, str, str]],
    labels: dict[str, str],
    result: RunResult,
) -> Decision:
    """The decision without the changes of feeds whose post folder cannot be written.

    Such a feed fails alone: its writes, deletes, releases and item changes are
    dropped (as for a feed that could not be fetched), and its feed intent and
    report say ``failed`` with the folder's path. Checked before ``begin_apply``,
    so the pending → write → sync → written protocol is untouched.
    """
    folder_of = {key: post_relpath(*n, "0" * 16).rpartition("/")[0] for key, n in names.items()}
    touched: dict[str, set[str]] = {}
    for job in decision.renders:
        touched.setdefault(folder_of[job.feed_key], set()).add(job.feed_key)
    feed_by_folder = {folder: key for key, folder in folder_of.items()}
    for path in (*(d.path for d in decision.deletes), *decision.releases):
        folder = path.rpartition("/")[0]
        touched.setdefault(folder, set()).update(
            {feed_by_folder[folder]} if folder in feed_by_folder else set()
        )
    bad_feeds: dict[str, str] = {}
    bad_folders: set[str] = set()
    for folder, keys in sorted(touched.items()):
        try:
            writer.check_folder(folder)
        except TargetError as e:
            bad_folders.add(folder)
            for key in keys:
                bad_feeds[key] = f"cannot write posts to {writer.root / folder}: {e}"
            if not keys:
                result.warnings.append(f"posts of a removed feed not deleted: {e}")
    if not bad_folders:
        return decision
    for report in decision.reports:
        if report.key in bad_feeds:
            report.status, report.error = "failed", bad_feeds[report.key]
            report.new = report.updated = report.restored = report.pruned = 0
            report.edited.clear()

    def bad_path(path: str) -> bool:
        return path.rpartition("/")[0] in bad_folders

    return replace(
        decision,
        feed_intents=[
            replace(
                f,
                status="failed",
                error=bad_feeds[f.key],
                validators=None,
                consecutive_failures=max(f.consecutive_failures, 1),
            )
            if f.key in bad_feeds
            else f
            for f in decision.feed_intents
        ],
        item_intents=[i for i in decision.item_intents if i.feed_key not in bad_feeds],
        forget_items=[k for k in decision.forget_items if k[0] not in bad_feeds],
        renders=[j for j in decision.renders if j.feed_key not in bad_feeds],
        deletes=[d for d in decision.deletes if not bad_path(d.path)],
        releases=[p for p in decision.releases if not bad_path(p)],
    )
