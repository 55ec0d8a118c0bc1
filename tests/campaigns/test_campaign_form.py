"""新建活动: the form shows the chosen kind's fields only, and saving says which kind was saved."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone
from django.utils.translation import gettext as _

from communities import services as community_services

SALE_ONLY = ("price", "original_price", "stock", "per_member_cap", "payment_minutes")
GROUP_BUY_ONLY = ("team_size", "team_hours")
LOTTERY_ONLY = ("prizes", "public_source", "public_value_at", "draw_at", "require_checkin")
EVERY_KIND = ("name", "product_name", "starts_at", "ends_at", "communities", "min_tier", "cost")


def _wrappers(html: str) -> dict[str, str]:
    """{field name: the attributes of the block that wraps it} for each field of the form."""
    out = {}
    for match in re.finditer(
        r'<div class="(?:mb-3|form-check mb-3)"([^>]*)>(.*?)</div>', html, re.S
    ):
        attrs, body = match.groups()
        name = re.search(r'name="(\w+)"', body)
        if name:
            out.setdefault(name.group(1), attrs)
    return out


def _visible(html: str) -> set[str]:
    return {name for name, attrs in _wrappers(html).items() if " hidden" not in attrs}


def _form(group, kind, **extra):
    now = timezone.now()
    base = {
        "kind": kind,
        "name": f"{kind} 活动",
        "product_name": "深海鱼油",
        "price": "59",
        "original_price": "129",
        "stock": "10",
        "starts_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "public_source": "体彩大乐透 第 26140 期 开奖号码",
        "public_value_at": (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "draw_at": (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "communities": [group.pk],
        "per_member_cap": "1",
        "payment_minutes": "15",
        "cost": "0",
        "team_size": "2",
        "team_hours": "24",
        "prizes": "鱼油一瓶 : 1",
    }
    return {**base, **extra}


@pytest.fixture
def group(org_a):
    return community_services.community_create(actor=org_a.actor(), name="活动群")


def test_a_new_campaign_starts_as_a_flash_sale_with_its_fields_only(org_a, group):
    html = org_a.client_for(org_a.owner).get(f"/o/{org_a.org.slug}/campaigns/new/")
    html = html.content.decode()
    visible = _visible(html)
    assert set(SALE_ONLY) | set(EVERY_KIND) <= visible
    assert not visible & (set(GROUP_BUY_ONLY) | set(LOTTERY_ONLY))
    assert 'data-show-for="kind"' in html  # app.js switches the fields when the kind changes
    wrappers = _wrappers(html)
    assert 'data-show-values="lottery"' in wrappers["prizes"]
    assert 'data-show-values="group_buy"' in wrappers["team_size"]


@pytest.mark.parametrize(
    "kind, shown, hidden",
    [
        ("group_buy", SALE_ONLY + GROUP_BUY_ONLY, LOTTERY_ONLY),
        ("lottery", LOTTERY_ONLY, SALE_ONLY + GROUP_BUY_ONLY),
    ],
)
def test_a_form_sent_back_with_errors_shows_its_kinds_fields(org_a, group, kind, shown, hidden):
    client = org_a.client_for(org_a.owner)
    response = client.post(f"/o/{org_a.org.slug}/campaigns/new/", _form(group, kind, name=""))
    assert response.status_code == 400
    visible = _visible(response.content.decode())
    assert set(shown) <= visible and not visible & set(hidden)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("flash_sale", "Flash sale saved."),
        ("group_buy", "Group buy saved."),
        ("lottery", "Lottery saved."),
    ],
)
def test_saving_names_the_kind_that_was_saved(org_a, group, kind, message):
    client = org_a.client_for(org_a.owner)
    response = client.post(f"/o/{org_a.org.slug}/campaigns/new/", _form(group, kind))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [_(message)]
