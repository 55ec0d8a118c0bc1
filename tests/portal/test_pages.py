"""The member's pages, used as a member would: buy, team up, enter, check in, report."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from campaigns import group_buys, lottery
from campaigns.models import Order, Team
from care.models import Case
from members.models import CheckIn, PointsEntry

from .conftest import make_member, page, signed_in

pytestmark = pytest.mark.django_db


def _buy(client, org, campaign, quantity=1, key="k1"):
    return client.post(
        page(org, "member-buy", pk=campaign.pk),
        {"quantity": quantity, "idempotency_key": key},
    )


def test_a_visitor_sees_the_sale_and_the_keyword_for_their_link(org_a, flash_sale):
    response = Client().get(page(org_a.org, "member-campaign", pk=flash_sale.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "今晚8点秒杀" in body and "¥99.00" in body and "¥199.00" in body
    assert 'data-testid="signin-hint"' in body and "<strong>秒杀</strong>" in body
    assert 'data-testid="buy-form"' not in body


def test_a_member_buys_and_is_told_how_to_pay(org_a, member, flash_sale):
    org = org_a.org
    org.payment_instructions = "转账到团长微信 qunyun_demo，备注订单号"
    org.save(update_fields=["payment_instructions"])
    client = signed_in(member)
    body = client.get(page(org, "member-campaign", pk=flash_sale.pk)).content.decode()
    assert 'data-testid="buy-form"' in body
    response = _buy(client, org, flash_sale)
    order = Order.objects.for_org(org).get(member=member)
    assert response["Location"] == page(org, "member-order", pk=order.pk)
    assert order.status == "pending_payment" and order.amount == Decimal("99")
    body = client.get(response["Location"]).content.decode()
    assert "请支付 ¥99.00" in body
    assert "转账到团长微信 qunyun_demo" in body
    flash_sale.refresh_from_db()
    assert flash_sale.stock_left == 9


def test_the_same_press_twice_is_one_order(org_a, member, flash_sale):
    client = signed_in(member)
    _buy(client, org_a.org, flash_sale, key="same")
    _buy(client, org_a.org, flash_sale, key="same")
    assert Order.objects.for_org(org_a.org).filter(member=member).count() == 1


def test_cap_reached_is_said_plainly(org_a, member, flash_sale):
    client = signed_in(member)
    _buy(client, org_a.org, flash_sale, quantity=2, key="a")
    body = client.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).content.decode()
    assert 'data-testid="cap-reached"' in body
    response = _buy(client, org_a.org, flash_sale, key="b")
    follow = client.get(response["Location"]).content.decode()
    assert "本次活动每人限购 2 件。" in follow
    assert Order.objects.for_org(org_a.org).filter(member=member).count() == 1


def test_sold_out(org_a, group, member, flash_sale):
    flash_sale.stock_left = 0
    flash_sale.save(update_fields=["stock_left"])
    client = signed_in(member)
    body = client.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).content.decode()
    assert 'data-testid="sold-out"' in body
    assert 'data-testid="buy-form"' not in body
    response = _buy(client, org_a.org, flash_sale)
    assert "已售罄" in client.get(response["Location"]).content.decode()


def test_not_yet_open_and_ended(org_a, member, flash_sale):
    client = signed_in(member)
    with time_machine.travel(flash_sale.starts_at - timedelta(hours=1)):
        body = client.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).content.decode()
        assert 'data-testid="not-open"' in body
        assert 'data-countdown-to="' in body
    with time_machine.travel(flash_sale.ends_at + timedelta(minutes=1)):
        body = client.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).content.decode()
        assert 'data-testid="ended"' in body


def test_not_eligible_says_why(org_a, flash_sale):
    from communities import services as community_services

    elsewhere = community_services.community_create(actor=org_a.actor(), name="别的群")
    outsider = make_member(org_a.org, elsewhere, "路人")
    client = signed_in(outsider)
    body = client.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).content.decode()
    assert 'data-testid="refusal"' in body
    assert "只有活动所在群的成员可以购买。" in body
    _buy(client, org_a.org, flash_sale)
    assert not Order.objects.for_org(org_a.org).filter(member=outsider).exists()


def test_a_draft_or_another_orgs_campaign_is_a_404(org_a, org_b, member, flash_sale):
    client = signed_in(member)
    flash_sale.status = "draft"
    flash_sale.save(update_fields=["status"])
    assert client.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).status_code == 404
    assert client.get(page(org_b.org, "member-campaign", pk=flash_sale.pk)).status_code == 404


def test_stock_poll_shows_units_left(org_a, flash_sale):
    body = Client().get(page(org_a.org, "member-campaign-stock", pk=flash_sale.pk))
    assert body.status_code == 200
    assert "10 / 10" in body.content.decode()


def test_open_a_team_share_the_link_and_a_friend_fills_it(org_a, group, member, group_buy):
    org = org_a.org
    leader = signed_in(member)
    response = leader.post(page(org, "member-team-open", pk=group_buy.pk))
    team = Team.objects.for_org(org).get(campaign=group_buy)
    assert response["Location"] == page(org, "member-team", pk=team.pk)
    body = leader.get(response["Location"]).content.decode()
    assert 'data-testid="share-url"' in body and page(org, "member-team", pk=team.pk) in body
    # the friend opens the shared link: without a session, the keyword; with one, join
    assert "<strong>拼团</strong>" in Client().get(response["Location"]).content.decode()
    friend = signed_in(make_member(org, group, "小红"))
    friend.post(page(org, "member-team-join", pk=team.pk))
    team.refresh_from_db()
    assert team.status == "succeeded"
    # nobody has paid yet: the orders wait for the leader to collect and mark payment
    orders = Order.objects.for_org(org).filter(campaign=group_buy)
    assert sorted(orders.values_list("status", flat=True)) == ["pending_payment"] * 2
    assert (
        'data-testid="team-pay"'
        in friend.get(page(org, "member-team", pk=team.pk)).content.decode()
    )
    body = friend.get(page(org, "member-team", pk=team.pk)).content.decode()
    assert "拼团成功" in body


def test_a_lottery_entry_and_the_result_after_the_draw(org_a, member, lottery_campaign):
    org, campaign, now = org_a.org, lottery_campaign, timezone.now()
    client = signed_in(member)
    client.post(page(org, "member-lottery-enter", pk=campaign.pk))
    body = client.get(page(org, "member-campaign", pk=campaign.pk)).content.decode()
    assert 'data-testid="entered"' in body
    assert "开奖结果由 体彩大乐透 第 26140 期 开奖号码 决定" in body  # named from the start
    with time_machine.travel(now + timedelta(hours=2)):
        lottery.lottery_draw(actor=org_a.actor(), campaign=campaign, public_value="12345")
        body = client.get(page(org, "member-campaign", pk=campaign.pk)).content.decode()
    assert "恭喜你中奖：礼盒" in body
    assert "小明 · 礼盒" in body
    assert page(org, "member-campaign", pk=campaign.pk) != ""


def test_check_in_from_the_page_counts_once_a_day_with_the_streak(org_a, member):
    org = org_a.org
    client = signed_in(member)
    start = timezone.now()
    for day in range(3):
        with time_machine.travel(start + timedelta(days=day)):
            client.post(page(org, "member-checkin"), {"membership": _membership_id(member)})
            client.post(page(org, "member-checkin"), {"membership": _membership_id(member)})
    assert CheckIn.objects.for_org(org).filter(member=member).count() == 3
    with time_machine.travel(start + timedelta(days=2)):
        body = client.get(page(org, "member-me")).content.decode()
    assert "已连续签到 3 天" in body
    assert 'data-testid="checked-in"' in body
    assert PointsEntry.objects.for_org(org).filter(member=member, reason="checkin").count() == 3


def _membership_id(member):
    from members.models import Membership

    return Membership.objects.for_org(member.organization).get(member=member).pk


def test_checking_in_for_someone_elses_membership_is_a_404(org_a, group, member):
    other = make_member(org_a.org, group, "别人")
    client = signed_in(member)
    response = client.post(page(org_a.org, "member-checkin"), {"membership": _membership_id(other)})
    assert response.status_code == 404


def test_report_a_problem_opens_a_case_for_staff(org_a, member, flash_sale):
    client = signed_in(member)
    _buy(client, org_a.org, flash_sale)
    order = Order.objects.for_org(org_a.org).get(member=member)
    url = page(org_a.org, "member-report", pk=order.pk)
    empty = client.post(url, {"kind": "after_sales", "text": ""})
    assert empty.status_code == 200 and not Case.objects.for_org(org_a.org).exists()
    response = client.post(url, {"kind": "after_sales", "text": "收到的瓶子是破的"})
    assert response.status_code == 302
    case = Case.objects.for_org(org_a.org).get()
    assert case.source == "member_page" and case.order == order and case.member == member
    assert "白藜芦醇 × 1" in case.subject
    assert case.community_id == order.community_id


def test_another_members_order_is_a_404(org_a, group, member, flash_sale):
    buyer = make_member(org_a.org, group, "买家")
    _buy(signed_in(buyer), org_a.org, flash_sale)
    order = Order.objects.for_org(org_a.org).get(member=buyer)
    client = signed_in(member)
    assert client.get(page(org_a.org, "member-order", pk=order.pk)).status_code == 404
    assert client.post(page(org_a.org, "member-report", pk=order.pk)).status_code == 404


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_polling_the_stock_makes_no_database_query(org_a, member, flash_sale):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import stock_gate

    visitor = Client()
    visitor.get(page(org_a.org, "member-campaign", pk=flash_sale.pk))
    assert stock_gate.load(flash_sale) == 10
    poll = page(org_a.org, "member-campaign-stock", pk=flash_sale.pk)
    visitor.get(poll)  # the organization's id is cached from here on
    _buy(signed_in(member), org_a.org, flash_sale, quantity=2)
    with CaptureQueriesContext(connection) as queries:
        response = visitor.get(poll)
    assert len(queries) == 0, [q["sql"] for q in queries]
    body = response.content.decode()
    assert "8 / 10" in body and 'hx-trigger="every 3s"' in body


def test_report_a_problem_in_an_english_speaking_organization(org_a, member, flash_sale):
    """The case's subject is formatted in the organization's language: a wrong English
    catalogue entry with other placeholders made this a KeyError (HTTP 500)."""
    client = signed_in(member)
    client.cookies["django_language"] = "en"
    _buy(client, org_a.org, flash_sale)
    order = Order.objects.for_org(org_a.org).get(member=member)
    response = client.post(
        page(org_a.org, "member-report", pk=order.pk), {"kind": "refund", "text": "Broken"}
    )
    assert response.status_code == 302
    case = Case.objects.for_org(org_a.org).get()
    assert case.subject == f"白藜芦醇 × 1 (order {order.external_order_id[-8:]})"


def test_a_team_that_fails_cancels_the_unpaid_orders_of_its_members(
    org_a, group, member, group_buy
):
    org = org_a.org
    signed_in(member).post(page(org, "member-team-open", pk=group_buy.pk))
    group_buys.expire_teams(org, now=timezone.now() + timedelta(days=2))
    order = Order.objects.for_org(org).get(member=member)
    assert order.status == "cancelled" and order.refunded_at is None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_sold_out_is_answered_without_the_database(org_a, group, member, flash_sale):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import stock_gate

    buyer = signed_in(member)
    body = buyer.get(page(org_a.org, "member-campaign", pk=flash_sale.pk)).content.decode()
    assert stock_gate.live_stock(flash_sale) == 10  # the page loaded the gate
    assert 'data-testid="buy-form"' in body
    for n in range(5):
        rival = signed_in(make_member(org_a.org, group, f"抢{n}"))
        _buy(rival, org_a.org, flash_sale, quantity=2, key=f"rival-{n}")
    assert stock_gate.live_stock(flash_sale) == 0
    with CaptureQueriesContext(connection) as queries:
        response = _buy(buyer, org_a.org, flash_sale, key="late")
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert response["Location"] == page(org_a.org, "member-campaign", pk=flash_sale.pk)
    assert "已售罄。" in buyer.get(response["Location"]).content.decode()
    assert Order.objects.for_org(org_a.org).filter(campaign=flash_sale).count() == 5
