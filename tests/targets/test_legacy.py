"""The legacy profile: the old script's bytes, with its YAML bugs fixed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from feedsite._targets.hexo import render_post
from feedsite._targets.hexo._legacy import legacy_title
from feedsite.types import PostSource, RenderSettings

SETTINGS = RenderSettings(
    profile="legacy",
    timezone=None,
    image_proxy=None,
    placeholder="https://picsum.photos/400/300?random={n}",
    source_key="source_url",
)


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
        body_clean="",
        description_raw="<p>x</p>",
        images=(),
    )
    base.update(kw)
    return PostSource(**base)  # type: ignore[arg-type]


def front(text: str) -> dict[str, object]:
    head = text.split("\n---\n", 2)[1] if text.startswith("\n---\n") else ""
    assert head, text
    loaded = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(loaded, dict)
    return loaded


def render(**kw: object) -> str:
    return render_post(post(**kw), SETTINGS).decode()


def test_title_mangling_and_quotes() -> None:
    text = render(title="集安组织“火速”出手: a/b")
    assert "title: '集安组织_火速_出手_ a_b'\n" in text
    assert 'title: "It\'s"\n' in render(title="It's")


@pytest.mark.parametrize(
    "title",
    ['It\'s "both"', "a\nb", "yes", "123", "null", "- dash", "#hash", "{braces}", "tab\there"],
)
def test_titles_that_broke_the_old_yaml_load_as_strings(title: str) -> None:
    data = front(render(title=title))
    expected = title.translate({ord(c): "_" for c in ":/\\?*“”<>|[]"})
    expected = expected.replace("{", "&#123;").replace("}", "&#125;")
    assert data["title"] == expected


@pytest.mark.parametrize(
    "site", ["yes", "123", "null", "on", "2022-01-01", "&anchor", "*alias", "a: b"]
)
def test_sites_that_would_change_type_are_quoted(site: str) -> None:
    data = front(render(site=site))
    assert data["author"] == site
    assert data["categories"] == ["新媒体", site, "头条"]


def test_plain_names_stay_unquoted() -> None:
    text = render()
    assert "\nauthor: 观察者网\n" in text
    assert "categories: \n - 新媒体\n - 观察者网\n - 头条\n" in text


def test_no_date_uses_first_seen() -> None:
    assert "\ndate: 2021-10-28 14:08:07\n" in render(date=None)


def test_placeholder_is_stable_per_item() -> None:
    a = render(description_raw="<p>no image</p>")
    b = render(description_raw="<p>no image</p>")
    assert a == b
    assert "headimg: 'https://picsum.photos/400/300?random=256'" in a  # 0xff % 1000 + 1


def test_image_proxy_rule() -> None:
    settings = RenderSettings("legacy", None, "https://proxy.example/", "p{n}", "source_url")
    text = render_post(
        post(description_raw='<img src="http://i.example/a.jpg">'), settings
    ).decode()
    assert 'src="https://proxy.example/http://i.example/a.jpg"' in text
    assert "headimg: 'https://proxy.example/http://i.example/a.jpg'" in text
    # https covers are left alone
    text = render_post(
        post(description_raw='<img src="https://i.example/a.jpg">'), settings
    ).decode()
    assert "proxy.example" not in text


@given(st.text(max_size=60), st.text(min_size=1, max_size=20))
def test_front_matter_always_valid_yaml(title: str, site: str) -> None:
    text = render(title=title, site=site)
    data = front(text)
    mangled = title.translate({ord(c): "_" for c in ":/\\?*“”<>|[]"})
    assert legacy_title(title) == mangled  # the one rule the writer and adopt share
    braces = str.maketrans({"{": "&#123;", "}": "&#125;"})
    assert data["title"] == mangled.translate(braces)
    assert data["author"] == site.translate(braces)
