"""The site's card cache and the list of live items it speeds up."""

from __future__ import annotations

from feedsite._store import SiteCard, State
from tests.store.records import FEED, OTHER, intent

BODY = "<p>start</p>" + "x" * 3000 + '<img src="a.png">' + "y" * 3000


def card(n: int, source: str, feed: str = FEED) -> SiteCard:
    return SiteCard(feed, f"i{n}", source, f"excerpt {n}", "zh", None)


def test_live_items_join_the_up_to_date_cards(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(
            tx,
            [
                intent(1, body=BODY, images=("https://e.org/c.png",)),
                intent(2, body=BODY),
                intent(3, body="<p>no image</p>"),
                intent(4, "seen", with_data=False),
                intent(5, feed=OTHER),
            ],
        )
    state.record_site_cards([card(1, "v1:h1.ck1"), card(2, "v0:h2.ck1")])
    items = {i.item_id: i for i in state.live_items([FEED], "v1")}
    assert sorted(items) == ["i1", "i2", "i3"]  # live, of the wanted feeds
    one, two, three = items["i1"], items["i2"], items["i3"]
    assert one.card == card(1, "v1:h1.ck1")
    assert (one.body_head, one.first_img) == ("", None)  # not read: the card has it
    assert one.images == ("https://e.org/c.png",)
    assert (one.title, one.link, one.author) == ("标题 1", "https://e.org/1", "作者")
    assert (one.first_seen, one.date, one.source_key) == (
        intent(1).first_seen,
        intent(1).date,
        "h1.ck1",
    )
    assert two.card is None  # made by another card version
    assert two.body_head == BODY[:2000]
    assert two.first_img == BODY[BODY.index("<img") :][:2000]
    assert (three.body_head, three.first_img, three.images) == ("<p>no image</p>", None, ())


def test_record_counts_and_forget_stale_cards(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1), intent(2), intent(3)])
    state.record_site_cards([card(1, "v1:a"), card(2, "v1:a"), card(3, "v1:a")])
    state.record_site_cards([card(1, "v1:h1.ck1")])  # replaces
    state.record_site_cards([])
    assert state.site_card_counts() == (3, 3)
    with state.transaction() as tx:
        state.record_items(tx, [intent(2, "pruned")])
        state.forget_items(tx, [(FEED, "i3")])
    assert state.site_card_counts() == (3, 1)
    state.forget_stale_site_cards()
    assert state.site_card_counts() == (1, 1)
    (live,) = state.live_items([FEED], "v1")
    assert live.card == card(1, "v1:h1.ck1")
