import re
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import group_buys, services
from campaigns.models import Order, Team
from communities import services as community_services
from integrations.models import Action

from ..concurrency import run_concurrently
from ..factories import live_group_buy
from .test_flash_sales import _buyers


@pytest.fixture
def group_buy(org_a):
    actor = org_a.actor()
    group = community_services.community_create(actor=actor, name="拼团群")
    campaign = live_group_buy(actor, group, stock=1000)
    return actor, group, campaign


def test_a_full_team_succeeds(org_a, group_buy):
    actor, group, campaign = group_buy
    leader, friend, third = _buyers(org_a.org, group, 3)
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    team = group_buys.team_join(actor=actor, team=team, member=friend)
    assert team.status == "succeeded"
    with pytest.raises(services.OrderRefused) as exc:
        group_buys.team_join(actor=actor, team=team, member=third)
    assert exc.value.code == "team_closed"
    assert Order.objects.for_org(org_a.org).filter(campaign=campaign, status="paid").count() == 2
    assert Action.objects.for_org(org_a.org).filter(kind="member.notify").count() == 2
    # after a success, members may open a new team
    group_buys.team_open(actor=actor, campaign=campaign, member=leader)


def test_one_open_team_per_member(org_a, group_buy):
    actor, group, campaign = group_buy
    leader, other = _buyers(org_a.org, group, 2)
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    with pytest.raises(services.OrderRefused) as exc:
        group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    assert exc.value.code == "already_in_team"
    other_team = group_buys.team_open(actor=actor, campaign=campaign, member=other)
    with pytest.raises(services.OrderRefused):
        group_buys.team_join(actor=actor, team=other_team, member=leader)
    assert team.pk != other_team.pk


def test_short_team_fails_at_deadline_and_is_refunded(org_a, group_buy):
    actor, group, campaign = group_buy
    (leader,) = _buyers(org_a.org, group, 1)
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    assert group_buys.expire_teams(org_a.org) == 0
    assert group_buys.expire_teams(org_a.org, now=timezone.now() + timedelta(hours=25)) == 1
    team.refresh_from_db()
    assert team.status == "failed"
    assert Order.objects.for_org(org_a.org).get(campaign=campaign).status == "refunded"
    notice = Action.objects.for_org(org_a.org).get(kind="member.notify")
    sentence, link_line = notice.payload["text"].split("\n")
    assert sentence == "您参加的“两人拼团”拼团未能按时成团，款项将原路退回。"
    assert re.fullmatch(r"你的专属页面：http://\S+/m/org-a/l/[\w-]+/", link_line), link_line
    assert group_buys.expire_teams(org_a.org, now=timezone.now() + timedelta(hours=26)) == 0
    group_buys.team_open(actor=actor, campaign=campaign, member=leader)  # free again


def test_group_buy_api(org_a, group_buy):
    _actor, group, campaign = group_buy
    leader, friend = _buyers(org_a.org, group, 2)
    client = org_a.api_client()
    opened = client.post(
        f"/api/v1/campaigns/{campaign.pk}/teams/",
        {"member": leader.pk},
        content_type="application/json",
    )
    assert opened.status_code == 201
    team_id = opened.json()["id"]
    again = client.post(
        f"/api/v1/campaigns/{campaign.pk}/teams/",
        {"member": leader.pk},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_in_team"
    joined = client.post(
        f"/api/v1/teams/{team_id}/join/", {"member": friend.pk}, content_type="application/json"
    )
    assert joined.json()["status"] == "succeeded" and len(joined.json()["members"]) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_team_never_overfills_under_concurrency():
    from tenancy.actors import Actor
    from tenancy.services import organization_create

    org = organization_create(name="拼团并发", slug="team-race", owner_email="team@example.com")
    actor = Actor.system(org)
    group = community_services.community_create(actor=actor, name="g")
    campaign = live_group_buy(
        actor, group, name="三人团", product_name="x", price="1", original_price="2", team_size=3
    )
    buyers = _buyers(org, group, 9)
    team = group_buys.team_open(actor=actor, campaign=campaign, member=buyers[0])
    joiners = iter(buyers[1:])

    def join():
        try:
            group_buys.team_join(actor=actor, team=team, member=next(joiners))
            return "ok"
        except services.OrderRefused as exc:
            return exc.code

    results = run_concurrently(join, 8)
    assert results.count("ok") == 2 and results.count("team_closed") == 6
    assert Team.objects.for_org(org).get(pk=team.pk).status == "succeeded"
    assert Order.objects.for_org(org).filter(campaign=campaign).count() == 3


def test_builder_and_live_page_for_group_buys(org_a, group_buy):
    actor, group, campaign = group_buy
    (leader,) = _buyers(org_a.org, group, 1)
    group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    client = org_a.client_for(org_a.owner)
    page = client.get(f"/o/{org_a.org.slug}/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="teams"' in page and "1/2" in page
    now = timezone.now().astimezone(org_a.org.tzinfo)
    form = {
        "kind": "group_buy",
        "name": "三人团",
        "product_name": "奶粉",
        "price": "199",
        "original_price": "239",
        "stock": "100",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "communities": [group.pk],
        "per_member_cap": "1",
        "payment_minutes": "15",
        "cost": "0",
        "team_size": "3",
        "team_hours": "12",
    }
    response = client.post(f"/o/{org_a.org.slug}/campaigns/new/", form)
    assert response.status_code == 302
    from campaigns.models import Campaign

    created = Campaign.objects.for_org(org_a.org).get(name="三人团")
    assert (created.kind, created.team_size, created.team_hours) == ("group_buy", 3, 12)


def test_refunding_or_cancelling_a_group_buy_order_returns_no_stock_it_never_took(org_a, group_buy):
    """Group-buy orders do not take stock_left, so giving them up must not return any (it once
    pushed stock_left past stock_total: a CheckConstraint error, a 500)."""
    actor, group, campaign = group_buy
    leader, friend = _buyers(org_a.org, group, 2)
    team = group_buys.team_open(actor=actor, campaign=campaign, member=leader)
    group_buys.team_join(actor=actor, team=team, member=friend)
    first, second = Order.objects.for_org(org_a.org).filter(campaign=campaign).order_by("pk")
    assert services.order_refund(actor=actor, order=first).status == "refunded"
    assert services.order_cancel(actor=actor, order=second).status == "cancelled"
    campaign.refresh_from_db()
    assert campaign.stock_left == campaign.stock_total == 1000
    (third,) = _buyers(org_a.org, group, 1, prefix="api")
    group_buys.team_open(actor=actor, campaign=campaign, member=third)
    order = Order.objects.for_org(org_a.org).get(campaign=campaign, member=third)
    response = org_a.api_client().post(
        f"/api/v1/orders/{order.pk}/refund/", content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "refunded"
    campaign.refresh_from_db()
    assert campaign.stock_left == 1000
