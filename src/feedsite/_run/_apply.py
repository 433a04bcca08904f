"""Applying a decision: settle what a killed run left, look at the disk, clean, render, write.

The I/O half of a run after the decider. Decides nothing: it carries out the
decision through the store and the one writer, in the order that keeps every
post owned and recoverable (docs/retention.md): mark ``pending`` → write
atomically → sync → mark ``written``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from feedsite._clean import clean_html
from feedsite._plan import Decision
from feedsite._records import DiskState, InstanceIntent, ItemData, StoredPost
from feedsite._store import State
from feedsite._targets._writer import Writer
from feedsite._targets.hexo import render_post
from feedsite.config import Config
from feedsite.types import ParsedItem, PostSource, RenderSettings

if TYPE_CHECKING:
    from . import RunResult

TARGET = "hexo"


def settle(state: State, writer: Writer) -> None:
    """Finish what a killed run left half done, by looking at each file."""
    unfinished = state.unfinished_posts(TARGET)
    for folder in {path.rpartition("/")[0] for path, *_ in unfinished}:
        writer.remove_temp_files(folder)
    for path, row_state, old_sha, new_sha, _rkey in unfinished:
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
        st = writer.stat(path)
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
    decision: Decision, state: State, config: Config, ckey: str
) -> dict[tuple[str, str], ItemData]:
    """Build the stored data of every item the decision needs (the clean stage)."""
    hosts = config.clean.iframe_hosts
    data = {key: item_data(parsed, hosts, ckey) for key, parsed in decision.to_clean.items()}
    for key, stale in state.item_data(decision.to_reclean).items():
        data[key] = item_data(stale.item, hosts, ckey)
    return data


def item_data(item: ParsedItem, iframe_hosts: tuple[str, ...], ckey: str) -> ItemData:
    """An item's stored form: what the feed said plus its cleaned body."""
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
    items = [
        replace(i, data=data[(i.feed_key, i.item_id)]) if (i.feed_key, i.item_id) in data else i
        for i in decision.item_intents
    ]
    missing = [
        (j.feed_key, j.item_id) for j in decision.renders if (j.feed_key, j.item_id) not in data
    ]
    all_data = {**state.item_data(missing), **data}
    names = {f.key: (f.category, f.site, f.name) for f in config.feeds}
    rendered: list[tuple[str, bytes, str, str]] = []
    for job in decision.renders:
        stored = all_data[(job.feed_key, job.item_id)]
        d = stored.item
        category, site, feed = names[job.feed_key]
        source = PostSource(
            item_id=job.item_id,
            category=category,
            site=site,
            feed=feed,
            title=d.title,
            link=d.link,
            date=d.date,
            first_seen=job.first_seen,
            body_clean=stored.body_clean,
            # JSON Feed items have no description element: the legacy body is their HTML.
            description_raw=d.description_raw
            if d.description_raw is not None
            else (d.content_html or d.summary_html),
            images=d.images,
        )
        try:
            blob = render_post(source, settings)
        except Exception as e:  # one unrenderable item must not cost the others
            labels = {f.key: f.label for f in config.feeds}
            result.item_errors.append(
                f"{labels[job.feed_key]}: item {job.item_id}: cannot render: {e!r}"
            )
            continue
        rendered.append((job.path, blob, hashlib.sha256(blob).hexdigest(), job.render_key))
    jobs = {j.path: j for j in decision.renders}
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
    for path, blob, _sha, _rkey in rendered:
        done = writer.write(path, blob)
        written.append((path, done.size, done.mtime_ns))
    deleted = []
    for gone in decision.deletes:
        if writer.delete(gone.path):
            result.deleted += 1
        deleted.append(gone.path)
    writer.sync()
    state.finish_apply(TARGET, written=written, deleted=deleted, released=decision.releases)
