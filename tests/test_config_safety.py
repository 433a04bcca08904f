"""Config safety (issue #10 rows 9 and 11) and ``run --dry-run`` creating nothing.

Row 9: a path that depends on an unset ``${VAR}`` is refused at load time, before any
command creates a file. Row 11: YAML alias bombs and huge configs are refused quickly,
in little memory. A dry run reads a copy of the state and leaves the tree as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from feedsite.cli import main
from feedsite.config import MAX_FEEDS, MAX_VALUES, parse_config
from feedsite.errors import ConfigError
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response

FILE = Path("/cfg/feedsite.yaml")

#: Runs the CLI in this process, then reports its time and peak RSS (``VmHWM`` is the
#: process's own high-water mark; ``getrusage(RUSAGE_CHILDREN)`` would start at the
#: RSS of this pytest process, which the child inherits before ``exec``).
_MEASURED = """\
import sys, time
from feedsite.cli import main
started = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - started
with open("/proc/self/status") as f:
    hwm = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
print(f"MEASURED {seconds:.3f} {hwm}", file=sys.stderr)
sys.exit(code)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("UNSET", "EMPTY")}
    return {**env, "NO_COLOR": "1", "COLUMNS": "500"}


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env or _env(),
    )
    return proc.returncode, proc.stdout, proc.stderr


def _measured(cwd: Path, *args: str) -> tuple[int, str, float, int]:
    """Run the CLI in a child capped at 2 GiB of address space: exit code, stderr,
    seconds inside ``main`` and peak RSS in KiB (the old code needed 7.9 GB)."""

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    try:
        proc = subprocess.run(
            [sys.executable, "-c", _MEASURED, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(),
            preexec_fn=cap,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"feedsite {' '.join(args)} ran for more than 120 s")
    last = proc.stderr.strip().splitlines()[-1].split()
    assert last[0] == "MEASURED", proc.stderr[-2000:]
    return proc.returncode, proc.stderr, float(last[1]), int(last[2])


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every path under ``root``: file bytes, link targets, "<dir>" for folders."""
    out: dict[str, bytes | str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            elif path.is_dir():
                out[rel] = "<dir>"
            else:
                out[rel] = path.read_bytes()
    return out


# -- row 9: an unset variable in a path -------------------------------------------------------

PATH_KEYS = {
    "site.hexo_root": 'site:\n  hexo_root: "${UNSET}/blog"\n  timezone: UTC\n',
    "state.path": 'state:\n  path: "${UNSET}/.feedsite/state.sqlite"\nsite: {timezone: UTC}\n',
    "native.out": 'native:\n  out: "${UNSET}/site"\nsite: {timezone: UTC, targets: [native]}\n',
}
FEEDS = "feeds:\n  c:\n    s:\n      f: https://example.invalid/feed.xml\n"


@pytest.mark.parametrize("key", PATH_KEYS)
@pytest.mark.parametrize(
    "command", [("run",), ("run", "--dry-run"), ("check",), ("build",)], ids=" ".join
)
def test_unset_variable_in_a_path_exits_2_and_creates_nothing(
    tmp_path: Path, key: str, command: tuple[str, ...]
) -> None:
    """issue #10 row 9: ``hexo_root: "${UNSET}/blog"`` (also state.path, native.out) used to
    warn, then write posts and state under ``/``; now exit 2 before anything is created."""
    (tmp_path / "feedsite.yaml").write_text(PATH_KEYS[key] + FEEDS, encoding="utf-8")
    root_before = sorted(os.listdir("/"))
    tree_before = _tree(tmp_path)
    code, _out, err = _cli(tmp_path, *command, "-c", "feedsite.yaml")
    assert code == 2, err
    assert f"line 2, at {key}:" in err
    assert "environment variable UNSET is not set" in err
    assert sorted(os.listdir("/")) == root_before
    assert _tree(tmp_path) == tree_before


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("native: {templates: '${UNSET}/tpl'}\n" + FEEDS, "native.templates", 1),
        ("feeds: {c: {s: {f: {path: '${UNSET}/feed.xml'}}}}\n", "feeds.c.s.f.path", 1),
        ("feeds: {c: {s: {f: {url: 'file://${UNSET}/feed.xml'}}}}\n", "feeds.c.s.f.url", 1),
        ("feeds: {c: {s: {f: 'file://${UNSET}/feed.xml'}}}\n", "feeds.c.s.f", 1),
        ("site:\n  hexo_root: ${UNSET}\n" + FEEDS, "site.hexo_root", 2),
    ],
    ids=["templates", "feed-path", "feed-file-url", "feed-file-url-short", "whole-path"],
)
def test_unset_variable_in_any_file_or_folder_key_is_an_error(
    text: str, key: str, line: int
) -> None:
    """issue #10 row 9: every key naming a file or folder refuses an unset variable."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, file=FILE, environ={})
    assert (info.value.key_path, info.value.line) == (key, line)
    assert "environment variable UNSET is not set" in str(info.value)


def test_empty_variable_in_a_path_is_an_error_and_a_default_is_fine() -> None:
    """issue #10 row 9: a variable set but empty is as bad as an unset one in a path."""
    text = 'site: {hexo_root: "${EMPTY}/blog"}\n' + FEEDS
    with pytest.raises(ConfigError) as info:
        parse_config(text, file=FILE, environ={"EMPTY": ""})
    assert info.value.key_path == "site.hexo_root"
    assert "EMPTY is empty" in str(info.value)
    text = 'site: {hexo_root: "${EMPTY:-/srv}/blog"}\n' + FEEDS
    config = parse_config(text, file=FILE, environ={"EMPTY": ""})
    assert config.site.hexo_root == Path("/srv/blog")
    config = parse_config(text, file=FILE, environ={"EMPTY": "/home/me"})
    assert config.site.hexo_root == Path("/home/me/blog")


def test_unset_access_key_stays_a_warning() -> None:
    """An unset ``rsshub.access_key`` variable means "no key": a warning, not an error."""
    text = (
        "rsshub:\n  instances: [https://rsshub.example.org]\n  access_key: ${UNSET}\n"
        "feeds: {c: {s: {f: /route}}}\n"
    )
    config = parse_config(text, file=FILE, environ={})
    assert config.rsshub.access_key is None
    assert any("UNSET is not set" in w and "rsshub.access_key" in w for w in config.warnings)


# -- row 11: alias bombs and huge configs -------------------------------------------------------


def _alias_bomb() -> str:
    """The issue's shape: 100 categories × 100 sites × 100 feeds, each level an alias."""
    lines = ["site: {timezone: UTC}", "rsshub: {instances: [https://rsshub.example.org]}"]
    lines += ["feeds:", "  c0: &c0", "    s0: &s0"]
    lines += [f"      f{i}: /r/{i}" for i in range(100)]
    lines += [f"    s{i}: *s0" for i in range(1, 100)]
    lines += [f"  c{i}: *c0" for i in range(1, 100)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_in_under_a_second_and_100_mb(tmp_path: Path) -> None:
    """issue #10 row 11: a ~6 KB config of aliases (100 × 100 × 100) made ``check`` use
    7.9 GB; it is refused at the alias that crosses the bound, without expanding it."""
    text = _alias_bomb()
    assert len(text) < 6000
    (tmp_path / "bomb.yaml").write_text(text, encoding="utf-8")
    code, err, seconds, peak_kib = _measured(tmp_path, "check", "-c", "bomb.yaml")
    assert code == 2, err[-2000:]
    assert "this alias copies" in err and f"{MAX_VALUES:,}" in err
    assert seconds < 1.0
    assert peak_kib < 100 * 1024


def test_alias_bomb_error_names_the_alias_line() -> None:
    """issue #10 row 11: the error points at the alias that crossed the bound."""
    text = _alias_bomb()
    with pytest.raises(ConfigError) as info:
        parse_config(text, file=FILE, environ={})
    err = info.value
    assert err.line is not None
    written = text.splitlines()[err.line - 1]
    assert written.strip() == f"{err.key_path.removeprefix('feeds.')}: *c0"


def test_aliases_within_the_bound_still_work() -> None:
    """Aliases are fine in moderation: 10 × 10 × 10 feeds through aliases load."""
    lines = ["site: {timezone: UTC}", "rsshub: {instances: [https://rsshub.example.org]}"]
    lines += ["feeds:", "  c0: &c0", "    s0: &s0"]
    lines += [f"      f{i}: {{route: /r/{i}, keep: 3}}" for i in range(10)]
    lines += [f"    s{i}: *s0" for i in range(1, 10)]
    lines += [f"  c{i}: *c0" for i in range(1, 10)]
    config = parse_config("\n".join(lines) + "\n", file=FILE, environ={})
    assert len(config.feeds) == 1000
    assert config.feeds[-1].key_path == "feeds.c9.s9.f9"


def _explicit(n: int) -> str:
    lines = ["site: {timezone: UTC}", "rsshub: {instances: [https://rsshub.example.org]}"]
    lines += ["feeds:", "  c:", "    s:"]
    lines += [f"      f{i}: /r/{i}" for i in range(n)]
    return "\n".join(lines) + "\n"


def test_100k_feed_config_is_refused_fast_with_the_feeds_limit(tmp_path: Path) -> None:
    """issue #10 row 11: an explicit 100,000-feed config took 3 GB and 59 s; it is refused
    with the feeds-limit error, naming the first feed too many."""
    (tmp_path / "big.yaml").write_text(_explicit(100_000), encoding="utf-8")
    code, err, seconds, peak_kib = _measured(tmp_path, "check", "-c", "big.yaml")
    assert code == 2, err[-2000:]
    first_too_many = MAX_FEEDS + 6  # feeds start on line 6
    assert f"line {first_too_many}, at feeds.c.s.f{MAX_FEEDS}: too many feeds" in err
    assert seconds < 10.0
    assert peak_kib < 400 * 1024


def test_exactly_max_feeds_load() -> None:
    """The limit is inclusive: MAX_FEEDS feeds load; one more is refused."""
    config = parse_config(_explicit(MAX_FEEDS), file=FILE, environ={})
    assert len(config.feeds) == MAX_FEEDS
    with pytest.raises(ConfigError, match="too many feeds"):
        parse_config(_explicit(MAX_FEEDS + 1), file=FILE, environ={})


# -- run --dry-run creates nothing ---------------------------------------------------------------


@pytest.fixture
def one_feed(feed_server: FeedServer, tmp_path: Path) -> Callable[[list[Entry]], Path]:
    def make(entries: list[Entry]) -> Path:
        feed_server.route("/feed", Response.rss(rss(entries)))
        config = tmp_path / "project" / "feedsite.yaml"
        config.parent.mkdir(exist_ok=True)
        config.write_text(
            textwrap.dedent(
                f"""\
                site: {{hexo_root: ./blog, timezone: UTC}}
                feeds:
                  c:
                    s:
                      f: {{url: {feed_server.url("/feed")}}}
                """
            ),
            encoding="utf-8",
        )
        return config

    return make


def test_dry_run_on_a_fresh_project_creates_nothing(
    one_feed: Callable[[list[Entry]], Path],
) -> None:
    """A dry run used to create the state folder, the state and the lock file."""
    config = one_feed([Entry("a", "A")])
    before = _tree(config.parent)
    code, out, err = _cli(config.parent, "run", "--dry-run", "--json", "-c", "feedsite.yaml")
    assert code == 0, err
    assert '"posts_new": 1' in out  # it did fetch and decide
    assert _tree(config.parent) == before


def test_dry_run_on_an_existing_state_changes_nothing(
    one_feed: Callable[[list[Entry]], Path],
) -> None:
    """With a state and posts, a dry run leaves every byte (state, lock, posts) as it was."""
    config = one_feed([Entry("a", "A")])
    assert main(["run", "-c", str(config)]) == 0
    assert (config.parent / ".feedsite" / "state.sqlite").is_file()
    one_feed([Entry("b", "B"), Entry("a", "A")])
    before = _tree(config.parent)
    time.sleep(0.01)  # a rewrite would change bytes (the lock holds the pid) or add files
    code, out, err = _cli(config.parent, "run", "--dry-run", "--json", "-c", "feedsite.yaml")
    assert code == 0, err
    assert '"posts_new": 1' in out and '"posts_unchanged": 1' in out
    assert _tree(config.parent) == before
