"""The default profile's front matter reads back exactly, whatever the values."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import yaml
from hypothesis import given
from hypothesis import strategies as st

from feedsite._targets.hexo import render_post
from feedsite._url import safe_url
from feedsite.types import PostSource, RenderSettings

SETTINGS = RenderSettings("default", "Asia/Shanghai", None, "https://p.example/{n}", "source_url")


def post(**kw: object) -> PostSource:
    base: dict[str, object] = dict(
        item_id="00000000000000ff",
        category="新媒体",
        site="观察者网",
        feed="头条",
        title="标题",
        link="https://example.org/a",
        date=datetime(2022, 1, 7, 15, 23, 27, tzinfo=UTC),
        first_seen=datetime(2021, 10, 28, 14, 8, 7, tzinfo=UTC),
        body_clean="<p>x</p>",
        description_raw=None,
        images=(),
    )
    base.update(kw)
    return PostSource(**base)  # type: ignore[arg-type]


def front(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    loaded = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(loaded, dict)
    return loaded


def test_shape_and_order() -> None:
    text = render_post(post(), SETTINGS).decode()
    keys = [line.split(":")[0] for line in text.split("---\n")[1].splitlines() if line[0] != "-"]
    assert keys == [
        "title",
        "categories",
        "headimg",
        "author",
        "comments",
        "date",
        "thumbnail",
        "source_url",
    ]
    data = front(text)
    assert data["date"] == datetime(2022, 1, 7, 23, 23, 27)  # wall-clock in Asia/Shanghai
    assert data["comments"] is False
    assert data["headimg"] == data["thumbnail"] == "https://p.example/256"
    assert text.endswith("\n<div>\n<p>x</p>\n</div>\n")


@given(st.text(max_size=80), st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_front_matter_round_trips(title: str, site: str, link: str) -> None:
    data = front(render_post(post(title=title, site=site, link=link), SETTINGS).decode())
    assert data["title"] == title
    assert data["author"] == site
    assert data["categories"] == ["新媒体", site, "头条"]
    # Links pass safe_url at render time: a refused one writes no source_url (issue #10).
    assert data.get("source_url") == safe_url(link)


def test_cover_prefers_body_image_then_enclosure() -> None:
    text = render_post(post(body_clean='<p><img src="https://i/1.jpg"></p>'), SETTINGS).decode()
    assert front(text)["headimg"] == "https://i/1.jpg"
    text = render_post(post(images=("https://i/2.jpg",)), SETTINGS).decode()
    assert front(text)["headimg"] == "https://i/2.jpg"


def test_tags_are_written_after_the_source_and_only_when_there_are_some() -> None:
    from feedsite.types import Tag

    plain = render_post(post(), SETTINGS)
    assert b"\ntags:" not in plain  # a post without tags keeps its exact bytes
    tags = (
        Tag("科技", "https://e.org/cat", "科技 · Tech"),
        Tag("ai"),
        Tag("AI"),  # the same name in another case: once
        Tag("  many\n\t spaces  "),
        Tag("<script>alert(1)</script>"),
        Tag('{{ site.title }} "quoted" [x] `y`'),
        Tag("\u202eevil\x00"),
        Tag("x" * 100),
        Tag("<>&"),  # nothing left: no tag
    )
    text = render_post(post(tags=tags), SETTINGS).decode()
    keys = [line.split(":")[0] for line in text.split("---\n")[1].splitlines() if line[0] != "-"]
    assert keys[-2:] == ["source_url", "tags"]
    assert front(text)["tags"] == [
        "科技 · Tech",
        "ai",
        "many spaces",
        "scriptalert(1)/script",
        "site.title quoted x y",
        "evil",
        "x" * 40,
    ]


@given(st.lists(st.text(max_size=60), max_size=30))
def test_any_tags_read_back_as_a_list_of_safe_names(terms: list[str]) -> None:
    from feedsite._targets._tags import MAX_TAGS
    from feedsite._targets.hexo._default import hexo_tags
    from feedsite.types import Tag

    names = hexo_tags([Tag(t) for t in terms])
    text = render_post(post(tags=tuple(Tag(t) for t in terms)), SETTINGS).decode()
    assert front(text).get("tags", []) == names
    assert len(names) <= MAX_TAGS
    for name in names:
        assert name and name == name.strip() and not set(name) & set("<>&\"'`{}[]\\")
        assert all(c.isprintable() or c == " " for c in name)
        # Hexo's slugize leaves something of it: no tag page at tags//.
        assert re.sub(r"""[\s~`!@#$%^&*()\-_+=\[\]{}|\\;:"'<>,.?/]+""", "", name)


def test_a_name_hexo_cannot_give_an_address_is_left_out() -> None:
    from feedsite._targets.hexo._default import hexo_tags
    from feedsite.types import Tag

    symbols = [Tag(t) for t in ("..", "#", "---", "/ ", "c#", "c++", "人工智能", "😀")]
    many = [Tag(".."), *(Tag(f"t{n}") for n in range(12))]

    assert hexo_tags(symbols) == ["c#", "c++", "人工智能", "😀"]
    assert hexo_tags(many) == [f"t{n}" for n in range(10)]  # ten, the symbols not counted
