"""Kill ``feedsite build --target native`` with SIGKILL at random moments; a rerun repairs it.

A state of 2,200 posts (more than :data:`feedsite._targets.site._indexer.PARALLEL_DOCS`,
so the search index is built in a child process, as on a real first build) is made once.
An uninterrupted build into its own folder is the reference. Each trial copies the state,
starts the build, kills it after a seeded random delay (one trial very early, one near the
end of the uninterrupted build's time), runs it again to completion and checks:

* the output tree is byte-identical to the reference: every path, every byte, no extra
  file, no ``.feedsite-*.tmp``, no empty folder;
* nothing is left in the temp folder (``TMPDIR`` points at a fresh folder per trial): the
  search child's input goes through its stdin, never a temp file;
* the state's ledger records exactly the files present, with their bytes, and no
  unfinished row.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._run import run
from feedsite._store import State
from feedsite._targets.site import TARGET, _indexer
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FEEDS = 20
PER_FEED = 110
TRIALS = 8
#: More trials allowed when the kills miss the writes (a busy machine).
EXTRA = 8
#: The share of an uninterrupted build's time after which it is writing files.
WRITE_WINDOW = 0.45

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Base:
    """The project every trial starts from: its feeds, config and state (no output yet)."""

    feeds: Path
    state: Path


def write_project(folder: Path, feeds: Path) -> Path:
    """A config whose state is ``folder/.feedsite/state.sqlite`` and output ``folder/public``."""
    lines = [
        "site: {hexo_root: ./blog, timezone: UTC}",
        "native: {out: ./public, base_url: 'https://example.org/news'}",
        "defaults: {items_per_feed: 500}",
        "images: {mode: hotlink}",  # the corpus's images are on the internet
        "feeds:",
        "  新闻:",
    ]
    for f in range(FEEDS):
        if f % 5 == 0:
            lines.append(f"    Site {f // 5}:")
        lines.append(f"      feed{f}: {{path: {feeds / f'f{f}.xml'}}}")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "feedsite.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("kill-build")
    feeds = root / "feeds"
    feeds.mkdir()
    for f in range(FEEDS):
        entries = [
            Entry(
                f"f{f}-{i}",
                f"Post {i} of feed {f} 测试",
                T0 - timedelta(hours=f * PER_FEED + i),
                body=f"<p>Paragraph {i} of feed {f}: static sites, 搜索 words w{i % 97}.</p>" * 5
                + f'<p><img src="https://img.example.org/{f}/{i}.jpg"></p>',
                link=f"https://news.example.org/{f}/{i}",
            )
            for i in range(PER_FEED)
        ]
        (feeds / f"f{f}.xml").write_bytes(rss(entries))
    config = load_config(write_project(root / "project", feeds))
    run(config, now=T0, seed=1)
    assert FEEDS * PER_FEED >= _indexer.PARALLEL_DOCS  # the search child runs
    return Base(feeds, config.state_path)


def project(base: Base, folder: Path) -> Path:
    """A fresh project in ``folder``: the base's config and a copy of its state."""
    config = write_project(folder, base.feeds)
    target = folder / ".feedsite" / "state.sqlite"
    target.parent.mkdir(parents=True)
    with closing(sqlite3.connect(base.state)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return config


def start_build(config: Path, tmp: Path) -> subprocess.Popen[bytes]:
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "feedsite", "build", "--target", "native", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(tmp)},
    )


def build_to_end(config: Path, tmp: Path) -> float:
    started = time.monotonic()
    proc = start_build(config, tmp)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]
    return time.monotonic() - started


def tree(out: Path) -> tuple[dict[str, bytes], set[str]]:
    """Every file under ``out`` with its bytes, and every folder."""
    files, folders = {}, set()
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_dir():
            folders.add(rel)
        else:
            files[rel] = p.read_bytes()
    return files, folders


def search_leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("feedsite-search-"))


def test_sigkill_during_native_build_then_rerun(base: Base, tmp_path: Path) -> None:
    ref_config = project(base, tmp_path / "ref")
    duration = build_to_end(ref_config, tmp_path / "ref-tmp")
    reference = tree(tmp_path / "ref" / "public")
    assert len(reference[0]) > 2200 and any(p.startswith("searchindex/") for p in reference[0])

    seed = int(os.environ.get("FEEDSITE_KILL_SEED", time.time_ns() % 2**32))
    print(f"kill trials: seed {seed} (FEEDSITE_KILL_SEED={seed} repeats them)")
    rng = random.Random(seed)
    # One very early, one late (near the end of an uninterrupted build), the rest in its
    # second half, where it writes (the first half starts Python, reads and plans).
    delays = [duration * 0.03, duration * 0.95]
    delays += [rng.uniform(WRITE_WINDOW, 0.95) * duration for _ in range(TRIALS - 2)]

    problems: list[str] = []
    mid_build = 0
    # A busy machine may stretch the build so that a kill lands before or after the writes:
    # more trials in the write window (up to EXTRA) until two kills have landed mid-build.
    n = -1
    while n + 1 < len(delays) or (mid_build < 2 and len(delays) < TRIALS + EXTRA):
        if n + 1 == len(delays):
            delays.append(rng.uniform(WRITE_WINDOW, 0.95) * duration)
        n += 1
        delay = delays[n]
        folder = tmp_path / f"t{n}"
        config = project(base, folder)
        tmp = folder / "tmp"
        proc = start_build(config, tmp)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        out = folder / "public"
        left = tree(out)[0] if out.exists() else {}
        temp_files = [p for p in left if p.rpartition("/")[2].startswith(".feedsite-")]
        if left and left != reference[0]:  # killed while writing
            mid_build += 1
        print(
            f"trial {n}: killed after {delay:.2f} s of {duration:.2f} s:"
            f" {len(left)} files, {len(temp_files)} temp files, exit {proc.returncode}"
        )
        if search_leftovers(tmp):
            problems.append(f"trial {n}: the killed build left {search_leftovers(tmp)} in TMPDIR")

        build_to_end(config, tmp)
        files, folders = tree(out)
        if (files, folders) != reference:
            extra = sorted(set(files) - set(reference[0]))[:5]
            missing = sorted(set(reference[0]) - set(files))[:5]
            differ = sorted(p for p in files if p in reference[0] and files[p] != reference[0][p])
            problems.append(
                f"trial {n} (kill at {delay:.2f} s): extra {extra}, missing {missing},"
                f" different {differ[:5]}, folders {sorted(folders ^ reference[1])[:5]}"
            )
        if os.listdir(tmp):
            problems.append(f"trial {n}: TMPDIR holds {os.listdir(tmp)[:5]} after the rerun")
        with State.open(folder / ".feedsite" / "state.sqlite", create=False) as state:
            owned = state.files(TARGET)
            unfinished = state.unfinished_files(TARGET)
        if set(owned) != set(files) or unfinished:
            problems.append(
                f"trial {n}: the ledger records {len(owned)} files, {len(files)} present;"
                f" not recorded {sorted(set(files) - set(owned))[:5]},"
                f" not present {sorted(set(owned) - set(files))[:5]}, unfinished {unfinished[:3]}"
            )
        wrong = [
            p for p, f in owned.items() if f.sha256 != hashlib.sha256(files.get(p, b"")).hexdigest()
        ]
        if wrong:
            problems.append(f"trial {n}: the ledger's bytes differ for {wrong[:5]}")
    assert not problems, "\n".join(problems)
    assert mid_build >= 2, f"only {mid_build} of {len(delays)} kills landed while the build wrote"
