"""The Hexo target's file plan: ownership rules as a table. Pure: no disk, no state.

Each row: what the decider says about an item (its ``ItemChange`` kind), whether the
ledger owns a post for it (at its path, or at another path: a moved post), what the
disk holds there, and whether the post's render key still matches; the expectation is
what the plan does with the post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedsite._records import ChangeKind, DiskState, ItemChange, OwnedFile
from feedsite._targets.hexo import plan_posts, render_key
from feedsite._targets.hexo._plan import post_folder
from feedsite.config import parse_config
from feedsite.types import RenderSettings

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SETTINGS = RenderSettings("default", "UTC", None, "p{n}", "source_url")
CONFIG = parse_config(
    "feeds:\n  c:\n    s:\n      f: {url: 'https://e.org/f'}\n", file=Path("/tmp/x/feedsite.yaml")
)
FEED = CONFIG.feeds[0]
IID = "0123456789abcdef"
PATH = f"{post_folder(FEED)}/{IID}.md"
OLD = "older/naming/rule.md"
KEY = render_key("h", NOW.isoformat(), SETTINGS, ("c", "s", "f", "k"))


@dataclass(frozen=True)
class Row:
    name: str
    kind: ChangeKind
    was_live: bool
    #: Where the ledger records the item's post: None, PATH or OLD.
    owned_at: str | None
    disk: DiskState
    #: Does the recorded render key match?
    same_key: bool
    #: Expected: ("render", reason) | ("delete", path) | ("release", path) | ("none", "")
    does: tuple[tuple[str, str], ...]
    edited: tuple[str, ...] = ()


ROWS = [
    Row("a new item gets a new post", "new", False, None, "missing", False, (("render", "new"),)),
    Row("unchanged and on disk: nothing", "unchanged", True, PATH, "ok", True, ()),
    Row("the render key changed: updated", "changed", True, PATH, "ok", False, (("render", "updated"),)),  # noqa: E501
    Row("deleted behind our back: restored", "unchanged", True, PATH, "missing", True, (("render", "restored"),)),  # noqa: E501
    Row("a live item with no post: restored", "unchanged", True, None, "missing", True, (("render", "restored"),)),  # noqa: E501
    Row("edited by hand: left alone, reported", "changed", True, PATH, "edited", False, (), (PATH,)),  # noqa: E501
    Row("pruned, ours on disk: deleted", "pruned", True, PATH, "ok", True, (("delete", PATH),)),
    Row("pruned, edited: let go, reported", "pruned", True, PATH, "edited", True, (("release", PATH),), (PATH,)),  # noqa: E501
    Row("pruned, already gone: let go", "pruned", True, PATH, "missing", True, (("release", PATH),)),  # noqa: E501
    Row("pruned, never posted: nothing", "pruned", True, None, "missing", True, ()),
    Row("moved, old file ours: deleted, new written", "unchanged", True, OLD, "ok", True, (("delete", OLD), ("render", "restored"))),  # noqa: E501
    Row("moved, old file edited: let go, reported", "unchanged", True, OLD, "edited", True, (("release", OLD), ("render", "restored")), (OLD,)),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_ownership(row: Row) -> None:
    change = ItemChange(FEED.key, IID, row.kind, NOW, "h", row.was_live)
    owned = {}
    if row.owned_at is not None:
        key = KEY if row.same_key else "stale"
        owned[row.owned_at] = OwnedFile("hexo", row.owned_at, "sha", key, 1, 1, FEED.key, IID)
    disk = {p: row.disk for p in owned}
    plan = plan_posts([change], CONFIG.feeds, (), owned, disk, SETTINGS, "k")
    does = [("delete", d.path) for d in plan.deletes]
    does += [("release", p) for p in plan.releases]
    does += [("render", j.reason) for j in plan.renders]
    assert sorted(does) == sorted(row.does)
    assert all(j.path == PATH and j.render_key == KEY for j in plan.renders)
    tally = plan.tallies[FEED.key]
    assert tally.edited == list(row.edited)
    counted = {r: getattr(tally, r) for r in ("new", "updated", "restored", "unchanged", "pruned")}
    expected = {r: 0 for r in counted}
    for what, reason in row.does:
        if what == "render":
            expected[reason] += 1
    if row.kind == "pruned":
        expected["pruned"] = 1
    elif not row.does or all(w != "render" for w, _ in row.does):
        expected["unchanged"] = 0 if row.edited else 1
    assert counted == expected


def test_a_feed_gone_from_the_config_loses_its_posts() -> None:
    gone = '["x","y","z"]'
    ours = OwnedFile("hexo", "x/y/z/0000000000000000.md", "s", "k", 1, 1, gone, "0" * 16)
    edited = OwnedFile("hexo", "x/y/z/1111111111111111.md", "s", "k", 1, 1, gone, "1" * 16)
    owned = {f.path: f for f in (ours, edited)}
    disk: dict[str, DiskState] = {ours.path: "ok", edited.path: "edited"}
    plan = plan_posts([], CONFIG.feeds, [gone], owned, disk, SETTINGS, "k")
    assert [(d.path, d.reason) for d in plan.deletes] == [(ours.path, "feed_removed")]
    assert plan.releases == [edited.path]
    assert plan.removed == {gone: 2}


def test_files_of_feeds_the_decision_does_not_name_are_not_touched() -> None:
    """A feed that failed or was skipped brings no change: its posts stay as they are."""
    other = OwnedFile("hexo", PATH, "s", "k", 1, 1, FEED.key, IID)
    plan = plan_posts([], CONFIG.feeds, (), {PATH: other}, {PATH: "missing"}, SETTINGS, "k")
    assert (plan.renders, plan.deletes, plan.releases, plan.removed) == ([], [], [], {})


@pytest.mark.parametrize(
    ("disk", "does"),
    [("ok", ("delete", PATH)), ("edited", ("release", PATH)), ("missing", ("release", PATH))],
)
def test_the_post_of_a_dead_item_goes(disk: DiskState, does: tuple[str, str]) -> None:
    """issue #16: a run killed between recording its items and writing their posts leaves
    the post of an item it pruned; the next run names no change for it (the item is a
    tombstone by then) and is told it is dead: its post goes as pruned, if still ours."""
    owned = {PATH: OwnedFile("hexo", PATH, "sha", KEY, 1, 1, FEED.key, IID)}
    other = ItemChange(FEED.key, "f" * 16, "unchanged", NOW, "h", True)
    plan = plan_posts(
        [other], CONFIG.feeds, (), owned, {PATH: disk}, SETTINGS, "k", dead={(FEED.key, IID)}
    )
    got = [("delete", d.path) for d in plan.deletes] + [("release", p) for p in plan.releases]
    assert got == [does]
    assert plan.tallies[FEED.key].pruned == 0  # a leftover of another run, not this run's
    # Not dead: left alone.
    plan = plan_posts([other], CONFIG.feeds, (), owned, {PATH: disk}, SETTINGS, "k")
    assert not plan.deletes and not plan.releases
