"""Dashboard pages of the communities app: what each role sees and can do."""

import pytest
from django.urls import reverse

from communities import services
from communities.models import Community, CommunityRules, StaffAssignment
from tenancy.models import AuditLogEntry

from ..factories import CommunityFactory


def _url(name, tenant, **kwargs):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kwargs})


@pytest.fixture
def groups(org_a):
    owner = org_a.actor()
    mine = services.community_create(actor=owner, name="综合1群", external_id="g1", tags=["主群"])
    other = services.community_create(actor=owner, name="西安群", kind="regional", region="西安")
    services.rules_apply_template(actor=owner, community=mine, template="health_food")
    services.staff_assign(actor=owner, community=mine, user=org_a.deputy, role="deputy")
    return mine, other


def test_deputy_sees_only_the_assigned_group(org_a, groups):
    mine, other = groups
    client = org_a.client_for(org_a.deputy)
    page = client.get(_url("communities", org_a)).content.decode()
    assert "综合1群" in page and "西安群" not in page
    detail = client.get(_url("community-detail", org_a, pk=mine.pk))
    assert detail.status_code == 200
    assert "西安-小王-白藜芦醇" in detail.content.decode()  # can read the rules
    assert client.get(_url("community-detail", org_a, pk=other.pk)).status_code == 404
    assert client.get(_url("community-rules", org_a, pk=mine.pk)).status_code == 403
    assert client.get(_url("community-edit", org_a, pk=mine.pk)).status_code == 403
    assert client.get(_url("tiers", org_a)).status_code == 403


def test_owner_lists_searches_filters_and_sorts(org_a, groups, django_assert_max_num_queries):
    for i in range(60):
        CommunityFactory(organization=org_a.org, name=f"批量{i:02d}群", kind="category")
    client = org_a.client_for(org_a.owner)
    url = _url("communities", org_a)
    with django_assert_max_num_queries(15):
        page = client.get(url).content.decode()
    assert "共 62 个群" in page
    assert "西安群" in client.get(url + "?q=西安").content.decode()
    assert "综合1群" not in client.get(url + "?kind=category").content.decode()
    assert "综合1群" in client.get(url + "?tag=主群").content.decode()
    assert client.get(url + "?sort=newest&page=2").status_code == 200
    partial = client.get(url + "?q=西安", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and "西安群" in partial.content.decode()


def test_create_and_edit_with_bad_input(org_a, groups):
    client = org_a.client_for(org_a.owner)
    data = {
        "name": "新群",
        "kind": "general",
        "platform": "wechat",
        "external_id": "g1",
        "capacity": 500,
    }
    response = client.post(_url("community-create", org_a), data)
    assert response.status_code == 400  # external id g1 is taken
    assert "该平台上已有其他群使用此外部 ID。" in response.content.decode()
    assert not Community.objects.for_org(org_a.org).filter(name="新群").exists()
    data["external_id"] = "g-new"
    response = client.post(_url("community-create", org_a), data)
    assert response.status_code == 302
    created = Community.objects.for_org(org_a.org).get(name="新群")
    response = client.post(_url("community-edit", org_a, pk=created.pk), {**data, "capacity": 0})
    assert response.status_code == 400


def test_rules_form_saves_structured_rules_and_rejects_bad_pattern(org_a, groups):
    mine, _other = groups
    client = org_a.client_for(org_a.owner)
    url = _url("community-rules", org_a, pk=mine.pk)
    base = {
        "intro_who": "我们是谁",
        "warnings_before_removal": 2,
        "warning_expiry_days": 30,
        "announce_removal": "on",
        "no_flood_on": "on",
        "no_flood_max": 3,
        "no_flood_window": 60,
        "custom_rules": "第一条\n\n第二条",
    }
    bad = client.post(url, {**base, "name_card_on": "on", "name_card_format": "{city}{name}"})
    assert bad.status_code == 400
    rules = CommunityRules.objects.for_org(org_a.org).get(community=mine)
    assert rules.intro_who != "我们是谁"  # nothing written
    ok = client.post(url, {**base, "name_card_on": "on", "name_card_format": "{city}-{name}"})
    assert ok.status_code == 302
    rules.refresh_from_db()
    kinds = [r["kind"] for r in rules.rules]
    assert kinds == ["name_card", "no_flood", "custom", "custom"]
    assert rules.warnings_before_removal == 2
    # the edit form shows what was saved
    assert "{city}-{name}" in client.get(url).content.decode()


def test_copy_rules_to_three_groups(org_a, groups):
    mine, other = groups
    targets = [other] + [
        services.community_create(actor=org_a.actor(), name=f"目标{i}") for i in range(2)
    ]
    client = org_a.client_for(org_a.owner)
    url = _url("community-rules-copy", org_a, pk=mine.pk)
    assert client.post(url, {"targets": []}).status_code == 400
    response = client.post(url, {"targets": [t.pk for t in targets]})
    assert response.status_code == 302
    source = CommunityRules.objects.for_org(org_a.org).get(community=mine)
    for target in targets:
        assert CommunityRules.objects.for_org(org_a.org).get(community=target).rules == source.rules
    assert AuditLogEntry.objects.for_org(org_a.org).filter(action="community.rules_copy").exists()


def test_bulk_actions(org_a, groups):
    mine, other = groups
    client = org_a.client_for(org_a.owner)
    url = _url("communities", org_a)
    client.post(url, {"action": "tag", "ids": [mine.pk, other.pk], "tags": "华东, 新"})
    assert set(Community.objects.for_org(org_a.org).get(pk=other.pk).tags) == {"华东", "新"}
    client.post(
        url,
        {"action": "assign", "ids": [other.pk], "user": org_a.deputy.pk, "role": "topic_officer"},
    )
    assert (
        StaffAssignment.objects.for_org(org_a.org)
        .filter(community=other, role="topic_officer")
        .exists()
    )
    response = client.post(url, {"action": "assign", "ids": [other.pk]}, follow=True)
    assert response.status_code == 200  # a clear message, no 500
    client.post(url, {"action": "archive", "ids": [other.pk]})
    assert Community.objects.for_org(org_a.org).get(pk=other.pk).is_archived


def test_staff_directory_shows_load_and_warning(org_a):
    owner = org_a.actor()
    for i in range(5):
        community = services.community_create(actor=owner, name=f"群{i}")
        services.staff_assign(actor=owner, community=community, user=org_a.deputy, role="sub_owner")
    page = org_a.client_for(org_a.owner).get(_url("staff-directory", org_a)).content.decode()
    assert "table-warning" in page and org_a.deputy.email in page


def test_tiers_page_rejects_contradictions(org_a):
    client = org_a.client_for(org_a.owner)
    url = _url("tiers", org_a)
    base = {
        "min_paid_orders": 0,
        "min_spend": 0,
        "min_points": 0,
        "min_active_days_30": 0,
        "discount_percent": 0,
        "points_multiplier": 1,
        "hold_days": 0,
    }
    assert (
        client.post(url, {**base, "name": "高级", "rank": 2, "min_paid_orders": 3}).status_code
        == 302
    )
    response = client.post(url, {**base, "name": "VIP", "rank": 3, "min_paid_orders": 1})
    assert response.status_code == 400
    response = client.post(
        url, {**base, "name": "手动", "rank": 4, "manual_only": "on", "min_points": 5}
    )
    assert response.status_code == 400
    assert (
        org_a.client_for(org_a.analyst).post(url, {**base, "name": "x", "rank": 9}).status_code
        == 403
    )


def test_points_page(org_a):
    client = org_a.client_for(org_a.owner)
    url = _url("points", org_a)
    data = {
        "checkin": 2,
        "share": 3,
        "invite": 10,
        "per_yuan": "1.00",
        "repurchase_multiplier": "2.00",
        "per_message": 1,
        "message_daily_cap": 10,
        "streak_days": 7,
        "streak_bonus": 20,
        "share_daily_cap": 3,
        "invite_min_stay_days": 3,
        "invites_for_bonus": 5,
        "invite_bonus": 50,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, {**data, "repurchase_multiplier": "0.5"}).status_code == 400
    assert client.post(url, {"name": "5元券", "points_cost": 100}).status_code == 302
    assert client.post(url, {"name": "", "points_cost": 0}).status_code == 400
    assert "5元券" in client.get(url).content.decode()


def test_rules_form_edits_auto_replies_and_dormant_settings(org_a, groups):
    mine, _other = groups
    client = org_a.client_for(org_a.owner)
    url = _url("community-rules", org_a, pk=mine.pk)
    data = {
        "warnings_before_removal": 1,
        "warning_expiry_days": 30,
        "auto_replies": "1 = 群规如下\n2＝认识群友",
        "dormant_after_days": 10,
        "reminder_cooldown_days": 5,
        "max_reminders": 2,
        "reminder_template": "@{name} 想你了",
    }
    assert client.post(url, data).status_code == 302
    rules = CommunityRules.objects.for_org(org_a.org).get(community=mine)
    assert rules.auto_replies == [
        {"keyword": "1", "reply": "群规如下"},
        {"keyword": "2", "reply": "认识群友"},
    ]
    assert (rules.dormant_after_days, rules.max_reminders) == (10, 2)
    assert client.post(url, {**data, "auto_replies": "只有关键词"}).status_code == 400
