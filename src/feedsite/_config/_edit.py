"""Add feeds to the text of a ``feedsite.yaml``, every other byte kept (private). Pure: text in,
text out; reads no file, no environment, no clock.

:func:`add_feeds` inserts whole lines and changes none: comments, blank lines, quoting, key
order, indentation, anchors elsewhere and the line endings (``\\n``, ``\\r\\n``) stay as they
were, so the result minus the inserted lines is the input. Where a line goes:

* a feed of an existing site: after the last line of that site's block;
* a new site of an existing category: after the last line of the category's block;
* a new category: after the last line of the ``feeds:`` block.

A block is its key's line and the lines after it that are indented deeper: blank lines and
comments indented no deeper than the key do not end it but are not part of it either, so a
comment that introduces the next key stays above it, while a commented-out entry inside the
block stays inside. New lines use the indentation the block's entries already use; a new
level below a new key is indented by the file's own step (the first nesting it shows, else
2 spaces). Names are written plain when YAML reads them back as the same text, else
double-quoted (:func:`yaml_str`, also fit for a value); a value is written as given.

The structure is read with :class:`feedsite._config._tree.Reader` (the same reader as
:mod:`feedsite.config`: each key's line, duplicate keys, merge keys, aliases). What cannot be
extended line by line is refused with :class:`ConfigEditError` naming it: a ``feeds:`` section
that is missing or written in flow style (``feeds: {…}``), a category or site written in flow
style, carrying an anchor (``&x``: its aliases would change too) or tag, given by an alias
(``*x``) or a merge key (``<<``), or holding a value (``~``, a route). Before it returns, the
edit is read back and compared with what was asked: the whole document must read as before
plus the new feeds, else it raises. Raising is the only failure, so the caller either writes
the returned text or leaves the file untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from feedsite._config._tree import MapNode, Node, Reader, Scalar, SeqNode, is_null
from feedsite.config import MAX_VALUES
from feedsite.errors import ConfigError, FeedsiteError

__all__ = ["RESERVED_NAMES", "ConfigEditError", "add_feeds", "yaml_str"]

#: Keys that are a level's settings inside a category and a site (``images:``, ``fulltext:``,
#: ``rules:``), so never a site or feed name (``feedsite.config`` reads them so).
RESERVED_NAMES = frozenset(("images", "fulltext", "rules"))
#: YAML line breaks (YAML 1.1, as PyYAML and libyaml count lines).
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
#: First characters that make a plain scalar mean something else (indicators, spaces).
_PLAIN_START_BAD = frozenset("-?:,[]{}#&*!|>'\"%@`\t ")
#: Characters a plain scalar here never holds (conservative: flow indicators, tabs).
_PLAIN_BAD = frozenset(",[]{}\t")
#: YAML's printable characters minus the ones written escaped (NEL, LS, PS, BOM).
_PRINTABLE = re.compile(
    "[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*\\Z"
)
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()
#: A simple key may be at most 1024 characters long (YAML); names are kept well below.
_MAX_KEY = 1000
_LABEL = "feedsite.yaml"


class ConfigEditError(FeedsiteError, ValueError):
    """The feeds cannot be added to this text; the message names the key and the reason."""


def yaml_str(name: str) -> str:
    """``name`` written as a YAML scalar (a key or a value) feedsite reads back as ``name``.

    Plain when YAML reads it back as the same string (``观察者网``, ``Hacker News``,
    ``https://x/feed.xml``); else double-quoted with escapes (``"yes"``, ``"a: b"``,
    ``"#1"``, ``"123"``). ``${`` is written ``$${``: feedsite substitutes ``${VAR}`` in keys
    and in string values.

    Raises:
        ConfigEditError: a name feedsite refuses (empty, spaces around it, a control
            character, a lone surrogate) or too long for a YAML key.
    """
    _check_name(name, "name")
    text = name.replace("${", "$${")
    if _plain_ok(text):
        return text
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif _PRINTABLE.match(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:  # pragma: no cover - every character above U+FFFF but the surrogates is printable
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    quoted = "".join(out)
    if len(quoted) > _MAX_KEY:
        raise ConfigEditError(f"the name {name[:40]!r}… is too long for a YAML key")
    return quoted


def _plain_ok(text: str) -> bool:
    if len(text) > _MAX_KEY or text[0] in _PLAIN_START_BAD or "${" in text:
        return False
    if any(ch in _PLAIN_BAD for ch in text) or not _PRINTABLE.match(text):
        return False
    if ": " in text or " #" in text or text.endswith(":"):  # a value, a comment would start
        return False
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == _STR_TAG)


def _check_name(name: str, what: str) -> None:
    if not name or not name.strip():
        raise ConfigEditError(f"a {what} must not be empty")
    if name != name.strip():
        raise ConfigEditError(f"a {what} must not start or end with spaces: {name!r}")
    if _CONTROL.search(name) or _BREAK.search(name):
        raise ConfigEditError(f"a {what} must not contain control characters: {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigEditError(f"a {what} holds an invalid character: {name!r}") from exc


@dataclass(frozen=True, slots=True)
class _Block:
    """A key whose value is a block mapping (or empty) that lines can be added to."""

    #: Key path for messages (``feeds.新媒体``).
    path: str
    #: 0-based index of the key's line.
    line: int
    #: Column of the key.
    col: int
    #: Column of the entries (None: no entry yet).
    child_col: int | None
    #: 0-based index of the block's last line.
    end: int
    #: The value (None: empty).
    node: MapNode | None


class _Text:
    """The text as lines, and the blocks of it that lines can be added to."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[str] = []  # each with its line break
        pos = 0
        for m in _BREAK.finditer(text):
            self.lines.append(text[pos : m.end()])
            pos = m.end()
        if pos < len(text):
            self.lines.append(text[pos:])
        self.starts: list[int] = []
        acc = 0
        for line in self.lines:
            self.starts.append(acc)
            acc += len(line)
        first = _BREAK.search(text)
        self.newline = first.group(0) if first else "\n"
        self.step: int | None = None

    def body(self, i: int) -> str:
        return _BREAK.sub("", self.lines[i]) if i < len(self.lines) else ""

    def indent(self, i: int) -> int:
        body = self.body(i)
        return len(body) - len(body.lstrip(" "))

    def is_blank_or_comment(self, i: int) -> bool:
        stripped = self.body(i).strip(" \t\ufeff")
        return not stripped or stripped.startswith("#")

    def end_offset(self, i: int) -> int:
        """Offset just after line ``i`` (its line break included)."""
        return self.starts[i] + len(self.lines[i])

    def block(self, line: int, value: Node | None, path: str) -> _Block:
        """The block of the entry whose key is on 1-based ``line`` and whose value is
        ``value``; refuses anything but an empty value or a block mapping written below it."""
        i = line - 1
        body = self.body(i)
        col = self.indent(i)
        after = _after_key(body)
        if after is _NOT_A_KEY:
            raise ConfigEditError(
                f"{path} (line {line}) is not a plain block-style key (a flow mapping {{…}}, "
                "an explicit ?, an anchored, tagged or aliased key); add the feeds by hand"
            )
        problem = None if after is None else _VALUE_PROBLEMS.get(after)
        if problem is not None:
            raise ConfigEditError(f"{path} (line {line}) {problem}; add the feeds by hand")
        if after is not None:  # a scalar on the key's line: ``site: ~``, ``site: /route``
            shown = "null" if is_null(value) else "a value"
            raise ConfigEditError(
                f"{path} (line {line}) holds {shown}, not a mapping; "
                "write it as an empty key or a block mapping first"
            )
        if isinstance(value, Scalar) and value.value is None:
            node = None
        elif isinstance(value, MapNode) and value.line > line:
            node = value
        else:
            what = "a list" if isinstance(value, SeqNode) else "a value"
            if isinstance(value, MapNode):
                what = "a mapping written elsewhere (an alias or a merge)"
            raise ConfigEditError(f"{path} (line {line}) holds {what}, not a block mapping")
        end = i
        child_col: int | None = None
        for j in range(i + 1, len(self.lines)):
            if not self.body(j).strip(" \t"):
                continue
            ind = self.indent(j)
            if self.is_blank_or_comment(j):
                if ind > col:
                    end = j
                continue
            if ind <= col:
                break
            if child_col is None:
                child_col = ind
                first = self.body(j).lstrip(" ")[:1]
                if first in ("{", "[", "&", "*", "!", "|", ">", "?", "-"):
                    raise ConfigEditError(
                        f"{path} (line {line}): its value (line {j + 1}) is not a block "
                        "mapping of plain keys; add the feeds by hand"
                    )
            end = j
        if node is not None and child_col is None:  # pragma: no cover - a mapping has lines
            raise ConfigEditError(f"{path} (line {line}): cannot find its entries")
        if child_col is not None and self.step is None:
            self.step = child_col - col
        return _Block(path, i, col, child_col, end, node)

    def inside(self, block: _Block, line: int) -> bool:
        """Whether 1-based ``line`` is inside ``block`` (not merged in from elsewhere)."""
        return block.line < line - 1 <= block.end


_NOT_A_KEY = "not a key"
_VALUE_PROBLEMS = {
    "flow": "is written in flow style ({…}); only a block mapping can be extended line by line",
    "anchor": "carries an anchor (&…): adding to it would add to every alias of it too",
    "alias": "is an alias (*…) of a mapping written elsewhere",
    "tag": "carries a tag (!…)",
    "seq": "holds a list, not a mapping",
    "block": "holds a block scalar (| or >), not a mapping",
}


def _after_key(body: str) -> str | None:
    """What follows ``key:`` on a key's line: None (nothing but a comment), ``"scalar"``, one
    of the :data:`_VALUE_PROBLEMS` keys, or :data:`_NOT_A_KEY` when the line does not start
    with a plain ``key:``."""
    tokens: list[yaml.Token] = []
    skip = (yaml.StreamStartToken, yaml.BlockMappingStartToken, yaml.BlockEndToken)
    try:
        for token in yaml.scan(body.lstrip(" \ufeff"), Loader=yaml.SafeLoader):
            if isinstance(token, yaml.StreamEndToken):
                break
            if not isinstance(token, skip):
                tokens.append(token)
            if len(tokens) >= 4:
                break
    except yaml.YAMLError:
        pass  # the rest of the line continues on the next lines: judged by what was read
    kinds = [type(t) for t in tokens]
    if kinds[:3] != [yaml.KeyToken, yaml.ScalarToken, yaml.ValueToken]:
        return _NOT_A_KEY
    if len(tokens) == 3:
        return None
    nxt = tokens[3]
    if isinstance(nxt, yaml.FlowMappingStartToken):
        return "flow"
    if isinstance(nxt, yaml.AnchorToken):
        return "anchor"
    if isinstance(nxt, yaml.AliasToken):
        return "alias"
    if isinstance(nxt, yaml.TagToken):
        return "tag"
    if isinstance(nxt, yaml.FlowSequenceStartToken | yaml.BlockEntryToken):
        return "seq"
    if isinstance(nxt, yaml.ScalarToken) and nxt.style in ("|", ">"):
        return "block"
    return "scalar"


def _entry(node: MapNode | None, name: str) -> tuple[str, int, Node] | None:
    """The entry of ``node`` whose stripped key is ``name``: (key, line, value)."""
    if node is None:
        return None
    for e in node.entries:
        if e.key.strip() == name:
            return e.key, e.line, e.value
    return None


def _read(text: str) -> Node | None:
    reader = Reader(_LABEL, {}, max_values=MAX_VALUES)
    try:
        return reader.parse(text)
    except ConfigError as exc:
        raise ConfigEditError(f"cannot edit: {exc}") from exc


def add_feeds(text: str, feeds: Sequence[tuple[str, str, str, str]]) -> str:
    """Add feeds to the text of a ``feedsite.yaml``, keeping every other byte.

    Args:
        text: the file's text.
        feeds: ``(category, site, feed, value)``: names as feedsite reads them, and the
            value written as it is after ``feed: `` (one line of YAML: a route
            ``/guancha/headline``, ``"https://x/feed.xml"``, ``{url: https://x/feed.xml}``).

    Returns:
        The new text. It holds every line of ``text`` unchanged, in order; the lines added
        sit at the ends of the blocks they belong to.

    Raises:
        ConfigEditError: (a ``ValueError``) a feed already exists or is asked twice, a name
            feedsite would refuse or reserves, a value that is not one line of YAML, no
            ``feeds:`` section, or a block that cannot be extended (see the module
            docstring). Nothing is returned then.
    """
    if not feeds:
        return text
    wanted: dict[str, dict[str, dict[str, str]]] = {}
    values: dict[tuple[str, str, str], Node] = {}
    for category, site, feed, value in feeds:
        for name, what in ((category, "category"), (site, "site"), (feed, "feed")):
            _check_name(name, f"{what} name")
            yaml_str(name)
        for name, what in ((site, "site"), (feed, "feed")):
            if name in RESERVED_NAMES:
                raise ConfigEditError(
                    f'"{name}" cannot be a {what} name: it is the key of that level\'s settings'
                )
        asked = wanted.setdefault(category, {}).setdefault(site, {})
        if feed in asked:
            raise ConfigEditError(f"feeds.{category}.{site}.{feed} is asked for twice")
        asked[feed] = value
        values[(category, site, feed)] = _value_node(value, f"feeds.{category}.{site}.{feed}")

    doc = _Text(text)
    tree = _read(text)
    if not isinstance(tree, MapNode):
        raise ConfigEditError("the file is not a mapping of sections; it needs a feeds: section")
    top = _entry(tree, "feeds")
    if top is None:
        raise ConfigEditError("the file has no feeds: section to add to; add a `feeds:` line")
    top_block = doc.block(top[1], top[2], "feeds")
    # (offset, depth, lines): depth orders lines meeting at one offset, deepest first
    inserts: list[tuple[int, int, list[str]]] = []
    for category, sites in wanted.items():
        cat_path = f"feeds.{category}"
        found = _entry(top_block.node, category)
        if found is None:
            col = _child_col(doc, top_block)
            step = _step(doc, top_block)
            inserts.append((_after(doc, top_block), 1, _category_lines(col, step, category, sites)))
            continue
        if not doc.inside(top_block, found[1]):
            raise ConfigEditError(f"{cat_path} comes from a merge key (<<); add the feeds by hand")
        cat_block = doc.block(found[1], found[2], cat_path)
        for site, names in sites.items():
            site_path = f"{cat_path}.{site}"
            found_site = _entry(cat_block.node, site)
            if found_site is None:
                col = _child_col(doc, cat_block)
                lines = _site_lines(col, _step(doc, cat_block), site, names)
                inserts.append((_after(doc, cat_block), 2, lines))
                continue
            if not doc.inside(cat_block, found_site[1]):
                raise ConfigEditError(
                    f"{site_path} comes from a merge key (<<); add the feeds by hand"
                )
            site_block = doc.block(found_site[1], found_site[2], site_path)
            col = _child_col(doc, site_block)
            for feed in names:
                existing = _entry(site_block.node, feed)
                if existing is not None:
                    raise ConfigEditError(f"{site_path}.{feed} already exists (line {existing[1]})")
            inserts.append((_after(doc, site_block), 3, _feed_lines(col, names)))
    result = _splice(doc, inserts)
    _verify(tree, result, wanted, values)
    return result


def _value_node(value: str, path: str) -> Node:
    """Read a value alone; refuses what is not one line of YAML holding a value."""
    if not value.strip() or _BREAK.search(value):
        raise ConfigEditError(f"{path}: the value must be one line of YAML, got {value!r}")
    if value.lstrip()[:1] in ("|", ">", "#", "&", "*", "!"):
        raise ConfigEditError(
            f"{path}: write the value as a plain or quoted scalar or a flow mapping, got {value!r}"
        )
    try:
        node = Reader(_LABEL, {}, max_values=10_000).parse("v: " + value)
    except ConfigError as exc:
        raise ConfigEditError(f"{path}: the value is not valid YAML: {value!r}") from exc
    if not isinstance(node, MapNode) or len(node.entries) != 1 or is_null(node.entries[0].value):
        raise ConfigEditError(f"{path}: the value is not one YAML value: {value!r}")
    return node.entries[0].value


def _step(doc: _Text, block: _Block) -> int:
    """The indentation step below ``block``: its own, else the file's, else 2."""
    if block.child_col is not None:
        return block.child_col - block.col
    return doc.step if doc.step and doc.step > 0 else 2


def _child_col(doc: _Text, block: _Block) -> int:
    return block.col + _step(doc, block)


def _feed_lines(col: int, names: dict[str, str]) -> list[str]:
    return [f"{' ' * col}{yaml_str(name)}: {value}" for name, value in names.items()]


def _site_lines(col: int, step: int, site: str, names: dict[str, str]) -> list[str]:
    """The lines of a new site and its feeds."""
    return [f"{' ' * col}{yaml_str(site)}:", *_feed_lines(col + step, names)]


def _category_lines(
    col: int, step: int, category: str, sites: dict[str, dict[str, str]]
) -> list[str]:
    """The lines of a new category, its sites and their feeds."""
    out = [f"{' ' * col}{yaml_str(category)}:"]
    for site, names in sites.items():
        out.extend(_site_lines(col + step, step, site, names))
    return out


def _after(doc: _Text, block: _Block) -> int:
    return doc.end_offset(block.end)


def _splice(doc: _Text, inserts: list[tuple[int, int, list[str]]]) -> str:
    order = sorted(range(len(inserts)), key=lambda k: (inserts[k][0], -inserts[k][1], k))
    by_offset: dict[int, list[str]] = {}
    for k in order:
        by_offset.setdefault(inserts[k][0], []).extend(inserts[k][2])
    text, nl = doc.text, doc.newline
    out: list[str] = []
    pos = 0
    for offset in sorted(by_offset):
        out.append(text[pos:offset])
        lines = by_offset[offset]
        if offset == len(text) and not _BREAK.match(text[-1:]):
            out.append(nl + nl.join(lines))  # the last line has no line break: nor will ours
        else:
            out.append(nl.join(lines) + nl)
        pos = offset
    out.append(text[pos:])
    return "".join(out)


# -- the read-back check ------------------------------------------------------------------


def _shape(node: Node | None, stack: frozenset[int]) -> object:
    """A comparable picture of a value (mappings as dicts: merge order aside)."""
    if node is None:
        return None
    if id(node) in stack:
        return "<recursive alias>"
    if isinstance(node, Scalar):
        return (type(node.value).__name__, node.text)
    inner = stack | {id(node)}
    if isinstance(node, SeqNode):
        return [_shape(item, inner) for item in node.items]
    return {e.key: _shape(e.value, inner) for e in node.entries}


def _verify(
    old: MapNode,
    result: str,
    wanted: dict[str, dict[str, dict[str, str]]],
    values: dict[tuple[str, str, str], Node],
) -> None:
    """Raise unless ``result`` reads as ``old`` plus exactly the wanted feeds."""
    expected = _shape(old, frozenset())
    assert isinstance(expected, dict)
    level: dict[str, object] = expected

    def child(parent: dict[str, object], name: str) -> dict[str, object]:
        key = next((k for k in parent if k.strip() == name), name)
        sub = parent.get(key)
        if not isinstance(sub, dict):
            sub = {}
            parent[key] = sub
        return sub

    feeds_key = next(k for k in level if k.strip() == "feeds")
    if not isinstance(level[feeds_key], dict):
        level[feeds_key] = {}
    feeds = level[feeds_key]
    assert isinstance(feeds, dict)
    for category, sites in wanted.items():
        cat = child(feeds, category)
        for site, names in sites.items():
            site_map = child(cat, site)
            for feed in names:
                site_map[feed] = _shape(values[(category, site, feed)], frozenset())
    try:
        got = _shape(_read(result), frozenset())
    except ConfigEditError as exc:
        raise ConfigEditError(
            f"the edited file would not read back ({exc}); add the feeds by hand"
        ) from exc
    if got != expected:
        raise ConfigEditError(
            "the edited file would not read back as the old one plus the new feeds "
            "(an unusual layout: multi-line values, aliases); add the feeds by hand"
        )
