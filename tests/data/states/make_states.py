"""Make the state fixtures of every earlier schema version with the code that wrote them.

Run from the repository root with the project's virtualenv::

    .venv/bin/python tests/data/states/make_states.py            # every version
    .venv/bin/python tests/data/states/make_states.py 2 3        # some of them

For each schema version N it checks out that version's newest commit (``VERSIONS``) in a
temporary git worktree (``git worktree add --detach``; removed afterwards: the main
checkout is not touched), makes a scratch project from feeds of ``../shared/corpora/``,
and runs that commit's own code on it (its ``src/`` first on ``PYTHONPATH``, this
interpreter's packages) with a pinned clock:

1. ``feedsite run`` at ``T1``, serving a copy of ``lasheen.xml`` without its three newest
   items;
2. ``feedsite run`` at ``T2`` = T1 + 1 h, serving the whole file: those three push
   three older live items past ``keep`` (status ``pruned``, post deleted); windows smaller
   than the feeds leave items ``seen`` only;
3. ``feedsite remove`` of one AcFun item (status ``removed``, post deleted);
4. from schema 3 on: ``feedsite build --target native`` (site pages, and from schema 4
   the card cache and feedsite's own search index).

Schema 1's CLI has no pinned clock: its runs call ``feedsite._run.run(config, now=...)``
as its own tests did; later versions read ``FEEDSITE_TEST_NOW``/``FEEDSITE_TEST_SEED``.

The result, ``vN.tar.gz``, holds the project as that code left it: ``feedsite.yaml``,
``feeds/`` (the files as served by the last run), ``.feedsite/state.sqlite``
(checkpointed: no -wal or -shm), ``blog/source/_posts/`` and, from schema 3 on,
``_site/``. Each run checks ``PRAGMA user_version`` equals N.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CORPORA = REPO.parent / "shared" / "corpora"

#: Schema version -> the newest commit whose code writes it.
VERSIONS = {
    1: "b12e1ff37e32b188827303b2fc2641345b7cc2bd",  # writer: string paths ...
    2: "4ba2d4f23fe17a05cc1fb5b1eb4c48c8c489a181",  # config: site.targets ...
    3: "607c3021f09a2890b4d9b57e07c89dd014160f4c",  # tests/site: the corpus site ...
    4: "6b3f083366f0dd595031b3634343ca6d51500f08",  # tidy: State._ready ...
}

#: The runs' pinned clock (the migration test runs at T2 plus a little).
T1 = datetime.fromisoformat("2026-11-20T08:00:00+00:00")
T2 = T1 + timedelta(hours=1)

#: fixture file name -> corpus file.
FEEDS = {
    "acfun.xml": "rsshub-zh/erciyuan__acfun__fanju.xml",
    "bangumi.xml": "rsshub-zh/erciyuan__bangumi__fangsong-liebiao.xml",
    "199it.xml": "rsshub-zh/xinmeiti__199it__shouye-gengxin.xml",
    "oschina.xml": "rsshub-zh/biancheng__oschina__zixun.xml",
    "lasheen.xml": "realworld/feeds/4a2ba0da373bbd85",
    "tarantsov.xml": "realworld/feeds/aeab967f9a8b22b7",
    "sample.json": "realworld/with-expected/json_feed_sample.json",
}

#: The file whose first run sees it without its newest items (then pruned ones).
SHORTENED, DROPPED = "lasheen.xml", 3

FEEDS_YAML = """\
defaults:
  items_per_feed: 15
feeds:
  二次元:
    AcFun:
      番剧: {path: feeds/acfun.xml}
    Bangumi:
      放送列表: {path: feeds/bangumi.xml}
  新媒体:
    199IT:
      首页更新: {path: feeds/199it.xml}
  编程:
    开源中国:
      资讯: {path: feeds/oschina.xml, items_per_feed: 4}
  Blogs:
    Lasheen:
      posts: {path: feeds/lasheen.xml, items_per_feed: 6, keep: 4}
    Zoocoding:
      posts: {path: feeds/tarantsov.xml, items_per_feed: 5}
    Example:
      JSON Feed: {path: feeds/sample.json}
"""


def config_text(version: int) -> str:
    site = "site:\n  hexo_root: ./blog\n  timezone: Asia/Shanghai\n"
    if version >= 3:
        site += "  targets: [hexo, native]\n"
        site += "native:\n  out: ./_site\n  title: feedsite fixture\n"
        if version == 3:
            # Schema 3's search ran Pagefind (the pagefind[extended] package), which this
            # virtualenv does not have; schema 4 replaced it with feedsite's own index.
            site += "  search: false\n"
    return site + FEEDS_YAML


def shortened(data: bytes, drop: int) -> bytes:
    """The RSS document without its first ``drop`` items."""
    text = data.decode("utf-8")
    for _ in range(drop):
        text = re.sub(r"\s*<item>.*?</item>", "", text, count=1, flags=re.S)
    return text.encode("utf-8")


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def feedsite(wt: Path, project: Path, now: datetime | None, *args: str) -> str:
    """Run one ``feedsite`` command of the worktree's code in ``project``."""
    env = {**os.environ, "PYTHONPATH": str(wt / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("FEEDSITE_TEST_NOW", None)
    if now is not None:
        env["FEEDSITE_TEST_NOW"] = now.isoformat()
        env["FEEDSITE_TEST_SEED"] = "1"
    code = "import sys; from feedsite.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=project, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"feedsite {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def run_v1(wt: Path, project: Path, now: datetime) -> str:
    """Schema 1's ``feedsite run`` with a pinned clock: its Python API (no env hook yet)."""
    env = {**os.environ, "PYTHONPATH": str(wt / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    code = (
        "import json, sys\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from feedsite._run import run\n"
        "from feedsite.config import load_config\n"
        "r = run(load_config(Path('feedsite.yaml')), now=datetime.fromisoformat(sys.argv[1]))\n"
        "print(json.dumps(r.counts()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, now.isoformat()],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"schema 1 run failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def which_code(wt: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(wt / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", "import feedsite; print(feedsite.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def make(version: int, rev: str, scratch: Path) -> Path:
    wt = scratch / f"wt-v{version}"
    git("worktree", "add", "--detach", str(wt), rev)
    try:
        if not which_code(wt).startswith(str(wt)):
            raise SystemExit(f"{wt}/src is not the feedsite that Python imports")
        project = scratch / f"v{version}"
        (project / "feeds").mkdir(parents=True)
        (project / "feedsite.yaml").write_text(config_text(version), encoding="utf-8")
        for name, source in FEEDS.items():
            shutil.copyfile(CORPORA / source, project / "feeds" / name)
        full = (project / "feeds" / SHORTENED).read_bytes()
        (project / "feeds" / SHORTENED).write_bytes(shortened(full, DROPPED))

        log = []
        if version == 1:
            log.append(run_v1(wt, project, T1))
        else:
            log.append(feedsite(wt, project, T1, "run", "--json"))
        (project / "feeds" / SHORTENED).write_bytes(full)
        if version == 1:
            log.append(run_v1(wt, project, T2))
        else:
            log.append(feedsite(wt, project, T2, "run", "--json"))
        state = project / ".feedsite" / "state.sqlite"
        removed = _an_acfun_item(state)
        log.append(feedsite(wt, project, T2 if version > 1 else None, "remove", removed))
        if version >= 3:
            log.append(feedsite(wt, project, T2, "build", "--target", "native"))

        with sqlite3.connect(state) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            got = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.close()
        if got != version:
            raise SystemExit(f"{rev} wrote schema {got}, expected {version}")
        for extra in (".feedsite/state.sqlite-wal", ".feedsite/state.sqlite-shm"):
            (project / extra).unlink(missing_ok=True)
        for line in log:
            print(f"  v{version}: {_brief(line)}")
        return _pack(version, project)
    finally:
        git("worktree", "remove", "--force", str(wt))


def _brief(output: str) -> str:
    """A command's output in one line (a run's --json summary: its post counts)."""
    text = output.strip()
    if text.startswith("{"):
        counts = json.loads(text)
        return "run: " + ", ".join(f"{k} {v}" for k, v in counts.items() if k.startswith("posts_"))
    return " / ".join(text.splitlines())


def _an_acfun_item(state: Path) -> str:
    """The id of the newest live AcFun item (the one ``feedsite remove`` takes down)."""
    key = json.dumps(["二次元", "AcFun", "番剧"], ensure_ascii=False)
    with sqlite3.connect(state) as conn:
        row = conn.execute(
            "SELECT item_id FROM items WHERE feed_key = ? AND status = 'live' ORDER BY seq LIMIT 1",
            (key,),
        ).fetchone()
    conn.close()
    return str(row[0])


def _pack(version: int, project: Path) -> Path:
    keep = ["feedsite.yaml", "feeds", ".feedsite/state.sqlite", "blog/source/_posts"]
    if version >= 3:
        keep.append("_site")
    out = HERE / f"v{version}.tar.gz"
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in keep:
            path = project / name
            if path.is_dir():
                members = sorted(p for p in path.rglob("*"))
                tar.add(path, arcname=name, recursive=False)
                for p in members:
                    tar.add(p, arcname=p.relative_to(project).as_posix(), recursive=False)
            else:
                tar.add(path, arcname=name)
    return out


def main(argv: list[str]) -> int:
    wanted = [int(a) for a in argv] or sorted(VERSIONS)
    with tempfile.TemporaryDirectory(prefix="feedsite-states-") as tmp:
        for version in wanted:
            out = make(version, VERSIONS[version], Path(tmp))
            print(f"wrote {out.relative_to(REPO)} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
