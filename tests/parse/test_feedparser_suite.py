"""Conformance: feedparser 6.0.14's own test suite, read through feedsite's parser.

Each file of ``../shared/corpora/feedparser`` opens with a comment holding a
``Description:`` and an ``Expect:`` Python expression over feedparser's result
(``bozo``, ``feed``, ``entries``, ``encoding``, ``version``, ``headers``). Here
feedsite parses the file, :func:`adapt` maps the :class:`~feedsite.types.ParsedFeed`
to feedparser's result shape for the fields feedsite models, and the expression
is evaluated against that.

**Which expectations are in scope** (decided from the expression alone, by the
names it reads; see docs/parsing.md):

1. top-level ``and`` terms that only test ``bozo`` are dropped (feedsite has no
   bozo flag: it recovers and lists warnings); ``bozo`` anywhere else, or nothing
   left, puts the expectation out of scope;
2. every other name must be ``feed``, ``entries`` or ``len``, and every path read
   from them (``entries[0]['tags'][1]['term']`` → ``entries.*.tags.*.term``, also
   through attributes and ``.get``) must be in :data:`MODELED`;
3. the expression may only use comparisons, boolean operators, subscripts,
   constants, tuples/lists and calls of ``len`` / ``.get``
   (:data:`ALLOWED_NODES`); anything else is out of scope, never evaluated.

An in-scope expression is evaluated with no builtins and only those names; it is
*met* when it returns a true value. The test fails on any miss not listed in
``data/feedparser_expected_differences.toml``, and on any listed file that is now
met (the list only shrinks by a fix, or grows with a written reason).

Run ``python tests/parse/test_feedparser_suite.py`` for the counts and the misses
by group (``--new`` prints unlisted misses as TOML lines).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import re
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from feedsite._clean import clean_html
from feedsite._parse import parse_feed
from feedsite._parse._xml import html_to_text
from feedsite.errors import ParseError
from feedsite.types import ParsedFeed, ParsedItem

SUITE = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "feedparser"
DIFFERENCES = Path(__file__).parent / "data" / "feedparser_expected_differences.toml"
#: Folders of the suite read here: ``compression`` holds compressed bodies (the fetch
#: stage's job) and ``http`` needs a live server.
FOLDERS = ("wellformed", "illformed", "entities", "encoding")

#: Paths feedsite models, in feedparser's names (``*`` = any list index).
MODELED = frozenset(
    {
        "entries",
        "feed.title",
        "feed.link",
        "entries.*",
        "entries.*.title",
        "entries.*.title_detail.value",
        "entries.*.link",
        "entries.*.id",
        "entries.*.guid",
        "entries.*.summary",
        "entries.*.description",
        "entries.*.summary_detail.value",
        "entries.*.content",
        "entries.*.content.*.value",
        "entries.*.published_parsed",
        "entries.*.updated_parsed",
        "entries.*.author",
        "entries.*.author_detail",
        "entries.*.author_detail.name",
        "entries.*.author_detail.email",
        "entries.*.author_detail.href",
        "entries.*.author_detail.url",
        "entries.*.authors",
        "entries.*.authors.*.name",
        "entries.*.authors.*.email",
        "entries.*.authors.*.href",
        "entries.*.authors.*.url",
        "entries.*.tags",
        "entries.*.tags.*.term",
        "entries.*.tags.*.scheme",
        "entries.*.tags.*.label",
        "entries.*.category",
        "entries.*.enclosures",
        "entries.*.enclosures.*",
        "entries.*.enclosures.*.href",
        "entries.*.enclosures.*.url",
        "entries.*.enclosures.*.type",
        "entries.*.enclosures.*.length",
        "entries.*.media_content",
        "entries.*.media_content.*.url",
        "entries.*.media_content.*.type",
        "entries.*.media_thumbnail",
        "entries.*.media_thumbnail.*.url",
    }
)
#: MODELED and every path on the way to one (``entries.*.tags.*`` of ``…tags.*.term``).
READABLE = frozenset(
    ".".join(path.split(".")[:end]) for path in MODELED for end in range(1, path.count(".") + 2)
)
#: AST node types an evaluated expression may contain.
ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
    ast.Compare, ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.Lt, ast.LtE,
    ast.Gt, ast.GtE, ast.Subscript, ast.Constant, ast.Name, ast.Load, ast.Attribute,
    ast.Call, ast.Tuple, ast.List, ast.Dict,
)  # fmt: skip
NAMES = frozenset({"feed", "entries", "len"})
#: How many expectations the rule puts in scope (docs/parsing.md).
IN_SCOPE = 1386


class Result(dict[str, Any]):
    """feedparser's ``FeedParserDict`` shape: keys also read as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _set(target: Result, key: str, value: Any) -> None:
    if value not in (None, "", ()):
        target[key] = value


#: How a group's differences are checked to be what its reason says (see :func:`check`):
#: "clean": after the clean stage (bodies cleaned with the item's base URL, the expected
#: strings cleaned too) the expectation is met; "text": comparing text (bodies reduced
#: to their text, expected strings too: feedsite titles are plain text) it is met.
CHECKS = ("clean", "text")


def _clean(value: str) -> str:
    return clean_html(value, base_url=None, iframe_hosts=())


def _text(value: str) -> str:
    return " ".join(html_to_text(value).split())


def adapt(parsed: ParsedFeed, mode: str | None = None) -> dict[str, Any]:
    """feedsite's parse result as feedparser's ``feed`` and ``entries`` names; with a
    ``mode`` of :data:`CHECKS`, bodies as that mode compares them."""
    feed = Result()
    _set(feed, "title", parsed.title)
    _set(feed, "link", parsed.link)
    items = [_in_mode(item, mode) for item in parsed.items]
    entries = [adapt_item(item) for item in items]
    if mode == "text":  # an HTML title of only markup is an empty text title
        feed.setdefault("title", parsed.title)
        for entry, item in zip(entries, items, strict=True):
            entry.setdefault("title", item.title)
    return {"feed": feed, "entries": entries}


def _in_mode(item: ParsedItem, mode: str | None) -> ParsedItem:
    if mode is None:
        return item
    if mode == "clean":
        base = item.base_url

        def body(value: str | None) -> str | None:
            return None if value is None else clean_html(value, base_url=base, iframe_hosts=())
    else:

        def body(value: str | None) -> str | None:
            return None if value is None else _text(value)

    return dataclasses.replace(
        item, content_html=body(item.content_html), summary_html=body(item.summary_html)
    )


def _person(name: str | None, email: str | None, uri: str | None) -> Result:
    person = Result()
    _set(person, "name", name)
    _set(person, "email", email)
    _set(person, "href", uri)
    _set(person, "url", uri)
    return person


def adapt_item(item: ParsedItem) -> Result:
    """One item as a feedparser entry (aliases included: ``description``, ``guid``...)."""
    entry = Result()
    _set(entry, "title", item.title)
    if item.title:
        entry["title_detail"] = Result(value=item.title)
    _set(entry, "link", item.link)
    _set(entry, "id", item.guid)
    _set(entry, "guid", item.guid)
    # feedparser copies an entry's content to its summary when it has none.
    summary = item.summary_html if item.summary_html is not None else item.content_html
    if summary is not None:
        entry["summary"] = entry["description"] = summary
        entry["summary_detail"] = Result(value=summary)
    if item.content_html is not None:
        entry["content"] = [Result(value=item.content_html)]
    if item.date is not None:
        entry["published_parsed"] = entry["updated_parsed"] = item.date.utctimetuple()
    authors = [_person(a.name, a.email, a.uri) for a in getattr(item, "authors", ())]
    if authors:
        first = item.authors[0]
        entry["authors"] = authors
        entry["author_detail"] = authors[0]
        both = first.name and first.email
        _set(
            entry, "author", f"{first.name} ({first.email})" if both else first.name or first.email
        )
    elif item.author:
        entry["author"] = item.author
        entry["author_detail"] = _person(item.author, None, None)
    tags = [Result(term=t.term, scheme=t.scheme, label=t.label) for t in getattr(item, "tags", ())]
    if tags:
        entry["tags"] = tags
        entry["category"] = tags[0]["term"]
    enclosures = []
    for enclosure in getattr(item, "enclosures", ()):
        if enclosure.source not in ("enclosure", "itunes"):
            continue
        value = Result(href=enclosure.url)
        _set(value, "type", enclosure.type)
        if enclosure.length is not None:
            value["length"] = str(enclosure.length)
        enclosures.append(value)
    _set(entry, "enclosures", enclosures)
    media = [e for e in getattr(item, "enclosures", ()) if e.source == "media"]
    _set(entry, "media_content", [Result(url=m.url, type=m.type) for m in media])
    thumbnails = [e.thumbnail for e in media if e.thumbnail]
    _set(entry, "media_thumbnail", [Result(url=t) for t in thumbnails])
    return entry


# -- the suite -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    path: str  # relative to the suite
    description: str
    expect: str
    content_type: str | None


_ENCODINGS = ("utf-8", "utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le", "cp037")
_HEADER_RE = re.compile(r"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)


def cases() -> Iterator[Case]:
    for folder in FOLDERS:
        for path in sorted((SUITE / folder).rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            for encoding in _ENCODINGS:
                text = data.decode(encoding, "replace")
                start = text.find("Description:")
                if start >= 0:
                    break
            else:
                continue
            head = text[: text.find("-->", start)]
            description = re.search(r"Description:\s*(.*)", head)
            expect = re.search(r"Expect:\s*(.*)", head)
            if expect is None:
                continue
            headers = {k.lower(): v for k, v in _HEADER_RE.findall(head)}
            yield Case(
                str(path.relative_to(SUITE)),
                description[1].strip() if description else "",
                expect[1].strip(),
                headers.get("content-type"),
            )


def _path(node: ast.AST) -> str | None:
    """The data path an access chain reads (``entries.*.tags.*.term``); None if it has none."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript):
        base = _path(node.value)
        key = node.slice
        if base is None or not isinstance(key, ast.Constant):
            return None
        return f"{base}.{key.value}" if isinstance(key.value, str) else f"{base}.*"
    if isinstance(node, ast.Attribute):
        base = _path(node.value)
        return None if base is None else f"{base}.{node.attr}"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        base = _path(node.func.value)
        return None if base is None else f"{base}.{node.args[0].value}"
    return None


def _is_bozo_test(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
    return isinstance(node, ast.Name) and node.id == "bozo"


def in_scope(expect: str) -> ast.Expression | None:
    """The expression to evaluate (bozo terms dropped), or None when it is out of scope."""
    try:
        tree = ast.parse(expect, mode="eval")
    except SyntaxError:
        return None
    body = tree.body
    if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And):
        terms = [term for term in body.values if not _is_bozo_test(term)]
        if not terms:
            return None
        body = terms[0] if len(terms) == 1 else ast.BoolOp(op=ast.And(), values=terms)
    elif _is_bozo_test(body):
        return None
    expression = ast.fix_missing_locations(ast.Expression(body=body))
    for node in ast.walk(expression):
        if not isinstance(node, ALLOWED_NODES):
            return None
        if isinstance(node, ast.Name) and node.id not in NAMES:
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if not (
                (isinstance(func, ast.Name) and func.id == "len")
                or (isinstance(func, ast.Attribute) and func.attr == "get")
            ):
                return None
    for node in ast.walk(expression):
        if isinstance(node, ast.Subscript | ast.Attribute | ast.Call):
            path = _path(node)
            if path is None:
                if isinstance(node, ast.Attribute) and node.attr == "get":
                    continue  # the callee of .get(...): its call is checked
                if isinstance(node, ast.Call):
                    continue  # len(...): its argument is checked
                return None
            if path.split(".", 1)[0] in ("feed", "entries") and path not in READABLE:
                return None
    return expression


@dataclass(frozen=True)
class Outcome:
    case: Case
    met: bool
    error: str | None = None


class _WrapConstants(ast.NodeTransformer):
    """Wraps the string constants compared with ``_norm(...)`` (a check's normaliser)."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        def wrap(operand: ast.expr) -> ast.expr:
            if isinstance(operand, ast.Constant) and isinstance(operand.value, str):
                return ast.Call(func=ast.Name("_norm", ast.Load()), args=[operand], keywords=[])
            return operand

        node.left = wrap(node.left)
        node.comparators = [wrap(c) for c in node.comparators]
        return node


def evaluate(case: Case, expression: ast.Expression, mode: str | None = None) -> Outcome:
    data = (SUITE / case.path).read_bytes()
    try:
        parsed = parse_feed(data, url="http://127.0.0.1:8097/", content_type=case.content_type)
    except ParseError as error:
        return Outcome(case, False, f"ParseError: {error}")
    names: dict[str, Any] = {**adapt(parsed, mode), "len": len}
    if mode is not None:
        names["_norm"] = _clean if mode == "clean" else _text
        expression = ast.fix_missing_locations(_WrapConstants().visit(copy.deepcopy(expression)))
    code = compile(expression, case.path, "eval")
    try:
        value = eval(code, {"__builtins__": {}}, names)
    except (KeyError, IndexError, AttributeError, TypeError) as error:
        return Outcome(case, False, f"{type(error).__name__}: {error}")
    return Outcome(case, bool(value))


def run_suite() -> list[Outcome]:
    outcomes = []
    for case in cases():
        expression = in_scope(case.expect)
        if expression is not None:
            outcomes.append(evaluate(case, expression))
    return outcomes


def expected_differences() -> dict[str, str]:
    """Listed file → its group."""
    data = tomllib.loads(DIFFERENCES.read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    for group in data["group"]:
        assert group["reason"].strip(), group["name"]
        for path in group["files"]:
            assert path not in listed, f"{path} listed twice"
            listed[path] = group["name"]
    return listed


# -- tests ---------------------------------------------------------------------------------

pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason="../shared/corpora/feedparser absent")


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return run_suite()


def test_every_in_scope_miss_is_a_listed_difference(outcomes: list[Outcome]) -> None:
    listed = expected_differences()
    unlisted = [o for o in outcomes if not o.met and o.case.path not in listed]
    assert unlisted == [], "\n".join(
        f"{o.case.path}: {o.case.expect} ({o.error or 'false'})" for o in unlisted
    )


def test_listed_differences_still_differ(outcomes: list[Outcome]) -> None:
    """A fixed difference leaves the list (and a listed file must still be in scope)."""
    by_path = {o.case.path: o for o in outcomes}
    listed = expected_differences()
    assert [p for p in listed if p not in by_path] == [], "not in scope (or gone)"
    assert [p for p in listed if by_path[p].met] == [], "now met: remove from the list"


def test_checked_groups_differ_only_as_their_reason_says(outcomes: list[Outcome]) -> None:
    """A group with a ``check`` ("clean", "text") is met once compared that way."""
    data = tomllib.loads(DIFFERENCES.read_text(encoding="utf-8"))
    by_path = {o.case.path: o.case for o in outcomes}
    failed = []
    for group in data["group"]:
        check = group.get("check")
        if check is None:
            continue
        assert check in CHECKS, group["name"]
        for path in group["files"]:
            case = by_path[path]
            expression = in_scope(case.expect)
            assert expression is not None
            if not evaluate(case, expression, check).met:
                failed.append(f"{group['name']}: {path}: {case.expect}")
    assert failed == [], "\n".join(failed)


def test_scope_is_the_documented_size(outcomes: list[Outcome]) -> None:
    """The scope rule picks the same expectations as docs/parsing.md counts."""
    assert len(outcomes) == IN_SCOPE


def test_expressions_outside_the_rule_are_never_evaluated() -> None:
    assert in_scope("__import__('os').system('x')") is None
    assert in_scope("not bozo and encoding == 'utf-8'") is None
    assert in_scope("not bozo and feed['itunes_block'] == 1") is None
    assert in_scope("entries[0].__class__ == 1") is None
    assert in_scope("not bozo") is None
    assert in_scope("not bozo and entries[0]['title'] == 'x'") is not None
    assert in_scope("len(entries[0].tags) == 2 and entries[0].tags[1].term == 'c'") is not None


def main(argv: list[str]) -> None:
    start = time.perf_counter()
    outcomes = run_suite()
    elapsed = time.perf_counter() - start
    met = sum(o.met for o in outcomes)
    print(f"in scope {len(outcomes)}, met {met}, missed {len(outcomes) - met} ({elapsed:.1f} s)")
    listed = expected_differences() if DIFFERENCES.exists() else {}
    groups: dict[str, int] = {}
    for o in outcomes:
        if not o.met and o.case.path in listed:
            groups[listed[o.case.path]] = groups.get(listed[o.case.path], 0) + 1
    for name, count in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {count:4d}  {name}")
    for o in outcomes:
        if not o.met and o.case.path not in listed:
            if "--new" in argv:
                print(f'  "{o.case.path}",')
            elif "-v" in argv:
                print(f"MISS {o.case.path}: {o.case.expect} ({o.error or 'false'})")


if __name__ == "__main__":
    main(sys.argv[1:])
