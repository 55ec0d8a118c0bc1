from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Order
from communities import services as community_services
from communities.models import ScheduledPost
from members.models import Member, MemberIdentity, Membership
from tenancy.actors import Actor
from tenancy.services import organization_create

from ..concurrency import run_concurrently


def _sale(actor, groups, **kw):
    now = timezone.now()
    values = {
        "name": "周五秒杀",
        "product_name": "深海鱼油",
        "price": Decimal("99"),
        "original_price": Decimal("199"),
        "stock": 10,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(hours=1),
        "communities": groups,
        **kw,
    }
    campaign = services.flash_sale_create(actor=actor, **values)
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    return campaign


def _buyers(org, group, n, prefix="b"):
    members = Member.objects.bulk_create(
        [Member(organization=org, display_name=f"{prefix}{i}") for i in range(n)]
    )
    identities = MemberIdentity.objects.bulk_create(
        [
            MemberIdentity(
                organization=org, member=m, platform="wechat", external_user_id=f"{prefix}{i}"
            )
            for i, m in enumerate(members)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(organization=org, community=group, member=m, identity=ident, status="active")
            for m, ident in zip(members, identities, strict=True)
        ]
    )
    return members


@pytest.fixture
def shop(org_a):
    group = community_services.community_create(actor=org_a.actor(), name="秒杀群")
    return org_a.actor(), group


def test_outcomes_each_with_its_code(org_a, shop):
    actor, group = shop
    sale = _sale(actor, [group], stock=2, per_member_cap=1)
    alice, bob, carol = _buyers(org_a.org, group, 3)
    order, created = services.flash_sale_order(
        actor=actor, campaign=sale, member=alice, quantity=1, idempotency_key="k1"
    )
    assert created and order.status == "pending_payment" and order.amount == Decimal("99")
    with pytest.raises(services.OrderRefused) as exc:
        services.flash_sale_order(
            actor=actor, campaign=sale, member=alice, quantity=1, idempotency_key="k2"
        )
    assert exc.value.code == "cap_exceeded"
    services.flash_sale_order(
        actor=actor, campaign=sale, member=bob, quantity=1, idempotency_key="k3"
    )
    with pytest.raises(services.OrderRefused) as exc:
        services.flash_sale_order(
            actor=actor, campaign=sale, member=carol, quantity=1, idempotency_key="k4"
        )
    assert exc.value.code == "sold_out"
    sale.refresh_from_db()
    assert sale.stock_left == 0 and sale.sold_out_at
    outsider = Member.objects.create(organization=org_a.org, display_name="路人")
    with pytest.raises(services.OrderRefused) as exc:
        services.flash_sale_order(
            actor=actor, campaign=sale, member=outsider, quantity=1, idempotency_key="k5"
        )
    assert exc.value.code == "not_eligible"
    later = _sale(
        actor,
        [group],
        starts_at=timezone.now() + timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=2),
    )
    with pytest.raises(services.OrderRefused) as exc:
        services.flash_sale_order(
            actor=actor, campaign=later, member=carol, quantity=1, idempotency_key="k6"
        )
    assert exc.value.code == "not_live"


def test_idempotency_replay_and_conflict(org_a, shop):
    actor, group = shop
    sale = _sale(actor, [group], per_member_cap=3)
    (alice,) = _buyers(org_a.org, group, 1)
    first, created = services.flash_sale_order(
        actor=actor, campaign=sale, member=alice, quantity=2, idempotency_key="same"
    )
    again, created_again = services.flash_sale_order(
        actor=actor, campaign=sale, member=alice, quantity=2, idempotency_key="same"
    )
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(services.OrderRefused) as exc:
        services.flash_sale_order(
            actor=actor, campaign=sale, member=alice, quantity=1, idempotency_key="same"
        )
    assert exc.value.code == "idempotency_conflict"
    sale.refresh_from_db()
    assert sale.stock_left == 8


def test_pay_cancel_refund_and_expiry_release_stock(org_a, shop):
    actor, group = shop
    sale = _sale(actor, [group], stock=3, per_member_cap=1, payment_minutes=15)
    a, b, c = _buyers(org_a.org, group, 3)
    oa, _ = services.flash_sale_order(
        actor=actor, campaign=sale, member=a, quantity=1, idempotency_key="a"
    )
    ob, _ = services.flash_sale_order(
        actor=actor, campaign=sale, member=b, quantity=1, idempotency_key="b"
    )
    services.flash_sale_order(actor=actor, campaign=sale, member=c, quantity=1, idempotency_key="c")
    services.order_pay(actor=actor, order=oa)
    services.order_refund(actor=actor, order=oa)
    services.order_cancel(actor=actor, order=ob)
    with pytest.raises(ValidationError):
        services.order_refund(actor=actor, order=ob)  # cancelled: nothing to refund
    assert Campaign.objects.for_org(org_a.org).get(pk=sale.pk).stock_left == 2
    assert services.expire_unpaid(org_a.org, now=timezone.now() + timedelta(minutes=20)) == 1
    assert services.expire_unpaid(org_a.org, now=timezone.now() + timedelta(minutes=20)) == 0
    assert Campaign.objects.for_org(org_a.org).get(pk=sale.pk).stock_left == 3


def test_publishing_schedules_announcements(org_a, shop):
    actor, group = shop
    sale = services.flash_sale_create(
        actor=actor,
        name="周日秒杀",
        product_name="鱼油",
        price=Decimal("9.9"),
        original_price=Decimal("99"),
        stock=5,
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, hours=1),
        communities=[group],
    )
    services.campaign_publish(actor=actor, campaign=sale)
    posts = ScheduledPost.objects.for_org(org_a.org).filter(
        community=group, content_type="deal_preview"
    )
    assert posts.count() == 2 and all("周日秒杀" in p.text for p in posts)
    with pytest.raises(ValidationError):
        services.campaign_publish(actor=actor, campaign=sale)


def test_bad_sales_are_refused(org_a, shop):
    actor, group = shop
    for bad in (
        {"price": Decimal("300")},
        {"stock": 0},
        {"communities": []},
        {"ends_at": timezone.now() - timedelta(days=1)},
    ):
        with pytest.raises(ValidationError):
            _sale(actor, [group], **bad)
    assert not Campaign.objects.for_org(org_a.org).exists()


def test_api_codes_and_idempotent_response(org_a, shop):
    actor, group = shop
    sale = _sale(actor, [group], stock=1)
    alice, bob = _buyers(org_a.org, group, 2)
    client = org_a.api_client()
    url = f"/api/v1/campaigns/{sale.pk}/orders/"
    first = client.post(
        url,
        {"member": alice.pk, "quantity": 1},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="x1",
    )
    replay = client.post(
        url,
        {"member": alice.pk, "quantity": 1},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="x1",
    )
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()
    conflict = client.post(
        url,
        {"member": alice.pk, "quantity": 2},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="x1",
    )
    assert (
        conflict.status_code == 422 and conflict.json()["error"]["code"] == "idempotency_conflict"
    )
    sold = client.post(
        url,
        {"member": bob.pk, "quantity": 1},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="x2",
    )
    assert sold.status_code == 409 and sold.json()["error"]["code"] == "sold_out"
    missing = client.post(url, {"member": bob.pk}, content_type="application/json")
    assert missing.status_code == 400
    order_id = first.json()["id"]
    pay = f"/api/v1/orders/{order_id}/pay/"
    assert client.post(pay, content_type="application/json").json()["status"] == "paid"
    assert client.post(pay, content_type="application/json").status_code == 409


# --- real PostgreSQL, parallel connections --------------------------------------------------


@pytest.fixture
def race_shop(request):
    org = organization_create(
        name="抢购",
        slug=f"race-{request.node.name[-20:].replace('_', '-')}",
        owner_email=f"{request.node.name[-20:]}@example.com",
    )
    actor = Actor.system(org)
    group = community_services.community_create(actor=actor, name="抢购群")
    return org, actor, group


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_buyers_racing_for_10_units_sell_exactly_10(race_shop):
    org, actor, group = race_shop
    sale = _sale(actor, [group], stock=10)
    buyers = iter(_buyers(org, group, 200))

    def buy():
        member = next(buyers)
        try:
            services.flash_sale_order(
                actor=actor,
                campaign=sale,
                member=member,
                quantity=1,
                idempotency_key=f"k-{member.pk}",
            )
            return "ok"
        except services.OrderRefused as exc:
            return exc.code

    results = []
    for _ in range(20):  # 20 waves of 10 parallel connections
        results += run_concurrently(buy, 10)
    assert results.count("ok") == 10 and results.count("sold_out") == 190
    assert Order.objects.for_org(org).filter(campaign=sale).count() == 10
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_member_racing_against_themself_never_exceeds_the_cap(race_shop):
    org, actor, group = race_shop
    sale = _sale(actor, [group], stock=100, per_member_cap=2)
    (member,) = _buyers(org, group, 1)
    keys = iter(range(1000))

    def buy():
        try:
            services.flash_sale_order(
                actor=actor,
                campaign=sale,
                member=member,
                quantity=1,
                idempotency_key=f"self-{next(keys)}",
            )
            return "ok"
        except services.OrderRefused as exc:
            return exc.code

    results = run_concurrently(buy, 10)
    assert results.count("ok") == 2 and results.count("cap_exceeded") == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_at_once_creates_one_order(race_shop):
    org, actor, group = race_shop
    sale = _sale(actor, [group], stock=100, per_member_cap=1)
    (member,) = _buyers(org, group, 1)

    def buy():
        order, _created = services.flash_sale_order(
            actor=actor, campaign=sale, member=member, quantity=1, idempotency_key="one-key"
        )
        return order.pk

    results = []
    for _ in range(10):  # 100 requests, 10 at a time
        results += run_concurrently(buy, 10)
    assert len(set(results)) == 1 and all(isinstance(r, int) for r in results)
    assert Order.objects.for_org(org).filter(campaign=sale).count() == 1
    assert Campaign.objects.for_org(org).get(pk=sale.pk).stock_left == 99


def test_dashboard_pages(org_a, shop):
    actor, group = shop
    sale = _sale(actor, [group], stock=5)
    client = org_a.client_for(org_a.owner)
    base = f"/o/{org_a.org.slug}/campaigns/"
    assert sale.name in client.get(base).content.decode()
    live = client.get(f"{base}{sale.pk}/")
    assert live.status_code == 200 and b"hx-trigger" in live.content
    partial = client.get(f"{base}{sale.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    bad = client.post(f"{base}new/", {"name": "", "price": "-1"})
    assert bad.status_code == 400
    client.post(f"{base}{sale.pk}/cancel/")
    sale.refresh_from_db()
    assert sale.status == "cancelled"
    # a deputy does not see campaigns at all
    community_services.staff_assign(actor=actor, community=group, user=org_a.deputy, role="deputy")
    deputy = org_a.client_for(org_a.deputy)
    assert deputy.get(base).status_code == 403
    assert deputy.get(f"{base}{sale.pk}/").status_code == 403


# Mid-month in Shanghai: the first sale, moved a week back, is still this month's, so the
# month's spend counts both sales (in the first week of a month it counted one, or none).
@pytest.mark.time_machine(
    datetime(2026, 11, 18, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
)
def test_review_against_the_previous_sale_and_budget(org_a, shop):
    from campaigns.selectors import budget_warning, campaign_review, month_spend

    actor, group = shop
    buyers = _buyers(org_a.org, group, 5)
    first = _sale(actor, [group], stock=2, cost=Decimal("100"))
    for m in buyers[:2]:
        order, _ = services.flash_sale_order(
            actor=actor, campaign=first, member=m, quantity=1, idempotency_key=f"f{m.pk}"
        )
        services.order_pay(actor=actor, order=order)
    Campaign.objects.for_org(org_a.org).filter(pk=first.pk).update(
        starts_at=timezone.now() - timedelta(days=7)
    )
    second = _sale(actor, [group], stock=5, cost=Decimal("300"))
    for m in buyers[:3]:
        order, _ = services.flash_sale_order(
            actor=actor, campaign=second, member=m, quantity=1, idempotency_key=f"s{m.pk}"
        )
        services.order_pay(actor=actor, order=order)
    review = campaign_review(second)
    rows = {row["key"]: row for row in review["rows"]}
    assert review["previous"].pk == first.pk
    assert rows["units"]["value"] == 3 and rows["units"]["delta"] == 1
    assert rows["buyers"]["value"] == 3 and rows["conversion"]["value"] == 0.6
    api = org_a.api_client().get(f"/api/v1/campaigns/{second.pk}/review/").json()
    assert api["previous"] == first.pk
    org = org_a.org
    org.monthly_campaign_budget = Decimal("350")
    org.save()
    today = timezone.now().astimezone(org.tzinfo).date()
    assert month_spend(org, today)["spent"] == Decimal("400")  # 100 + 300
    assert budget_warning(org, timezone.now(), extra_cost=Decimal("100")) is not None
    page = org_a.client_for(org_a.owner).get(f"/o/{org.slug}/campaigns/").content.decode()
    assert 'data-testid="budget"' in page


def test_orders_csv_export(org_a, shop):
    actor, group = shop
    sale = _sale(actor, [group], stock=2)
    (member,) = _buyers(org_a.org, group, 1, prefix="=cmd")
    services.flash_sale_order(
        actor=actor, campaign=sale, member=member, quantity=1, idempotency_key="csv"
    )
    response = org_a.api_client().get("/api/v1/orders/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("order_id,status")
    assert "'=cmd0" in body and "pending_payment" in body
    dash = org_a.client_for(org_a.owner).get(f"/o/{org_a.org.slug}/orders/export.csv")
    assert dash.status_code == 200
    assert (
        org_a.client_for(org_a.deputy).get(f"/o/{org_a.org.slug}/orders/export.csv").status_code
        == 403
    )
