"""Kill `feedsite run` with SIGKILL at random moments; the next run repairs everything.

Each trial copies a project, starts ``feedsite run`` on it, kills it after a
random delay, runs it again to completion and compares the post tree, the
state's items and its post records with those of an uninterrupted run from
the same starting point: they must be identical (no duplicates, no
half-written or orphaned files, no item lost). The clock and the jitter are
pinned through ``feedsite run --now/--seed``.
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from feedsite._store._bodies import unpack
from tests.helpers.feeds import Entry, rss

NOW1 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NOW2 = NOW1 + timedelta(hours=1)
#: Kill trials per scenario (two scenarios in the normal suite: 20 in all).
TRIALS = 10


@dataclass(frozen=True)
class Snapshot:
    files: dict[str, bytes]
    items: list[tuple[object, ...]]
    posts: list[tuple[object, ...]]


def snapshot(project: Path) -> Snapshot:
    posts_dir = project / "blog/source/_posts"
    files = {
        str(p.relative_to(posts_dir)): p.read_bytes()
        for p in sorted(posts_dir.rglob("*"))
        if p.is_file()
    }
    with closing(sqlite3.connect(project / ".feedsite/state.sqlite")) as db:
        items = [
            (*row[:-1], None if row[-1] is None else unpack(row[-1])[3])  # the cleaned body
            for row in db.execute(
                "SELECT i.feed_key, i.item_id, i.status, i.first_seen, i.seq, i.date,"
                " i.content_hash, i.title, b.data FROM items i"
                " LEFT JOIN bodies b ON b.id = i.body_id ORDER BY i.feed_key, i.item_id"
            )
        ]
        posts = db.execute(
            "SELECT path, feed_key, item_id, state, sha256 FROM files WHERE target = 'hexo'"
            " ORDER BY path"
        ).fetchall()
    return Snapshot(files, items, posts)


def feedsite(project: Path, now: datetime) -> subprocess.Popen[bytes]:
    config = str(project / "feedsite.yaml")
    pinned = (f"--now={now.isoformat()}", "--seed=7")
    return subprocess.Popen(
        [sys.executable, "-m", "feedsite", "run", "-c", config, "--json", *pinned],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_to_end(project: Path, now: datetime) -> float:
    started = time.monotonic()
    proc = feedsite(project, now)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    return time.monotonic() - started


def synthetic_project(folder: Path, feeds: int, version: int) -> Path:
    """``feeds`` small feeds; version 2 adds, changes and drops items (so runs prune)."""
    (folder / "feeds").mkdir(parents=True, exist_ok=True)
    tree: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for n in range(feeds):
        entries = [Entry(f"f{n}-i{i}", f"Feed {n} item {i} v1", dated(i)) for i in range(4)]
        if version == 2:
            entries = [Entry(f"f{n}-new", f"Feed {n} newest", NOW2 - timedelta(minutes=5))]
            entries += [
                Entry(f"f{n}-i{i}", f"Feed {n} item {i} v{2 if i == 0 else 1}", dated(i))
                for i in range(4)
            ]
            entries.append(Entry(f"f{n}-undated", f"Feed {n} undated"))
        (folder / "feeds" / f"{n}.xml").write_bytes(rss(entries))
        tree.setdefault(f"类别{n % 3}", {}).setdefault(f"站点{n % 7}", {})[f"源{n}"] = {
            "path": f"feeds/{n}.xml"
        }
    settings = {
        "site": {"hexo_root": "./blog", "timezone": "UTC"},
        "defaults": {"items_per_feed": 4, "keep": 3},
        "images": {"mode": "hotlink"},  # no image downloads in these crash trials
        "feeds": tree,
    }
    lines = [yaml.safe_dump(settings, allow_unicode=True)]
    config = folder / "feedsite.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def dated(i: int) -> datetime:
    return NOW1 - timedelta(hours=i + 1)


def wait_for_pending(project: Path, proc: subprocess.Popen[bytes], limit: float = 60) -> float:
    """Poll the state until the run marks posts pending; returns how long that took."""
    started = time.monotonic()
    db = project / ".feedsite/state.sqlite"
    while time.monotonic() - started < limit and proc.poll() is None:
        if db.exists():
            try:
                with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)) as c:
                    if c.execute("SELECT 1 FROM files WHERE state != 'written' LIMIT 1").fetchone():
                        break
            except sqlite3.OperationalError:
                pass  # not created yet, or busy
        time.sleep(0.002)
    return time.monotonic() - started


def wait_for_a_post(project: Path, proc: subprocess.Popen[bytes], limit: float = 60) -> float:
    """Poll until the run has written its first post file (the write phase began)."""
    started = time.monotonic()
    posts_dir = project / "blog/source/_posts"
    while time.monotonic() - started < limit and proc.poll() is None:
        if posts_dir.is_dir() and next(posts_dir.rglob("*.md"), None) is not None:
            break
        time.sleep(0.005)
    return time.monotonic() - started


def kill_trials(
    base: Path,
    work: Path,
    reference: Snapshot,
    now: datetime,
    duration: float,
    trials: int,
    prepare: Callable[[Path], None] = lambda _p: None,
    write_window: float = 0.05,
) -> tuple[list[str], int]:
    """Kill-and-rerun ``trials`` times.

    Returns:
        A description of every mismatch, and how many kills landed while the
        run was writing (some but not all of its changes on disk).
    """
    rng = random.Random(20261126)
    problems = []
    mid_write = 0
    start_files = snapshot(base).files if (base / ".feedsite").exists() else {}
    for trial in range(trials):
        project = work / f"trial{trial}"
        shutil.copytree(base, project)
        prepare(project)
        proc = feedsite(project, now)
        if trial % 2:
            # Every other trial waits for the write phase (posts marked pending in the
            # state), so kills between "pending" and "written" are always covered.
            extra = rng.uniform(0, write_window)
            delay = wait_for_pending(project, proc) + wait_for_a_post(project, proc) + extra
            time.sleep(extra)
        else:
            delay = rng.uniform(0.05, duration)
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        posts_dir = project / "blog/source/_posts"
        on_disk = {
            str(p.relative_to(posts_dir)): p.read_bytes()
            for p in posts_dir.rglob("*")
            if p.is_file()
        }
        if on_disk != start_files and on_disk != reference.files:
            mid_write += 1
        run_to_end(project, now)
        got = snapshot(project)
        where = f"trial {trial} (killed after {delay:.2f} s)"
        if got.files.keys() != reference.files.keys():
            added = sorted(got.files.keys() - reference.files.keys())[:5]
            missing = sorted(reference.files.keys() - got.files.keys())[:5]
            problems.append(f"{where}: extra files {added}, missing {missing}")
        elif got.files != reference.files:
            differ = [k for k in got.files if got.files[k] != reference.files[k]][:5]
            problems.append(f"{where}: files differ: {differ}")
        if got.items != reference.items:
            problems.append(f"{where}: state items differ")
        if got.posts != reference.posts:
            problems.append(f"{where}: post records differ")
        shutil.rmtree(project)
    return problems, mid_write


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("crash")
    fresh = synthetic_project(root / "fresh", feeds=200, version=1)
    reference_fresh = shutil.copytree(fresh, root / "ref-fresh")
    duration_fresh = run_to_end(reference_fresh, NOW1)
    # "update": state and posts of a first run, then the feeds change.
    updated = shutil.copytree(reference_fresh, root / "updated")
    synthetic_project(updated, feeds=200, version=2)
    reference_update = shutil.copytree(updated, root / "ref-update")
    duration_update = run_to_end(reference_update, NOW2)
    return {
        "root": root,
        "fresh": fresh,
        "updated": updated,
        "ref_fresh": snapshot(reference_fresh),
        "ref_update": snapshot(reference_update),
        "duration_fresh": duration_fresh,
        "duration_update": duration_update,
    }


def test_reference_runs_did_real_work(synthetic: dict[str, object]) -> None:
    fresh = synthetic["ref_fresh"]
    update = synthetic["ref_update"]
    assert isinstance(fresh, Snapshot) and isinstance(update, Snapshot)
    assert len(fresh.files) == 200 * 3  # keep: 3 of 4 items
    assert len(update.files) == 200 * 3
    assert fresh.files.keys() != update.files.keys()  # the update pruned and added posts
    changed = [
        k for k in fresh.files.keys() & update.files.keys() if fresh.files[k] != update.files[k]
    ]
    assert changed, "the update rewrote changed items in place"


def test_sigkill_during_a_first_run(synthetic: dict[str, object], tmp_path: Path) -> None:
    problems, mid_write = kill_trials(
        synthetic["fresh"],  # type: ignore[arg-type]
        tmp_path,
        synthetic["ref_fresh"],  # type: ignore[arg-type]
        NOW1,
        float(synthetic["duration_fresh"]),  # type: ignore[arg-type]
        trials=TRIALS,
    )
    assert not problems, "\n".join(problems)
    assert mid_write >= 2, f"only {mid_write} of {TRIALS} kills landed while writing"


def test_sigkill_during_an_update_run(synthetic: dict[str, object], tmp_path: Path) -> None:
    problems, mid_write = kill_trials(
        synthetic["updated"],  # type: ignore[arg-type]
        tmp_path,
        synthetic["ref_update"],  # type: ignore[arg-type]
        NOW2,
        float(synthetic["duration_update"]),  # type: ignore[arg-type]
        trials=TRIALS,
    )
    assert not problems, "\n".join(problems)
    assert mid_write >= 2, f"only {mid_write} of {TRIALS} kills landed while writing"


def test_two_runs_at_once_one_refuses(synthetic: dict[str, object], tmp_path: Path) -> None:
    project = shutil.copytree(synthetic["fresh"], tmp_path / "p")  # type: ignore[arg-type]
    first, second = feedsite(project, NOW1), feedsite(project, NOW1)
    _, err1 = first.communicate(timeout=120)
    _, err2 = second.communicate(timeout=120)
    codes = sorted((first.returncode, second.returncode))
    assert codes == [0, 3], (codes, err1.decode()[-500:], err2.decode()[-500:])
    refused = err1 if first.returncode == 3 else err2
    assert b"another feedsite run" in refused
    got = snapshot(project)
    reference = synthetic["ref_fresh"]
    assert isinstance(reference, Snapshot)
    assert got.files == reference.files and got.items == reference.items


@pytest.mark.slow
def test_sigkill_on_the_realworld_corpus(shared: Path, tmp_path: Path) -> None:
    """The same on the 200 real-world feeds (6,500 posts), fewer but longer trials."""
    base = tmp_path / "base"
    tree: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for n, feed in enumerate(sorted((shared / "corpora/realworld/feeds").iterdir())):
        site = tree.setdefault("real", {}).setdefault(f"site{n % 10}", {})
        site[feed.name] = {"path": str(feed)}
    base.mkdir()
    (base / "feedsite.yaml").write_text(
        yaml.safe_dump(
            {
                "site": {"hexo_root": "./blog", "timezone": "UTC"},
                "defaults": {"items_per_feed": 10000},
                "images": {"mode": "hotlink"},  # the corpus's images are on the internet
                "feeds": tree,
            }
        )
    )
    reference_dir = shutil.copytree(base, tmp_path / "ref")
    duration = run_to_end(reference_dir, NOW1)
    reference = snapshot(reference_dir)
    assert len(reference.files) > 6000
    problems, mid_write = kill_trials(
        base, tmp_path / "trials", reference, NOW1, duration, 8, write_window=0.5
    )
    assert not problems, "\n".join(problems)
    assert mid_write >= 2, f"only {mid_write} of 8 kills landed while writing"
