"""The default profile's front matter reads back exactly, whatever the values."""

from __future__ import annotations

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
