"""Both review stores (SQLite file, real Redis server) keep the same contract; the conversation
stores carry an answer's sources and list every owner's exchanges for sampling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from docentlib.errors import NotFound
from services.gateway.review.redis_store import RedisReviewStore
from services.gateway.review.sqlite_store import SqliteReviewStore
from services.gateway.review.store import Rating, ReviewItem, ReviewStore, sampled_item_id
from services.gateway.settings import GatewaySettings

SOURCES = [{"n": 1, "title": "Deployments", "source_path": "d.md", "text": "Roll back…", "x": 1}]


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReviewStore]:
    made: ReviewStore
    if request.param == "sqlite":
        made = SqliteReviewStore(tmp_path / "gateway" / "review.sqlite3")
    else:
        url = request.getfixturevalue("redis_url")
        client = redis.Redis.from_url(url, decode_responses=True)
        made = RedisReviewStore(client, namespace=f"test-{tmp_path.name}")
    yield made
    made.close()


def _item(question: str = "How do I roll back?", **kw: object) -> ReviewItem:
    return ReviewItem.new("import", question, "Use rollout undo [1].", SOURCES, **kw)  # type: ignore[arg-type]


def test_items_round_trip_in_order_and_ids_are_unique(store: ReviewStore) -> None:
    first = _item(question_id="q1", conversation_id="conv_" + "a" * 32)
    second = replace(_item("What is a Pod?"), created_at=first.created_at + 1)
    assert store.add_items([first, second]) == [first, second]
    assert store.add_items([first]) == []  # an id already stored is skipped, not duplicated
    assert store.items() == [first, second]
    got = store.get_item(first.id)
    assert got == first and got.sources == [{k: v for k, v in SOURCES[0].items() if k != "x"}]
    assert got.question_id == "q1" and got.source == "import"
    with pytest.raises(NotFound):
        store.get_item("rv_" + "0" * 24)
    assert store.add_items([]) == []


def test_one_rating_per_item_and_rater_and_re_rating_replaces(store: ReviewStore) -> None:
    one, two = _item(), replace(_item("Second?"), id=sampled_item_id("conv_x", 0))
    store.add_items([one, two])
    saved = store.rate(Rating(one.id, "ana", 4, 5, 5, "good"))
    assert saved.created_at > 0 and saved.comment == "good"
    store.rate(Rating(one.id, "bo", 2, 3, 5))
    store.rate(Rating(two.id, "ana", 1, 1, 1, "wrong"))
    again = store.rate(Rating(one.id, "ana", 3, 4, 5, "on reflection"))
    ana = store.ratings("ana")
    assert {r.item_id: (r.helpfulness, r.comment) for r in ana} == {
        one.id: (3, "on reflection"),
        two.id: (1, "wrong"),
    }
    assert next(r for r in ana if r.item_id == one.id).created_at == again.created_at
    every = store.ratings()
    assert len(every) == 3 and every == sorted(every, key=lambda r: (r.item_id, r.rater))
    assert store.ratings("nobody") == []
    with pytest.raises(NotFound):
        store.rate(Rating("rv_" + "f" * 24, "ana", 1, 1, 1))


def test_sqlite_review_store_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "review.sqlite3"
    store = SqliteReviewStore(path)
    item = _item()
    store.add_items([item])
    store.rate(Rating(item.id, "ana", 5, 5, 5, 'ünïcode, "quotes"\nand lines'))
    store.close()
    again = SqliteReviewStore(path)
    assert again.items() == [item]
    assert again.ratings()[0].comment == 'ünïcode, "quotes"\nand lines'
    again.close()


def test_open_review_store_follows_settings_store(tmp_path: Path, redis_url: str) -> None:
    from services.gateway.review.store import open_review_store

    local = open_review_store(GatewaySettings(data_dir=tmp_path))
    assert isinstance(local, SqliteReviewStore) and local.path == tmp_path / "review.sqlite3"
    local.close()
    shared = open_review_store(GatewaySettings(store="redis", redis_url=redis_url))
    assert isinstance(shared, RedisReviewStore)
    shared.close()
