"""The flash-sale stock gate (campaigns/stock_gate.py) on real PostgreSQL and Redis, with real
parallel connections: the gate answers the crowd, PostgreSQL stays the truth."""

import logging
import os
import threading
from datetime import timedelta

import pytest
import redis
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services, stock_gate
from campaigns.models import Campaign, Order
from communities import services as community_services
from tenancy.actors import Actor
from tenancy.services import organization_create

from ..concurrency import run_concurrently
from .test_flash_sales import _buyers, _sale

UNREACHABLE_REDIS = "redis://127.0.0.1:6390/3"  # nothing listens there

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def shop(request):
    stock_gate.reset_for_tests()
    name = request.node.name[-24:].replace("_", "-")
    org = organization_create(name="闸门", slug=f"gate-{name}", owner_email=f"{name}@example.com")
    actor = Actor.system(org)
    group = community_services.community_create(actor=actor, name="秒杀群")
    yield org, actor, group
    stock_gate.reset_for_tests()


@pytest.fixture
def redis_db():
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    yield client
    client.close()


def _gate(redis_db, sale) -> dict:
    raw = redis_db.hgetall(stock_gate.hash_key(sale.organization_id, sale.pk))
    return {k.decode(): int(v) for k, v in raw.items()}


def _buy(actor, sale, member, key=None, quantity=1):
    try:
        services.flash_sale_order(
            actor=actor,
            campaign=sale,
            member=member,
            quantity=quantity,
            idempotency_key=key or f"k-{member.pk}",
        )
        return "ok"
    except services.OrderRefused as exc:
        return exc.code


class DatabaseVisits:
    """Counts the orders that reached the database path (the real function, counted)."""

    def __init__(self, monkeypatch):
        self.count, self._lock = 0, threading.Lock()
        real = services._place_order

        def counted(*args, **kwargs):
            with self._lock:
                self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(services, "_place_order", counted)


def _race(actor, sale, buyers, waves=20, per_wave=10, between=None):
    queue = iter(buyers)
    lock = threading.Lock()

    def buy():
        with lock:
            member = next(queue)
        return _buy(actor, sale, member)

    results = []
    for wave in range(waves):
        results += run_concurrently(buy, per_wave)
        if between:
            between(wave)
    return results


def _sold(org, sale) -> int:
    return Order.objects.for_org(org).filter(campaign=sale).count()


def _200_race_for_10(shop, monkeypatch):
    """200 members, 10 at a time, race for 10 units: exactly 10 sold, 190 told sold out."""
    org, actor, group = shop
    sale = _sale(actor, [group], stock=10)
    visits = DatabaseVisits(monkeypatch)
    results = _race(actor, sale, _buyers(org, group, 200))
    assert results.count("ok") == 10 and results.count("sold_out") == 190, results
    assert _sold(org, sale) == 10
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 0
    return org, sale, visits


def test_200_members_racing_for_10_units_sell_exactly_10_and_only_10_reach_the_database(
    shop, redis_db, monkeypatch
):
    org, sale, visits = _200_race_for_10(shop, monkeypatch)
    assert visits.count == 10  # the 190 sold-out answers came from the gate
    gate = _gate(redis_db, sale)
    assert gate["stock"] == 0
    assert sum(v for k, v in gate.items() if k.startswith("m:")) == 10
    ttl = redis_db.ttl(stock_gate.hash_key(org.pk, sale.pk))
    # whole seconds, and the clock moves between the write and this read: one second of slack
    assert (
        0 < ttl <= (sale.ends_at - timezone.now() + stock_gate.KEEP_AFTER_END).total_seconds() + 1
    )


def test_redis_flushed_in_the_middle_of_the_sale_still_sells_exactly_the_stock(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=25, per_member_cap=1)
    buyers = _buyers(org, group, 200)
    flushes = []

    def flush(wave):
        if wave in (0, 1, 2):  # after 10 and 20 units, and once more at 25
            redis_db.flushdb()
            flushes.append(_sold(org, sale))

    results = _race(actor, sale, buyers, between=flush)
    assert flushes == [10, 20, 25]
    assert results.count("ok") == 25 and results.count("sold_out") == 175
    assert _sold(org, sale) == 25
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 0
    assert _gate(redis_db, sale)["stock"] == 0  # reloaded from PostgreSQL


def test_a_flush_racing_the_buyers_never_oversells(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=10)
    queue = iter(_buyers(org, group, 190))
    lock, turn = threading.Lock(), iter(range(10_000))

    def buy_or_flush():
        with lock:
            n = next(turn)
            member = None if n % 10 == 0 else next(queue)
        if member is None:  # one thread in ten empties Redis while the others buy
            redis_db.flushdb()
            return "flushed"
        return _buy(actor, sale, member)

    results = []
    for _ in range(21):
        results += run_concurrently(buy_or_flush, 10)
    assert results.count("ok") == 10
    assert _sold(org, sale) == 10
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 0
    assert not [r for r in results if r not in ("ok", "sold_out", "flushed")], results


def test_redis_unreachable_falls_back_to_the_database_without_overselling(
    shop, settings, caplog, monkeypatch
):
    settings.STOCK_GATE_REDIS_URL = UNREACHABLE_REDIS
    caplog.set_level(logging.WARNING, logger="campaigns.stock_gate")
    _org, sale, visits = _200_race_for_10(shop, monkeypatch)
    assert visits.count == 200  # every answer came from PostgreSQL
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert stock_gate.live_stock(sale) is None  # the page falls back to the database


def test_orders_placed_while_redis_was_down_reload_the_gate_when_it_is_back(
    shop, settings, redis_db
):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=5, per_member_cap=1)
    first, second, third = _buyers(org, group, 3)
    assert _buy(actor, sale, first) == "ok"
    assert _gate(redis_db, sale)["stock"] == 4
    settings.STOCK_GATE_REDIS_URL = UNREACHABLE_REDIS
    assert _buy(actor, sale, second) == "ok"  # through the database only
    settings.STOCK_GATE_REDIS_URL = os.environ["REDIS_URL"]
    assert _buy(actor, sale, second, key="again") == "cap_exceeded"
    assert _gate(redis_db, sale)["stock"] == 3  # dropped and reloaded: 5 - 2
    assert _buy(actor, sale, third) == "ok"
    assert _gate(redis_db, sale)["stock"] == 2
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 2


def test_sold_out_and_over_the_cap_answers_make_no_database_query(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=2, per_member_cap=1)
    alice, bob, carol = _buyers(org, group, 3)
    assert _buy(actor, sale, alice) == "ok"
    with CaptureQueriesContext(connection) as over_cap:
        assert _buy(actor, sale, alice, key="second") == "cap_exceeded"
    assert len(over_cap) == 0, [q["sql"] for q in over_cap]
    assert _buy(actor, sale, bob) == "ok"
    sale = Campaign.objects.for_org(org).select_related("product").get(pk=sale.pk)
    with CaptureQueriesContext(connection) as sold_out:
        assert _buy(actor, sale, carol) == "sold_out"  # a member the gate has never seen
        assert stock_gate.live_stock(sale) == 0
        assert stock_gate.live_stock([sale.pk], organization=org) == {sale.pk: 0}
    assert len(sold_out) == 0, [q["sql"] for q in sold_out]
    response = _api(org, actor).post(
        f"/api/v1/campaigns/{sale.pk}/orders/",
        {"member": carol.pk},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-1",
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "sold_out"


def test_a_loaded_gate_knows_every_holding_so_a_first_press_asks_the_database_once(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=5, per_member_cap=1)
    alice, bob = _buyers(org, group, 2)
    assert _buy(actor, sale, alice) == "ok"
    stock_gate.forget(sale)  # as after a flush: the next order loads the gate again
    with CaptureQueriesContext(connection) as first_press:
        assert _buy(actor, sale, bob) == "ok"
    sql = [q["sql"] for q in first_press]
    holding = [q for q in sql if 'SUM("campaigns_order"."quantity")' in q and "GROUP BY" not in q]
    replays = [q for q in sql if f"\"idempotency_key\" = 'k-{bob.pk}'" in q]
    assert len(holding) == 1 and len(replays) == 1, sql  # both under the member's lock only
    assert _gate(redis_db, sale)[f"m:{alice.pk}"] == 1  # loaded with the gate
    with CaptureQueriesContext(connection) as over_cap:
        assert _buy(actor, sale, alice, key="second") == "cap_exceeded"
    assert len(over_cap) == 0


def _api(org, actor):
    from django.test import Client

    from tenancy.services import api_key_create

    _key, raw = api_key_create(actor=actor, name="gate tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_a_retry_with_the_same_key_is_answered_as_before_even_after_the_sale_sold_out(
    shop, redis_db
):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=1)
    alice, bob = _buyers(org, group, 2)
    first, created = services.flash_sale_order(
        actor=actor, campaign=sale, member=alice, quantity=1, idempotency_key="once"
    )
    assert created
    for flush in (False, True):  # the keys that went through are reloaded with the gate
        if flush:
            redis_db.flushdb()
        again, created = services.flash_sale_order(
            actor=actor, campaign=sale, member=alice, quantity=1, idempotency_key="once"
        )
        assert again.pk == first.pk and not created
        with pytest.raises(services.OrderRefused) as exc:
            services.flash_sale_order(
                actor=actor, campaign=sale, member=alice, quantity=2, idempotency_key="once"
            )
        assert exc.value.code == "idempotency_conflict"
        assert _buy(actor, sale, bob) == "sold_out"
    assert _gate(redis_db, sale)["stock"] == 0


def test_refund_cancel_and_expiry_give_units_back_to_the_gate(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=3, per_member_cap=1, payment_minutes=15)
    a, b, c, d = _buyers(org, group, 4)
    orders = {}
    for member in (a, b, c):
        orders[member.pk], _ = services.flash_sale_order(
            actor=actor, campaign=sale, member=member, quantity=1, idempotency_key=f"k{member.pk}"
        )
    assert _gate(redis_db, sale)["stock"] == 0 and _buy(actor, sale, d) == "sold_out"
    services.order_pay(actor=actor, order=orders[a.pk])
    services.order_refund(actor=actor, order=orders[a.pk])
    assert _gate(redis_db, sale)["stock"] == 1
    assert _gate(redis_db, sale)[f"m:{a.pk}"] == 0  # a may buy again
    services.order_cancel(actor=actor, order=orders[b.pk])
    assert _gate(redis_db, sale)["stock"] == 2
    assert services.expire_unpaid(org, now=timezone.now() + timedelta(minutes=20)) == 1
    gate = _gate(redis_db, sale)
    assert gate["stock"] == 3 and gate[f"m:{c.pk}"] == 0
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 3
    assert [_buy(actor, sale, m, key=f"again-{m.pk}") for m in (a, b, c, d)] == ["ok"] * 3 + [
        "sold_out"
    ]


def test_when_the_database_refuses_the_gate_takes_its_count(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=3, per_member_cap=2)
    alice, bob, carol = _buyers(org, group, 3)
    assert _buy(actor, sale, alice) == "ok"
    key = stock_gate.hash_key(org.pk, sale.pk)
    # Redis lies: more stock than there is, and alice holding nothing
    Campaign.objects.for_org(org).filter(pk=sale.pk).update(stock_left=0)
    redis_db.hset(key, mapping={"stock": 50, f"m:{alice.pk}": 0})
    assert _buy(actor, sale, bob) == "sold_out"  # from PostgreSQL
    assert _gate(redis_db, sale)["stock"] == 0  # the gate took the database's count
    with CaptureQueriesContext(connection) as queries:
        assert _buy(actor, sale, carol) == "sold_out"
    assert len(queries) == 0
    Campaign.objects.for_org(org).filter(pk=sale.pk).update(stock_left=2)
    redis_db.hset(key, mapping={"stock": 2})
    assert _buy(actor, sale, alice, key="two", quantity=2) == "cap_exceeded"  # from PostgreSQL
    assert _gate(redis_db, sale)[f"m:{alice.pk}"] == 1  # alice's holding, from the database
    assert _gate(redis_db, sale)["stock"] == 2
    assert "k:two" not in _gate(redis_db, sale)


def test_reconcile_reloads_a_gate_that_says_sold_out_while_units_are_left(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=3)
    alice, bob = _buyers(org, group, 2)
    assert _buy(actor, sale, alice) == "ok"
    redis_db.hset(stock_gate.hash_key(org.pk, sale.pk), "stock", 0)  # units stranded
    assert _buy(actor, sale, bob) == "sold_out"
    assert stock_gate.reconcile(org) == 1
    assert _buy(actor, sale, bob) == "ok"
    assert stock_gate.live_stock(sale) == 1
    assert stock_gate.reconcile(org) == 0


def test_inside_a_callers_transaction_the_order_takes_the_database_path(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=3)
    (alice,) = _buyers(org, group, 1)
    with transaction.atomic():
        assert _buy(actor, sale, alice) == "ok"
        transaction.set_rollback(True)
    assert _gate(redis_db, sale) == {}  # nothing taken that the rollback could strand
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 3


def test_live_stock_reads_the_gate_and_says_when_it_does_not_know(shop, redis_db):
    org, actor, group = shop
    sale = _sale(actor, [group], stock=7)
    other = _sale(actor, [group], stock=4)
    assert stock_gate.live_stock(sale) is None  # not loaded yet
    assert stock_gate.load(sale) == 7
    with CaptureQueriesContext(connection) as queries:
        assert stock_gate.live_stock([sale, other]) == {sale.pk: 7, other.pk: None}
        assert stock_gate.live_stock(sale.pk, organization=org.pk) == 7
    assert len(queries) == 0
    with pytest.raises(ValueError):
        stock_gate.live_stock([sale.pk])
    services.campaign_cancel(actor=actor, campaign=sale)
    assert stock_gate.live_stock(sale) is None  # a cancelled sale's gate is dropped


def test_the_member_pages_stock_comes_from_the_gate_when_it_has_the_sale(shop, redis_db):
    from campaigns.stock import live_stock_left

    org, actor, group = shop
    sale = _sale(actor, [group], stock=5)
    assert live_stock_left(sale) == 5  # no gate yet: the database's count
    (alice,) = _buyers(org, group, 1)
    assert _buy(actor, sale, alice) == "ok"
    stale = Campaign.objects.for_org(org).get(pk=sale.pk)
    redis_db.hset(stock_gate.hash_key(org.pk, sale.pk), "stock", 3)  # what the gate says
    with CaptureQueriesContext(connection) as queries:
        assert live_stock_left(stale) == 3
    assert len(queries) == 0
