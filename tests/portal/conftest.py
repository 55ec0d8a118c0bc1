"""Member pages: a member of org A in a live flash sale's group, signed in on a test client."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import lottery
from campaigns import services as campaign_services
from communities import services as community_services
from members import access
from members.models import Member, MemberIdentity, Membership
from portal.session import COOKIE, cookie_path

from ..factories import live_group_buy


def make_member(org, group, name, platform="wechat", user_id=None):
    member = Member.objects.create(organization=org, display_name=name)
    identity = MemberIdentity.objects.create(
        organization=org,
        member=member,
        platform=platform,
        external_user_id=user_id or f"u-{name}",
        display_name=name,
    )
    Membership.objects.create(
        organization=org, community=group, member=member, identity=identity, status="active"
    )
    return member


def signed_in(member, client=None) -> Client:
    client = client or Client()
    key = access.start_session(member, "link")
    client.cookies[COOKIE] = key
    client.cookies[COOKIE]["path"] = cookie_path(member.organization)
    return client


def page(org, name, **kwargs) -> str:
    return reverse(name, kwargs={"org": org.slug, **kwargs})


@pytest.fixture
def group(org_a):
    return community_services.community_create(actor=org_a.actor(), name="秒杀一群")


@pytest.fixture
def member(org_a, group):
    return make_member(org_a.org, group, "小明")


@pytest.fixture
def flash_sale(org_a, group):
    now = timezone.now()
    campaign = campaign_services.flash_sale_create(
        actor=org_a.actor(),
        name="今晚8点秒杀",
        product_name="白藜芦醇",
        price=Decimal("99"),
        original_price=Decimal("199"),
        stock=10,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=2),
        communities=[group],
        per_member_cap=2,
    )
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    return campaign


@pytest.fixture
def group_buy(org_a, group):
    return live_group_buy(org_a.actor(), group)


@pytest.fixture
def lottery_campaign(org_a, group):
    """A lottery open for entries for an hour, decided by a named public value published half an
    hour after entries close: one prize, 礼盒."""
    now = timezone.now()
    campaign = lottery.lottery_create(
        actor=org_a.actor(),
        name="周末抽奖",
        product_name="礼盒",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        public_source="体彩大乐透 第 26140 期 开奖号码",
        public_value_at=now + timedelta(hours=1, minutes=30),
        draw_at=now + timedelta(hours=1, minutes=30),
        communities=[group],
        prizes=[("礼盒", 1)],
    )
    campaign.status = "scheduled"
    campaign.save(update_fields=["status"])
    return campaign
