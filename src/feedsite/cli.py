"""The ``feedsite`` command line.

Exit codes: 0 at least one feed succeeded (or nothing to do); 1 every feed
failed (with ``--strict``: any feed failed); 2 config or usage error;
3 another run holds the lock.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from feedsite import __version__
from feedsite._url import redact
from feedsite.config import Config, load_config
from feedsite.errors import ConfigError, FeedsiteError, LockedError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from feedsite._run import RunResult
    from feedsite._run._build import TargetBuild
    from feedsite._run._images import ImageReport
    from feedsite._run._rules import RuleEffect

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
#: A target build failed (``feedsite build``, or ``run --build`` after its ingest).
EXIT_BUILD = 4
#: A second SIGINT/SIGTERM stopped a command at once (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

#: Terminal escape sequences: CSI (``ESC [ … final``), OSC/DCS/SOS/PM/APC strings (ended by
#: BEL or ``ESC \\``, or running to the end) and two-character escapes. Feeds and servers
#: put them in titles and error pages (issue #10 row 7).
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -~]?)")
#: C0 controls but tab and newline, DEL, C1 controls (``\x9b`` is an 8-bit CSI), the
#: bidi overrides and isolates that reorder what a terminal shows, and lone surrogates
#: (they cannot be encoded: printing one raised UnicodeEncodeError, issue #10 row 4).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _clean(text: object) -> str:
    """``text`` fit for a terminal or a log: secrets redacted, escape sequences and control
    characters removed. Everything from feeds, servers, the state or paths passes here."""
    value = redact(str(text))
    if "\x1b" in value:
        value = _ESCAPES.sub("", value)
    return _CONTROLS.sub("", value)


def _plain(text: object, style: str = "") -> Text:
    """``text`` cleaned (:func:`_clean`) as a rich ``Text``: never parsed as markup, so
    ``[/bogus]`` or ``[link=…]`` from a feed prints as it is."""
    from rich.text import Text

    return Text(_clean(text), style=style)


def _say(console: Console, label: str, style: str, *parts: object) -> None:
    """Print ``label`` in ``style``, then the untrusted ``parts`` as plain text."""
    from rich.text import Text

    line = Text(label, style=style)
    for part in parts:
        line.append_text(_plain(part))
    console.print(line, highlight=False)


def _scrub(value: Any) -> Any:
    """A JSON value with every string cleaned (:func:`_clean`): ``--json`` output is read
    in terminals and CI logs too (JSON escapes C0 controls but not C1 ones)."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedsite",
        description="Turn a tree of RSS/Atom/JSON feeds into a news site.",
    )
    parser.add_argument("--version", action="version", version=f"feedsite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-c",
            "--config",
            default="feedsite.yaml",
            type=Path,
            help="config file (default: ./feedsite.yaml)",
        )

    def with_pins(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--now",
            type=_instant,
            metavar="TIME",
            help="the run's time, ISO 8601 with an offset (default: the clock);"
            " with --seed, makes a run repeatable (replays, tests)",
        )
        p.add_argument("--seed", type=int, metavar="N", help="seed of the retry and backoff jitter")

    run = sub.add_parser("run", help="fetch every feed and write posts")
    with_config(run)
    run.add_argument("--dry-run", action="store_true", help="write neither files nor state")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    run.add_argument("--strict", action="store_true", help="exit 1 if any feed failed")
    run.add_argument(
        "--max-time",
        type=_seconds,
        metavar="SECONDS",
        help="start no new feed after this many seconds (e.g. 600, 10m); the rest wait",
    )
    with_pins(run)

    run.add_argument(
        "--build", action="store_true", help="build the configured targets after ingesting"
    )
    run.add_argument(
        "--target",
        choices=("hexo", "native"),
        help="with --build: the output to build (default: site.targets)",
    )

    watch = sub.add_parser(
        "watch", help="keep running: fetch each feed when it is due, rebuild the targets"
    )
    with_config(watch)
    watch.add_argument(
        "--json", action="store_true", help="print each turn's summary as one line of JSON"
    )

    init = sub.add_parser("init", help="create a ready project (config, site, workflow)")
    init.add_argument("dir", nargs="?", default=".", type=Path, help="folder (default: .)")
    init.add_argument(
        "--target",
        choices=("hexo", "native"),
        default="hexo",
        help="hexo: a Hexo 8 + Volantis site (default); native: feedsite's own site",
    )
    init.add_argument("--force", action="store_true", help="overwrite files that exist")

    build = sub.add_parser("build", help="build the site from the state (no fetching)")
    with_config(build)
    build.add_argument(
        "--target", choices=("hexo", "native"), help="the output to build (default: site.targets)"
    )
    build.add_argument("--out", type=Path, help="output folder of the native site")

    serve = sub.add_parser("serve", help="preview the native site on 127.0.0.1")
    with_config(serve)
    serve.add_argument("--out", type=Path, help="the folder to serve (default: native.out)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any)")

    check = sub.add_parser("check", help="validate the config and list the feed tree")
    with_config(check)
    check.add_argument("--json", action="store_true", help="print the tree as JSON")
    check.add_argument(
        "--lock",
        action="store_true",
        help="pin the names of routes listed without them in feedsite.lock (commit it)",
    )
    check.add_argument(
        "--offline", action="store_true", help="use the stored route catalog, ask no instance"
    )
    with_pins(check)

    routes = sub.add_parser("routes", help="search the RSSHub route catalog")
    with_config(routes)
    routes.add_argument("query", nargs="*", help="words (Chinese or English): name, site, path")
    routes.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    routes.add_argument("--json", action="store_true", help="print the routes as JSON")
    routes.add_argument(
        "--refresh", action="store_true", help="ask the instance even if the copy is young"
    )

    add = sub.add_parser("add", help="add a feed to feedsite.yaml: a route, a site URL, a feed")
    with_config(add)
    add.add_argument("target", metavar="ROUTE|URL", help="/guancha/headline, or a web address")
    add.add_argument("--category", help="the category name (default: from the catalog)")
    add.add_argument("--site", help="the site name (default: from the catalog)")
    add.add_argument("--feed", help="the feed name (default: from the catalog)")
    add.add_argument(
        "--pick", type=int, metavar="N", help="when several routes serve the URL: take the Nth"
    )

    opml = sub.add_parser("import-opml", help="add the feeds of an OPML file to feedsite.yaml")
    with_config(opml)
    opml.add_argument("file", type=Path, metavar="FILE", help="the OPML file")
    opml.add_argument("--category", help="the category of feeds outside any folder (default: 导入)")

    status = sub.add_parser("status", help="list feeds: last success, errors, next attempt")
    with_config(status)
    status.add_argument("--json", action="store_true", help="print the table as JSON")
    status.add_argument("--failing", action="store_true", help="only feeds whose last try failed")
    status.add_argument(
        "--images", action="store_true", help="the images instead: on disk, failed by host"
    )

    remove = sub.add_parser("remove", help="take a post down for good (tombstone its item)")
    with_config(remove)
    remove.add_argument("item_id", metavar="ID", help="the item id (the post's file name)")

    extract = sub.add_parser(
        "extract", help="print the article feedsite takes from a page (for tuning fulltext:)"
    )
    extract.add_argument("page", metavar="FILE_OR_URL", help="an HTML file, or an http(s) URL")
    extract.add_argument(
        "--url", help="the page's address (a file's relative links are resolved against it)"
    )
    extract.add_argument("--text", action="store_true", help="plain text instead of HTML")
    extract.add_argument(
        "--selector", metavar="CSS", help="take this element, as a fulltext: selector does"
    )

    rules = sub.add_parser(
        "rules", help="apply the rules to the posts there are, no fetching (preview: --dry-run)"
    )
    with_config(rules)
    rules.add_argument(
        "--dry-run", action="store_true", help="list what each rule would hide, restore, rewrite"
    )
    rules.add_argument("--json", action="store_true", help="print the effects as JSON")
    with_pins(rules)

    stories = sub.add_parser(
        "stories", help="list the stories: items of several feeds that report the same event"
    )
    with_config(stories)
    stories.add_argument("--json", action="store_true", help="print the stories as JSON")
    stories.add_argument(
        "--since",
        type=_seconds,
        metavar="TIME",
        help="only stories with a report in this time before now (e.g. 24h, 90m)",
    )
    stories.add_argument(
        "--now", type=_instant, metavar="TIME", help="the time --since counts back from"
    )

    adopt = sub.add_parser("adopt", help="take over the posts of the old GitHub Actions script")
    with_config(adopt)
    adopt.add_argument(
        "--posts", type=Path, help="folder of the old posts (default: <hexo_root>/source/_posts)"
    )
    adopt.add_argument("--dry-run", action="store_true", help="write neither files nor state")
    adopt.add_argument("--json", action="store_true", help="print the result as one JSON object")
    with_pins(adopt)
    return parser


class _LazyConsole:
    """A rich Console created on first use."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def real(self) -> Console:
        """The Console itself, for rich objects that take one (a ``Progress`` enters it as
        a context manager, which attribute forwarding cannot give: Python looks
        ``__enter__`` up on the class)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


def _seconds(text: str) -> float:
    """``--max-time`` and ``--since`` values: seconds, or a number with s/m/h/d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1)
    try:
        value = float(number) * unit
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds (600) or 10m / 1h / 2d, got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive time, got {text!r}")
    return value


def _instant(text: str) -> datetime:
    """``--now`` values: ISO 8601 with an offset (``2026-12-04T08:00:00+08:00``)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 time, got {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the time's offset (+00:00, Z): {text!r}")
    return value.astimezone(UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``feedsite`` script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    # rich is imported on first use, not at start: `feedsite run --json` from cron
    # should not pay for it (startup is part of every run).
    out = cast("Console", _LazyConsole(stderr=False))
    err = cast("Console", _LazyConsole(stderr=True))
    if args.command == "init":  # the one command without a config: it writes one
        return _cmd_init(args, out, err)
    if args.command == "extract":  # a page, not a site: no config either
        return _cmd_extract(args, out, err)
    try:
        if args.command in ("routes", "add", "import-opml"):
            return _cmd_catalog(args, out, err)
        config = _load(args, err)
    except ConfigError as e:
        _say(err, "config error: ", "bold red", e)
        return EXIT_USAGE
    except FeedsiteError as e:
        _say(err, "error: ", "bold red", e)
        # what `add` or `import-opml` was given cannot be added: a usage error, as a config's
        return EXIT_USAGE if args.command in ("add", "import-opml") else EXIT_FAILED
    try:
        if args.command == "run":
            return _cmd_run(config, args, out, err)
        if args.command == "watch":
            return _cmd_watch(config, args, out, err)
        if args.command == "check":
            return _cmd_check(config, args, out, err)
        if args.command == "remove":
            return _cmd_remove(config, args.item_id, out, err)
        if args.command == "adopt":
            return _cmd_adopt(config, args, out, err)
        if args.command == "rules":
            return _cmd_rules(config, args, out)
        if args.command == "status":
            return _cmd_status(config, args, out)
        if args.command == "stories":
            return _cmd_stories(config, args, out)
        if args.command == "build":
            targets = (args.target,) if args.target else config.site.targets
            return _cmd_build(config, targets, args.out, out, err)
        if args.command == "serve":
            return _cmd_serve(config, args.out, args.port, out)
    except LockedError as e:
        _say(err, "locked: ", "bold red", e)
        return EXIT_LOCKED
    except FeedsiteError as e:
        _say(err, "error: ", "bold red", e)
        return EXIT_FAILED
    except KeyboardInterrupt:  # a second Ctrl-C (or SIGTERM): stopped at once, on purpose
        _say(err, "interrupted: ", "yellow", "stopped at once; the next run settles the rest")
        return EXIT_INTERRUPTED
    parser.error(f"unknown command {args.command}")  # pragma: no cover
    return EXIT_USAGE  # pragma: no cover


def _now(args: argparse.Namespace) -> datetime:
    now = getattr(args, "now", None)
    return now if isinstance(now, datetime) else datetime.now(UTC)


def _load(args: argparse.Namespace, err: Console) -> Config:
    """The config, its routes listed without names named (lock file, then the catalog)."""
    from feedsite._run._catalog import load_named, unpinned_warning

    if args.command == "check" and args.lock:
        return load_config(args.config)  # _cmd_check names and pins
    offline = args.command in ("build", "serve", "status", "remove", "stories") or (
        args.command == "check" and args.offline
    )
    named = load_named(Path(args.config), _now(args), offline=offline)
    warning = unpinned_warning(named)
    if warning is not None:
        _say(err, "warning: ", "yellow", warning)
    return named.config


def _cmd_catalog(args: argparse.Namespace, out: Console, err: Console) -> int:
    """``routes``, ``add`` and ``import-opml``: the config is read, the catalog used."""
    from feedsite._run._add import Choices, add_feed, import_opml
    from feedsite._run._catalog import catalog_for

    path = Path(args.config)
    if args.command == "import-opml":
        added = import_opml(path, args.file, args.category)
        for cat, site, feed, value in added.feeds:
            out.print(_plain(f"added {cat} › {site} › {feed}: {value}"), highlight=False)
        for what, why in added.skipped:
            out.print(_plain(f"skipped {what}: {why}", "dim"), highlight=False)
        out.print(_plain(f"{len(added.feeds)} added, {len(added.skipped)} skipped"))
        return EXIT_OK
    if args.command == "add":
        got = add_feed(
            path,
            args.target,
            _now(args),
            category=args.category,
            site=args.site,
            feed=args.feed,
            pick=args.pick,
        )
        if isinstance(got, Choices):
            _say(
                err, "choose: ", "yellow", f"several routes serve {got.url}; add one with --pick N"
            )
            for i, (route, names) in enumerate(got.routes, 1):
                out.print(_plain(f"  {i}. {route}  ({' › '.join(names)})"), highlight=False)
            return EXIT_FAILED
        for cat, site, feed, value in got.feeds:
            out.print(
                _plain(f"added {cat} › {site} › {feed}: {value}  (names: {got.how})"),
                highlight=False,
            )
        return EXIT_OK
    config = load_config(path)
    load = catalog_for(config, _now(args), refresh=args.refresh)
    if load.note:
        _say(err, "warning: ", "yellow", load.note)
    if load.catalog is None:
        _say(err, "error: ", "bold red", "no route catalog")
        return EXIT_FAILED
    found = load.catalog.search(" ".join(args.query), args.limit) if args.query else []
    if not args.query:
        found = list(load.catalog.routes())[: args.limit]
    rows: list[dict[str, Any]] = []
    for r in found:
        ns = load.catalog.namespaces.get(r.namespace)
        cat = load.catalog.category_label(
            r.categories[0] if r.categories else "other", config.site.language
        )
        warn = [f for f in ("requireConfig", "requirePuppeteer", "antiCrawler") if f in r.features]
        rows.append(
            {
                "route": r.pattern,
                "names": [
                    cat,
                    ns.localized_name(config.site.language) if ns else r.namespace,
                    r.localized_name(config.site.language),
                ],
                "example": r.example,
                "parameters": dict(r.parameters),
                "warnings": warn,
            }
        )
    if args.json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return EXIT_OK
    for row in rows:
        out.print(_plain(f"{row['route']}  {' › '.join(row['names'])}"), highlight=False)
        if row["example"]:
            out.print(_plain(f"    example: {row['example']}", "dim"), highlight=False)
        for name, about in row["parameters"].items():
            out.print(
                _plain(f"    :{name}  {about.splitlines()[0] if about else ''}", "dim"),
                highlight=False,
            )
        for w in row["warnings"]:
            out.print(_plain(f"    warning: {w}", "yellow"), highlight=False)
    out.print(_plain(f"{len(rows)} route(s) from {load.source}", "dim"), highlight=False)
    return EXIT_OK if rows else EXIT_FAILED


def _cmd_run(config: Config, args: argparse.Namespace, out: Console, err: Console) -> int:
    from feedsite._run import run

    now, seed = args.now, args.seed
    if args.json or not sys.stderr.isatty():
        # No bar: cron and --json runs should not even import rich's progress.
        result = run(
            config,
            dry_run=args.dry_run,
            now=now,
            seed=seed,
            max_time=args.max_time,
            preview=args.dry_run,
        )
    else:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err.real() if isinstance(err, _LazyConsole) else err,
            transient=True,
        )
        with progress:
            task = progress.add_task("fetching feeds", total=len(config.feeds))
            result = run(
                config,
                dry_run=args.dry_run,
                now=now,
                seed=seed,
                max_time=args.max_time,
                on_feed_done=lambda _k: progress.advance(task),
                preview=args.dry_run,
            )
    counts = result.counts()
    build_code = EXIT_OK
    if args.build and not args.dry_run:
        targets = (args.target,) if args.target else config.site.targets
        try:
            build_code = _cmd_build(config, targets, None, err, err)
        except LockedError as e:  # another run took the state since: the ingest stands
            _say(err, "build: locked: ", "bold red", e)
            build_code = EXIT_LOCKED
        except FeedsiteError as e:
            _say(err, "build failed: ", "bold red", e)
            build_code = EXIT_BUILD
    if args.json:
        sys.stdout.write(json.dumps(_scrub(result.to_json()), ensure_ascii=False, indent=1) + "\n")
    else:
        _print_summary(result, out, err)
        _print_effects(result.rule_effects, out)
    attempted = counts.feeds_ok + counts.feeds_not_modified + counts.feeds_failed
    if counts.feeds_failed and (args.strict or counts.feeds_failed == attempted):
        return EXIT_FAILED
    return build_code


def _print_summary(result: RunResult, out: Console, err: Console) -> None:
    from rich.table import Table

    for w in result.warnings:
        _say(err, "warning: ", "yellow", w)
    for message in result.item_errors:
        _say(err, "item failed: ", "red", message)
    for r in result.decision.reports:
        if r.status == "failed":
            _say(err, "failed: ", "red", r.label, ": ", r.error)
        for path in r.posts.edited:
            _say(err, "edited by hand, left alone: ", "yellow", path, f" ({r.label})")
    skipped = [r for r in result.decision.reports if r.status in ("skipped", "deferred")]
    for r in skipped:
        _say(err, f"{r.status}: ", "yellow", r.label, ": ", r.error)
    if result.stopped_by:
        err.print(
            f"[yellow]stopped by {result.stopped_by}:[/] feeds in flight were abandoned whole;"
            f" {len(skipped)} feed(s) left for the next run",
            highlight=False,
        )
    for label, n in result.removed_feeds:
        _say(err, "feed removed from the config: ", "yellow", label, f": {n} post(s) deleted")
    c = result.counts()
    table = Table(title="feedsite run" + (" (dry run: nothing written)" if result.dry_run else ""))
    table.add_column("feeds")
    table.add_column("", justify="right")
    table.add_column("posts")
    table.add_column("", justify="right")
    rows = [
        ("ok", c.feeds_ok, "new", c.posts_new),
        ("not modified", c.feeds_not_modified, "updated", c.posts_updated),
        ("failed", c.feeds_failed, "unchanged", c.posts_unchanged),
        ("deferred / skipped", c.feeds_deferred + c.feeds_skipped, "restored", c.posts_restored),
        ("", "", "pruned", c.posts_pruned),
        ("", "", "edited (left alone)", c.posts_edited),
    ]
    if c.posts_skipped:  # site.dedupe: skip
        rows.append(("", "", "skipped (another report leads)", c.posts_skipped))
    for a, b, d, e in rows:
        table.add_row(a, str(b), d, str(e))
    table.caption = f"{result.seconds:.2f} s"
    out.print(table)
    if result.images is not None:
        _print_images(result.images, out)
    ft = result.fulltext
    if ft.fetched or ft.failed:
        failed = sum(ft.failed.values())
        line = f"full text: {ft.fetched} article pages extracted, {failed} failed"
        if ft.short:
            line += f"; {ft.short} shorter than the feed's own body (not used)"
        out.print(_plain(line))
        for why, n in sorted(ft.failed.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
            out.print(_plain(f"  article failed ×{n}: {why}", "yellow"))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _print_images(report: ImageReport, out: Console) -> None:
    """The run's images: one line, then the failures by host and reason."""
    failed = sum(report.failed.values())
    line = (
        f"images: {report.fetched} fetched, {report.reused} reused, {failed} failed,"
        f" {report.over_budget} over budget (hotlinked)"
    )
    if report.postponed:
        line += f", {report.postponed} left for the next run (image time budget)"
    line += f"; {_mb(report.bytes_on_disk)} of {_mb(report.budget)}"
    out.print(_plain(line))
    for why, n in sorted(report.failed.items(), key=lambda kv: (-kv[1], kv[0]))[:20]:
        out.print(_plain(f"  image failed ×{n}: {why}", "yellow"))


def _cmd_check(config: Config, args: argparse.Namespace, out: Console, err: Console) -> int:
    from feedsite._run import config_warnings
    from feedsite._run._catalog import (
        LOCK_NAME,
        catalog_for,
        check_warnings,
        load_named,
        read_lock,
        write_lock,
    )

    now = _now(args)
    lock_note = None
    if args.lock:
        named = load_named(config.file, now, offline=args.offline)
        pins = {**named.locked, **named.from_catalog}
        if pins:
            lock_note = (
                f"pinned the names of {len(pins)} route(s) in {write_lock(config.file, pins)}"
            )
        config = named.config
    load = None
    if any(f.route for f in config.feeds) and (
        config.rsshub.instances or config.rsshub.catalog is not None
    ):
        load = catalog_for(config, now, offline=args.offline)
    warnings = config_warnings(config) + check_warnings(config, load)
    if load is not None and load.catalog is not None:
        for key, pinned in read_lock(config.file).items():
            m = load.catalog.match(key[0].split("?", 1)[0])
            if m is None:
                continue
            now_named = load.catalog.names(m, config.site.language)
            now_named = (key[1] or now_named[0], key[2] or now_named[1], now_named[2])
            if now_named != pinned:
                warnings.append(
                    f"{key[0]}: the catalog now names it {' › '.join(now_named)}; its posts"
                    f" stay under the pinned {' › '.join(pinned)} ({LOCK_NAME})"
                )
    if lock_note:
        out.print(_plain(lock_note), highlight=False)
    for w in warnings:
        _say(err, "warning: ", "yellow", w)
    if args.json:
        out.print_json(
            json.dumps(
                _scrub(
                    {
                        "config": str(config.file),
                        "profile": config.site.profile,
                        "hexo_root": str(config.site.hexo_root),
                        "state": str(config.state_path),
                        "feeds": [
                            {
                                "category": f.category,
                                "site": f.site,
                                "feed": f.name,
                                "route": f.route,
                                "url": f.url,
                                "items_per_feed": f.items_per_feed,
                                "keep": f.keep,
                            }
                            for f in config.feeds
                        ],
                        "warnings": warnings,
                    }
                ),
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    from rich.tree import Tree

    tree = Tree(
        _plain(f"{config.file}  ({len(config.feeds)} feeds, profile {config.site.profile})")
    )
    categories: dict[str, Tree] = {}
    sites: dict[tuple[str, str], Tree] = {}
    for f in config.feeds:
        cat = categories.get(f.category) or categories.setdefault(
            f.category, tree.add(_plain(f.category))
        )
        site = sites.get((f.category, f.site)) or sites.setdefault(
            (f.category, f.site), cat.add(_plain(f.site))
        )
        site.add(_plain(f"{f.name}  ").append_text(_plain(f.route or f.url, "dim")))
    out.print(tree, highlight=False)
    return EXIT_OK


def _cmd_build(
    config: Config, targets: Sequence[str], out_dir: Path | None, out: Console, err: Console
) -> int:
    """Build each target (``_run._build``) and print what it did; :data:`EXIT_BUILD` when
    any target failed."""
    from feedsite._run._build import build

    # Hexo's lines hold post titles and paths: printed as plain, cleaned text.
    results = build(
        config, targets, out_dir, on_line=lambda line: err.out(_clean(line), highlight=False)
    )
    return _print_builds(results, out, err)


def _print_builds(results: Sequence[TargetBuild], out: Console, err: Console) -> int:
    """Print what each target's build did; :data:`EXIT_BUILD` when any failed."""
    from feedsite._run._build import BuildResult, TargetFailed

    code = EXIT_OK
    for result in results:
        if isinstance(result, TargetFailed):
            _say(err, f"{result.target} build failed: ", "bold red", result.message)
            code = EXIT_BUILD
        elif isinstance(result, BuildResult):
            for w in result.warnings:
                _say(err, "warning: ", "yellow", w)
            # written + unchanged = every page; the rest is counted apart (issue #15).
            line = (
                f"native site: {result.posts} posts; {result.written} pages written"
                f" + {result.unchanged} unchanged = {result.pages} pages,"
                f" {result.deleted} deleted"
            )
            if result.search_written or result.search_deleted:
                line += (
                    f"; search index: {result.search_written} files written,"
                    f" {result.search_deleted} deleted"
                )
            if result.images_copied or result.images_deleted:
                line += f"; images: {result.images_copied} copied, {result.images_deleted} deleted"
            line += (
                f"; {result.seconds:.2f} s (search index {result.search_seconds:.2f} s)"
                f" -> {result.out}"
            )
            out.print(_plain(line), highlight=False)
        else:
            installed = ""
            if result.installed:
                installed = f"`{' '.join(result.installed)}` {result.npm_seconds:.1f} s, "
            out.print(
                _plain(
                    f"hexo site: {result.posts} posts checked; {installed}hexo generate"
                    f" {result.hexo_seconds:.1f} s -> {result.public}"
                ),
                highlight=False,
            )
    return code


def _cmd_watch(config: Config, args: argparse.Namespace, out: Console, err: Console) -> int:
    """``feedsite watch`` (docs/watch.md): one line per turn, build and problem, until
    SIGTERM/SIGINT; SIGHUP reloads the config."""
    from feedsite._run._watch import Notice, watch

    first = [config]

    def load() -> Config:
        return first.pop() if first else _load(args, err)

    def on_notice(notice: Notice) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S ")
        if notice.result is not None:
            result = notice.result
            if args.json:
                line = json.dumps(_scrub(result.to_json()), ensure_ascii=False)
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
                return
            for r in result.decision.reports:
                if r.status == "failed":
                    _say(err, stamp + "failed: ", "red", r.label, ": ", r.error)
            for message in result.item_errors:
                _say(err, stamp + "item failed: ", "red", message)
            c = result.counts()
            out.print(
                _plain(
                    f"{stamp}{len(result.decision.reports)} feeds: {c.feeds_ok} ok,"
                    f" {c.feeds_not_modified} not modified, {c.feeds_failed} failed,"
                    f" {c.feeds_deferred + c.feeds_skipped} waiting; posts: {c.posts_new} new,"
                    f" {c.posts_updated} updated, {c.posts_pruned} pruned"
                    f" ({result.seconds:.2f} s)"
                ),
                highlight=False,
            )
        elif notice.event == "built":
            _print_builds(notice.builds, err if args.json else out, err)
        elif notice.event == "problem":
            _say(err, stamp + "problem: ", "yellow", notice.message)
        else:  # reloaded, stopped
            _say(err, stamp, "", notice.event, ": ", notice.message)
        out.file.flush()

    watch(load, on_notice)
    return EXIT_OK


def _cmd_rules(config: Config, args: argparse.Namespace, out: Console) -> int:
    from dataclasses import asdict

    from feedsite._run import run

    result = run(
        config, dry_run=args.dry_run, now=args.now, seed=args.seed, fetch=False, preview=True
    )
    if args.json:
        effects = [asdict(e) for e in result.rule_effects]
        sys.stdout.write(json.dumps(_scrub(effects), ensure_ascii=False, indent=1) + "\n")
        return EXIT_OK
    _print_effects(result.rule_effects, out)
    if not result.rule_effects:
        out.print(_plain("rules: nothing to hide, restore or rewrite"))
    elif args.dry_run:
        out.print(_plain("(dry run: nothing written; `feedsite rules` applies them)"))
    return EXIT_OK


def _cmd_stories(config: Config, args: argparse.Namespace, out: Console) -> int:
    """``feedsite stories``: the current stories of more than one report (docs/stories.md)."""
    from dataclasses import asdict

    from feedsite._run._stories import list_stories

    since = timedelta(seconds=args.since) if args.since else None
    found = list_stories(config, since=since, now=_now(args))
    if args.json:
        sys.stdout.write(
            json.dumps(_scrub([asdict(s) for s in found]), ensure_ascii=False, indent=1) + "\n"
        )
        return EXIT_OK
    for story in found:
        lead = story.members[0]
        out.print(_plain(f"{story.id}  {story.sites} 个来源 · {lead.title}", "bold"))
        for m in story.members:
            mark = "*" if m.lead else " "
            post = "" if m.has_post else "  (no post)"
            out.print(_plain(f"  {mark} {m.feed} › {m.item_id}  {m.title}{post}"))
        for a, b, why in story.links:
            out.print(_plain(f"    {why}: {a} ~ {b}", "dim"))
    out.print(_plain(f"{len(found)} stories of more than one report"))
    return EXIT_OK


def _print_effects(effects: Sequence[RuleEffect], out: Console) -> None:
    """What each rule does, rule by rule (``feedsite rules``, ``run --dry-run``)."""
    by_rule: dict[str, list[RuleEffect]] = {}
    for e in effects:
        by_rule.setdefault(e.rule, []).append(e)
    for rule, group in by_rule.items():
        out.print(_plain(f"rule {rule}: {len(group)} post(s)", "bold"))
        for e in group:
            out.print(_plain(f"  {e.action:<7} {e.feed} › {e.title} ({e.item_id})"))
            for line in e.diff.splitlines()[:40]:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                out.print(_plain(f"    {line}", style))


def _cmd_extract(args: argparse.Namespace, out: Console, err: Console) -> int:
    from feedsite._config._css import selector_problem
    from feedsite._run._fulltext import extract_page
    from feedsite.config import FetchConfig

    if args.selector is not None and (problem := selector_problem(args.selector)):
        _say(err, "usage: ", "bold red", f"--selector {args.selector!r}: {problem}")
        return EXIT_USAGE
    try:
        html, text = extract_page(
            args.page, url=args.url, selector=args.selector, fetch=FetchConfig()
        )
    except FeedsiteError as e:
        _say(err, "error: ", "bold red", e)
        return EXIT_FAILED
    sys.stdout.write((text if args.text else html).rstrip("\n") + "\n")
    return EXIT_OK


def _cmd_init(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Write a new project; refuse to overwrite files without ``--force``."""
    from feedsite._init import init_project
    from feedsite.errors import InitError

    folder: Path = args.dir
    try:
        result = init_project(folder, target=args.target, force=args.force)
    except InitError as e:
        _say(err, "init: ", "bold red", e)
        return EXIT_USAGE
    for rel in result.written:
        verb = "replaced" if rel in result.replaced else "created"
        out.print(_plain(f"{verb} {folder / rel}"), highlight=False)
    config = folder / "feedsite.yaml"
    flow = folder / ".github" / "workflows" / "feedsite.yml"
    steps = [
        f"edit {config}: your feeds (feeds); RSSHub (rsshub.instances) is $FEEDSITE_RSSHUB,"
        " else http://localhost:1200 (docker run -d -p 1200:1200 diygod/rsshub),"
        " or write your instance there",
    ]
    run = f"feedsite run -c {config} --build"
    if args.target == "hexo":
        steps.append(f"{run}   (installs the Node packages on first use, then hexo generate)")
        steps.append(f"preview: python3 -m http.server -d {folder / 'public'}")
    else:
        steps.append(run)
        steps.append(f"preview: feedsite serve -c {config}")
    variables = "Settings → Secrets and variables → Actions → Variables"
    if result.package:
        steps.append(
            f"GitHub installs {result.package}: the FEEDSITE_PACKAGE line of {flow}"
            " (the repository variable FEEDSITE_PACKAGE overrides it)"
        )
    else:
        steps.append(
            "before the first push, say where GitHub finds feedsite (this one came from a"
            f" place GitHub cannot reach): the repository variable FEEDSITE_PACKAGE ({variables}),"
            f" e.g. git+https://github.com/<owner>/feedsite@v{__version__},"
            f" or write it between the quotes of the FEEDSITE_PACKAGE line of {flow}"
        )
    steps.append(
        "publish: push to GitHub, Settings → Pages → Source: GitHub Actions; the workflow"
        " runs RSSHub itself (the repository variable FEEDSITE_RSSHUB: an instance of yours"
        " instead)"
    )
    out.print(
        _plain("next:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1))),
        highlight=False,
    )
    return EXIT_OK


def _cmd_serve(config: Config, out_dir: Path | None, port: int, out: Console) -> int:
    """Serve the built native site on 127.0.0.1 until interrupted."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = (out_dir or config.native.out).absolute()
    if not (folder / "index.html").is_file():
        out.print(_plain(f"nothing to serve in {folder}: run `feedsite build` first"))
        return EXIT_USAGE
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as e:  # the port is taken (or not ours to bind)
        out.print(
            _plain(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}; try another --port"),
            highlight=False,
        )
        return EXIT_USAGE
    with server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        out.print(_plain(f"serving {folder} at {url} (Ctrl-C stops)"), highlight=False)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return EXIT_OK


def _cmd_status(config: Config, args: argparse.Namespace, out: Console) -> int:
    from feedsite._run import feed_status, image_status

    if args.images:
        return _image_status(image_status(config), args, out)
    rows = feed_status(config)
    if args.failing:
        rows = [r for r in rows if r["consecutive_failures"]]
    if args.json:
        sys.stdout.write(json.dumps(_scrub(rows), ensure_ascii=False, indent=1) + "\n")
        return EXIT_OK
    from rich.table import Table

    table = Table(title=f"feedsite status ({len(rows)} feeds; times in UTC)")
    for column in ("feed", "last success", "last try", "failures", "next attempt", "last error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        # Cells are Text (never parsed as markup): the state holds what servers said
        # (issue #10 row 7: `[/bogus]` in a stored error crashed every `status`).
        table.add_row(
            _plain(r["feed"]),
            _plain(_short(r["last_success"]) or "never"),
            _plain(f"{_short(r['last_attempt']) or '-'} {r['last_status'] or ''}".strip()),
            _plain(r["consecutive_failures"]),
            _plain(_short(r["next_attempt"]) or "next run"),
            _plain(r["last_error"] or ""),
        )
    out.print(table, highlight=False)
    images = image_status(config)
    out.print(
        _plain(
            f"images: {images['local']} local ({_mb(images['bytes_on_disk'])} of"
            f" {_mb(images['budget'])}), {images['failed']} failing, {images['refused']}"
            f" refused, {images['over_budget']} over budget (feedsite status --images)"
        )
    )
    return EXIT_OK


def _image_status(images: dict[str, Any], args: argparse.Namespace, out: Console) -> int:
    if args.json:
        sys.stdout.write(json.dumps(_scrub(images), ensure_ascii=False, indent=1) + "\n")
        return EXIT_OK
    from rich.table import Table

    out.print(
        _plain(
            f"{images['local']} local images, {_mb(images['bytes_on_disk'])} of"
            f" {_mb(images['budget'])} in {images['dir']}; {images['failed']} failing,"
            f" {images['refused']} refused, {images['over_budget']} over budget"
        )
    )
    table = Table(title="images not served locally, by host and reason")
    for column in ("host", "state", "images", "reason", "next attempt"):
        table.add_column(column, overflow="fold")
    for r in images["problems"]:
        table.add_row(
            _plain(r["host"]),
            _plain(r["state"]),
            _plain(r["count"]),
            _plain(r["error"] or ""),
            _plain(_short(r["next_attempt"]) or "-"),
        )
    out.print(table, highlight=False)
    return EXIT_OK


def _short(timestamp: str | None) -> str:
    return timestamp[:16].replace("T", " ") if timestamp else ""


def _cmd_remove(config: Config, item_id: str, out: Console, err: Console) -> int:
    from feedsite._run import remove_item
    from feedsite.errors import UnknownItemError

    try:
        result = remove_item(config, item_id)
    except UnknownItemError as e:
        _say(err, "error: ", "bold red", e)
        return EXIT_USAGE
    for path in result.deleted:
        out.print(_plain(f"deleted {path}"), highlight=False)
    for path in result.left_alone:
        _say(err, "edited by hand, left in place: ", "yellow", path)
    out.print(_plain(f"item {item_id} tombstoned: it will not come back"), highlight=False)
    return EXIT_OK


def _cmd_adopt(config: Config, args: argparse.Namespace, out: Console, err: Console) -> int:
    """Take the old script's posts over (docs/migration.md); exit 1 if a feed could not be read."""
    from feedsite._run._adopt import adopt

    result = adopt(config, posts_dir=args.posts, dry_run=args.dry_run, now=args.now, seed=args.seed)
    if args.json:
        sys.stdout.write(json.dumps(_scrub(result.to_json()), ensure_ascii=False, indent=1) + "\n")
        return EXIT_FAILED if result.feeds_failed else EXIT_OK
    outside: dict[str, int] = {}
    for lo in result.leftovers:
        if lo.kind == "unconfigured":
            folder = lo.path.rpartition("/")[0] or "."
            outside[folder] = outside.get(folder, 0) + 1
        elif lo.kind != "feed_failed":
            _say(err, f"left alone ({lo.kind}): ", "yellow", lo.path, ": ", lo.message)
    for folder, n in sorted(outside.items()):
        _say(
            err,
            "not a configured feed's folder, left alone: ",
            "yellow",
            f"{folder}/ ({n} post(s))",
        )
    for label, error in result.feeds_failed:
        _say(err, "feed failed, its posts wait for the next adopt: ", "red", label, ": ", error)
    c = result.counts()
    verb = "would adopt" if result.dry_run else ("adopted" if result.move else "copied")
    removed = c["duplicates_removed"]
    out.print(
        _plain(
            f"{verb} {c['adopted']} old post(s): {c['matched']} matched to an item of their feed,"
            f" {c['kept']} kept from their own content; {c['left_alone']} left alone"
            + (f"; {removed} leftover copies removed" if removed else "")
            + (" (dry run: nothing written)" if result.dry_run else "")
        ),
        highlight=False,
    )
    return EXIT_FAILED if result.feeds_failed else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
