"""The Hexo target's file plan: which posts to write, update, restore, delete or let go.
Pure: a function of the decider's item changes, the posts the ledger owns, what the disk
looks like, and the render settings.

One post per kept item, at ``<category>/<site>/<feed>/<item id>.md`` under
``source/_posts``. A post is (re)written when it is new, missing, or its render key
changed (the item, the profile or options); a post edited by hand is left alone and
reported; a pruned item's post is deleted if it still holds feedsite's bytes, else let
go; the posts of a feed gone from the config are deleted likewise (docs/retention.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from feedsite._plan._stories import Story
from feedsite._records import DiskState, FileDelete, ItemChange, OwnedFile, PostTally
from feedsite._targets._paths import post_relpath
from feedsite.config import FeedSpec
from feedsite.types import RenderSettings

from ._render import render_key

__all__ = ["PostJob", "PostPlan", "PostTally", "plan_posts"]

Reason = Literal["new", "updated", "restored"]


@dataclass(frozen=True, slots=True)
class PostJob:
    """A post to render from an item's data and write."""

    path: str
    feed_key: str
    item_id: str
    render_key: str
    reason: Reason
    first_seen: datetime
    #: The other reports of its story to list (``site.dedupe: link``), lead first.
    others: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class PostPlan:
    """The Hexo target's part of a run."""

    renders: list[PostJob] = field(default_factory=list)
    deletes: list[FileDelete] = field(default_factory=list)
    #: Posts feedsite stops owning without touching them (edited by hand, or gone).
    releases: list[str] = field(default_factory=list)
    tallies: dict[str, PostTally] = field(default_factory=dict)
    #: Feeds gone from the config → how many posts they lose.
    removed: dict[str, int] = field(default_factory=dict)

    def tally(self, feed_key: str) -> PostTally:
        return self.tallies.setdefault(feed_key, PostTally())


def post_folder(feed: FeedSpec) -> str:
    """The folder of a feed's posts, relative to ``source/_posts``."""
    return post_relpath(feed.category, feed.site, feed.name, "0" * 16).rpartition("/")[0]


def plan_posts(
    changes: Sequence[ItemChange],
    feeds: Sequence[FeedSpec],
    forget_feeds: Collection[str],
    owned: Mapping[str, OwnedFile],
    disk: Mapping[str, DiskState],
    settings: RenderSettings,
    clean_key: str,
    image_keys: Mapping[tuple[str, str], str] | None = None,
    feed_settings: Mapping[str, RenderSettings] | None = None,
    stories: Mapping[tuple[str, str], Story] | None = None,
    dedupe: Literal["keep", "link", "skip"] = "keep",
    story_hashes: Mapping[tuple[str, str], str] | None = None,
    dead: Collection[tuple[str, str]] = (),
) -> PostPlan:
    """The posts to write, delete and let go for ``changes``. Pure.

    Args:
        changes: the decider's item changes (only their feeds' posts are touched).
        feeds: the configured feeds.
        forget_feeds: feeds gone from the config: every post of theirs goes.
        owned: the posts the ledger records as written, by path.
        disk: what each owned post looks like on disk now.
        settings: the render settings (part of each post's render key).
        clean_key: the cleaning options (part of each post's render key).
        image_keys: what each post's bytes depend on of its local images (part of its
            render key: a post is rendered again when an image arrives or goes).
        feed_settings: feeds whose render settings differ from ``settings`` (their own
            ``images`` policy).
        stories: the stories of more than one live item, by member (issue #15).
        dedupe: ``keep`` every post; ``link`` each post to the other reports of its story
            (their names and content hashes are part of its render key); ``skip`` the posts
            of all but a story's lead (deleted if they exist; back when the lead goes).
        story_hashes: the content hashes of live story members whose changes are not in
            ``changes`` (a run plans its posts a batch of feeds at a time).
        dead: items that are not live, and that no change names, whose posts are still
            owned (a run killed between recording its items and writing their posts):
            their posts go, as pruned.
    """
    plan = PostPlan()
    names = {f.key: (f.category, f.site, f.name) for f in feeds}
    by_item: dict[tuple[str | None, str | None], OwnedFile] = {
        (f.feed_key, f.item_id): f for f in owned.values()
    }
    hashes = dict(story_hashes or {})
    hashes.update(((c.feed_key, c.item_id), c.content_hash) for c in changes if c.kind != "pruned")
    for change in changes:
        tally = plan.tally(change.feed_key)
        old = by_item.get((change.feed_key, change.item_id))
        if change.kind == "pruned":
            tally.pruned += 1
            if old is not None:
                _let_go(plan, old.path, disk, tally, "pruned")
            continue
        this = (change.feed_key, change.item_id)
        story = stories.get(this) if stories and dedupe != "keep" else None
        if story is not None and dedupe == "skip" and story.lead != this:
            tally.skipped += 1
            if old is not None:
                _let_go(plan, old.path, disk, tally, "pruned")
            continue
        others: tuple[tuple[str, str], ...] = ()
        if story is not None:
            others = tuple(m for m in story.members if m != this and m in hashes)
        category, site, name = names[change.feed_key]
        path = post_relpath(category, site, name, change.item_id)
        rkey = render_key(
            change.content_hash,
            change.first_seen.isoformat(),
            (feed_settings or {}).get(change.feed_key, settings),
            (category, site, name, clean_key, *_image_key(image_keys, change))
            + ((change.body_key,) if change.body_key else ())
            + tuple(f"{m[0]}\x1e{m[1]}\x1e{hashes[m]}" for m in others),
        )
        if old is not None and old.path != path:  # the item's post moved: the old file goes
            _let_go(plan, old.path, disk, tally, "pruned")
        post = owned.get(path)
        state = disk.get(path, "missing") if post is not None else "missing"
        if post is not None and state == "edited":
            tally.edited.append(path)
            continue
        reason: Reason
        if post is None:
            reason = "restored" if change.was_live else "new"
        elif state == "missing":
            reason = "restored"
        elif post.key != rkey:
            reason = "updated"
        else:
            tally.unchanged += 1
            continue
        setattr(tally, reason, getattr(tally, reason) + 1)
        plan.renders.append(
            PostJob(path, change.feed_key, change.item_id, rkey, reason, change.first_seen, others)
        )
    if dead:
        for f in sorted(owned.values(), key=lambda f: f.path):
            if (f.feed_key, f.item_id) in dead and f.feed_key in names:
                assert f.feed_key is not None
                _let_go(plan, f.path, disk, plan.tally(f.feed_key), "pruned")
    gone = set(forget_feeds)
    for f in owned.values():
        if f.feed_key is not None and f.feed_key not in names:
            gone.add(f.feed_key)
    for f in sorted(owned.values(), key=lambda f: f.path):
        if f.feed_key in gone:
            plan.removed[f.feed_key] = plan.removed.get(f.feed_key, 0) + 1
            if disk.get(f.path, "missing") == "ok":
                plan.deletes.append(FileDelete(f.path, "feed_removed"))
            else:
                plan.releases.append(f.path)
    for key in gone:
        plan.removed.setdefault(key, 0)
    return plan


def _image_key(keys: Mapping[tuple[str, str], str] | None, change: ItemChange) -> tuple[str, ...]:
    """The post's image key, when it has one (posts without local images keep their keys)."""
    key = keys.get((change.feed_key, change.item_id), "") if keys else ""
    return (key,) if key else ()


def _let_go(
    plan: PostPlan,
    path: str,
    disk: Mapping[str, DiskState],
    tally: PostTally,
    reason: Literal["pruned"],
) -> None:
    """Delete a post that still holds feedsite's bytes; let go of one edited or gone."""
    state = disk.get(path, "missing")
    if state == "ok":
        plan.deletes.append(FileDelete(path, reason))
        return
    if state == "edited":
        tally.edited.append(path)
    plan.releases.append(path)
