"""The communities REST API: groups, rules, staff, tiers, points rules, redemption items."""

import pytest

from communities import services
from communities.models import Community, CommunityRules, StaffAssignment, VipTier
from communities.rules import render_text
from tenancy.services import api_key_create

API = "/api/v1"


def _client(tenant, role):
    _, raw = api_key_create(actor=tenant.actor(), name=f"{role} bot", role=role)
    return tenant.api_client(raw)


@pytest.fixture
def manager(org_a):
    return _client(org_a, "manager")


@pytest.fixture
def analyst(org_a):
    return _client(org_a, "analyst")


@pytest.fixture
def owner(org_a):
    return org_a.actor()


def _group(actor, **kw):
    return services.community_create(actor=actor, **{"name": "健康综合1群", **kw})


def _post(client, url, data=None):
    return client.post(url, data=data or {}, content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, data=data, content_type="application/json")


def _put(client, url, data):
    return client.put(url, data=data, content_type="application/json")


def _error_fields(response, status=400):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == ("invalid" if status == 400 else "conflict")
    return error.get("fields", {})


# --- communities -----------------------------------------------------------------------------


def test_create_list_filter_patch_archive(manager, org_a):
    response = _post(
        manager,
        f"{API}/communities/",
        {
            "name": "西安宝妈群",
            "kind": "regional",
            "platform": "wecom",
            "external_id": " wx-100 ",
            "region": "西安",
            "tags": ["母婴", "西安"],
            "capacity": 300,
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["external_id"] == "wx-100"
    assert created["status"] == "active" and created["archived_at"] is None
    assert CommunityRules.objects.for_org(org_a.org).filter(community_id=created["id"]).exists()
    child = _post(
        manager,
        f"{API}/communities/",
        {"name": "VIP群", "kind": "vip", "parent": created["id"], "tags": ["养生馆"]},
    ).json()
    assert child["parent"] == created["id"]

    def names(query=""):
        response = manager.get(f"{API}/communities/{query}")
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json()["results"]]

    assert names() == ["VIP群", "西安宝妈群"]  # newest first
    assert names("?kind=regional") == ["西安宝妈群"]
    assert names("?platform=wecom") == ["西安宝妈群"]
    assert names("?tag=母婴") == ["西安宝妈群"]
    assert names("?tag=养生") == []  # a whole tag, not part of one
    assert names("?q=西安") == ["西安宝妈群"]
    assert names("?q=wx-1") == ["西安宝妈群"]
    assert _error_fields(manager.get(f"{API}/communities/?kind=nope")).keys() == {"kind"}

    url = f"{API}/communities/{created['id']}/"
    patched = _patch(manager, url, {"capacity": 450, "tags": ["母婴"]})
    assert patched.status_code == 200, patched.content
    assert patched.json()["capacity"] == 450 and patched.json()["tags"] == ["母婴"]
    assert manager.get(url).json()["capacity"] == 450

    archived = _post(manager, f"{url}archive/")
    assert archived.status_code == 200
    assert archived.json()["status"] == "archived" and archived.json()["archived_at"]
    assert names("?status=archived") == ["西安宝妈群"]
    assert _post(manager, f"{url}restore/").json()["status"] == "active"

    assert _put(manager, url, {"name": "x"}).status_code == 405
    assert manager.delete(url).status_code == 405
    assert Community.objects.for_org(org_a.org).count() == 2


def test_read_only_fields_and_org_are_not_taken_from_input(manager, org_a, org_b):
    response = _post(
        manager,
        f"{API}/communities/",
        {"name": "群", "status": "archived", "organization": org_b.org.pk},
    )
    assert response.status_code == 201
    # another org's row would not be found in org A (row-level security: no unscoped reads)
    community = Community.objects.for_org(org_a.org).get(pk=response.json()["id"])
    assert community.organization_id == org_a.org.pk and community.status == "active"


def test_analyst_reads_but_cannot_write(analyst, owner):
    community = _group(owner)
    url = f"{API}/communities/{community.pk}/"
    assert analyst.get(f"{API}/communities/").json()["results"][0]["id"] == community.pk
    assert analyst.get(url).status_code == 200
    assert analyst.get(f"{url}rules/").status_code == 200
    for response in [
        _post(analyst, f"{API}/communities/", {"name": "x"}),
        _patch(analyst, url, {"name": "x"}),
        _post(analyst, f"{url}archive/"),
        _put(analyst, f"{url}rules/", {"intro_who": "x"}),
        _post(analyst, f"{url}rules/copy/", {"targets": [community.pk]}),
        _post(analyst, f"{url}rules/template/", {"template": "health_food"}),
        _post(analyst, f"{API}/tiers/", {"name": "x", "rank": 1}),
        _put(analyst, f"{API}/points-rules/", {"checkin": 2}),
        _post(analyst, f"{API}/redemption-items/", {"name": "x", "points_cost": 1}),
    ]:
        assert response.status_code == 403, response.request["PATH_INFO"]
        assert response.json()["error"]["code"] == "permission_denied"
    community.refresh_from_db()
    assert community.name == "健康综合1群"


def test_staff_key_sees_no_groups(org_a, owner):
    community = _group(owner)
    services.staff_assign(actor=owner, community=community, user=org_a.deputy, role="deputy")
    staff = _client(org_a, "staff")
    response = staff.get(f"{API}/communities/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert staff.get(f"{API}/communities/{community.pk}/").status_code == 404
    assert staff.get(f"{API}/communities/{community.pk}/rules/").status_code == 404
    assert staff.get(f"{API}/staff-assignments/").json()["results"] == []
    assert staff.get(f"{API}/tiers/").status_code == 403  # organization-wide settings


def test_duplicate_external_id_is_a_conflict_on_the_field(manager, owner):
    _group(owner, external_id="wx-1")
    response = _post(manager, f"{API}/communities/", {"name": "另一个群", "external_id": "wx-1"})
    assert "external_id" in _error_fields(response, status=409)


def test_parent_and_tier_of_another_org_are_refused(manager, owner, org_a, org_b):
    theirs = _group(org_b.actor(), name="B群")
    their_tier = services.tier_save(actor=org_b.actor(), name="B级", rank=1)
    for data in [{"parent": theirs.pk}, {"required_tier": their_tier.pk}]:
        response = _post(manager, f"{API}/communities/", {"name": "x", **data})
        assert set(_error_fields(response)) == set(data)
    mine = _group(owner)
    response = _patch(manager, f"{API}/communities/{mine.pk}/", {"parent": theirs.pk})
    assert "parent" in _error_fields(response)
    assert Community.objects.for_org(org_a.org).count() == 1


def test_bad_community_input_is_a_400_never_a_500(manager, owner, org_a):
    community = _group(owner)
    for data, field in [
        ({"name": ""}, "name"),
        ({"name": "x" * 500}, "name"),
        ({"name": "x", "kind": "nope"}, "kind"),
        ({"name": "x", "capacity": 0}, "capacity"),
        ({"name": "x", "capacity": "many"}, "capacity"),
        ({"name": "x", "tags": "not-a-list"}, "tags"),
        ({"name": "x", "tags": ["x" * 31]}, "tags"),
        ({"name": "x", "tags": [{"a": 1}]}, "tags"),
        ({"name": "x", "tags": [str(i) for i in range(21)]}, "tags"),
        ({"name": "x", "parent": "abc"}, "parent"),
        ({"name": "x", "parent": 10**30}, "parent"),
        ({"name": "x", "parent": True}, "parent"),
        ({"name": "x\u0000"}, "name"),
    ]:
        response = _post(manager, f"{API}/communities/", data)
        fields = _error_fields(response)
        assert field in fields, (data, fields)
        assert all(isinstance(m, str) for m in fields[field])
    loop = _patch(manager, f"{API}/communities/{community.pk}/", {"parent": community.pk})
    assert "parent" in _error_fields(loop)
    assert Community.objects.for_org(org_a.org).count() == 1


def test_list_query_count_is_bounded(manager, owner, django_assert_max_num_queries):
    tier = services.tier_save(actor=owner, name="VIP", rank=1)
    parent = _group(owner, name="总群")
    for i in range(30):
        _group(owner, name=f"群{i}", parent=parent, required_tier=tier, tags=["a", "b"])
    with django_assert_max_num_queries(4):
        response = manager.get(f"{API}/communities/?page_size=50&tag=a")
    assert len(response.json()["results"]) == 30


def test_cursor_pages_through_every_group_once(manager, owner):
    for i in range(7):
        _group(owner, name=f"群{i}")
    seen, url = [], f"{API}/communities/?page_size=3"
    while url:
        page = manager.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 7


def test_other_orgs_objects_are_404(manager, org_b):
    theirs = _group(org_b.actor(), name="B群")
    their_tier = services.tier_save(actor=org_b.actor(), name="B级", rank=1)
    their_item = services.redemption_item_save(actor=org_b.actor(), name="券", points_cost=10)
    their_staff = services.staff_assign(
        actor=org_b.actor(), community=theirs, user=org_b.deputy, role="deputy"
    )
    base = f"{API}/communities/{theirs.pk}/"
    for method, url in [
        ("get", base),
        ("patch", base),
        ("post", f"{base}archive/"),
        ("post", f"{base}restore/"),
        ("get", f"{base}rules/"),
        ("put", f"{base}rules/"),
        ("post", f"{base}rules/copy/"),
        ("post", f"{base}rules/template/"),
        ("get", f"{API}/staff-assignments/{their_staff.pk}/"),
        ("post", f"{API}/staff-assignments/{their_staff.pk}/end/"),
        ("get", f"{API}/tiers/{their_tier.pk}/"),
        ("patch", f"{API}/tiers/{their_tier.pk}/"),
        ("post", f"{API}/tiers/{their_tier.pk}/deactivate/"),
        ("get", f"{API}/redemption-items/{their_item.pk}/"),
        ("patch", f"{API}/redemption-items/{their_item.pk}/"),
    ]:
        response = getattr(manager, method)(url, data={}, content_type="application/json")
        assert response.status_code == 404, (method, url)
    their_staff.refresh_from_db()
    assert their_staff.ended_at is None


# --- rules -----------------------------------------------------------------------------------


def test_rules_get_returns_both_texts(manager, owner):
    community = _group(owner, name="养生群")
    services.rules_update(
        actor=owner,
        community=community,
        intro_who="本群是养生交流群。",
        rules=[{"kind": "no_personal_attacks"}],
        warnings_before_removal=2,
    )
    response = manager.get(f"{API}/communities/{community.pk}/rules/")
    assert response.status_code == 200
    body = response.json()
    assert body["rules"] == [{"kind": "no_personal_attacks", "params": {}}]
    assert body["warnings_before_removal"] == 2
    assert set(body["text"]) == {"zh-hans", "en"}
    assert "Welcome to 养生群!" in body["text"]["en"]
    assert "本群是养生交流群。" in body["text"]["zh-hans"]
    rules = CommunityRules.objects.for_org(community.organization).get(community=community)
    assert body["text"]["zh-hans"] == render_text(rules, "zh-hans")


def test_rules_put_normalises_and_rejects_bad_rules(manager, owner, org_a):
    community = _group(owner)
    url = f"{API}/communities/{community.pk}/rules/"
    response = _put(
        manager,
        url,
        {
            "welcome_message": "欢迎！",
            "rules": [
                {"kind": "name_card", "params": {"format": "{city}-{name}"}},
                {"kind": "no_flood", "params": {"max_consecutive": "3"}},
            ],
            "announce_removal": False,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rules"][1] == {
        "kind": "no_flood",
        "params": {"max_consecutive": 3, "window_seconds": 60},
    }
    assert body["welcome_message"] == "欢迎！" and body["announce_removal"] is False
    assert "西安-小王" in body["text"]["en"]
    for bad in [
        [{"kind": "nope"}],
        [{"kind": ["no_ads"]}],
        [{"kind": "name_card", "params": {"format": 5}}],
        [{"kind": "name_card", "params": {"format": "{city"}}],
        [{"kind": "custom", "params": {"text": "bad\u0000"}}],
        "not a list",
        [{"kind": "custom", "params": {"text": "x"}}] * 31,
    ]:
        fields = _error_fields(_put(manager, url, {"rules": bad}))
        assert list(fields) == ["rules"], bad
        assert all(isinstance(m, str) for m in fields["rules"])
    huge = '{"rules": [{"kind": "no_flood", "params": {"max_consecutive": 1e400}}]}'
    assert list(_error_fields(_put(manager, url, huge))) == ["rules"]  # 1e400 parses as inf
    fields = _error_fields(_put(manager, url, {"warnings_before_removal": 99, "rules": [{}]}))
    assert set(fields) == {"warnings_before_removal", "rules"}
    rules = CommunityRules.objects.for_org(org_a.org).get(community=community)
    assert rules.welcome_message == "欢迎！" and len(rules.rules) == 2


def test_rules_copy_and_template(manager, owner, org_a, org_b):
    source, *targets = [_group(owner, name=f"群{i}") for i in range(3)]
    url = f"{API}/communities/{source.pk}/rules/"
    response = _post(manager, f"{url}template/", {"template": "health_food"})
    assert response.status_code == 200, response.content
    assert response.json()["source_template"] == "health_food"
    response = _post(manager, f"{url}copy/", {"targets": [t.pk for t in targets]})
    assert response.status_code == 200, response.content
    assert response.json() == {"copied": 2}
    source_rules = CommunityRules.objects.for_org(org_a.org).get(community=source)
    for target in targets:
        copied = CommunityRules.objects.for_org(org_a.org).get(community=target)
        assert copied.rules == source_rules.rules and copied.source_template == "health_food"

    theirs = _group(org_b.actor(), name="B群")
    for bad in [{}, {"targets": []}, {"targets": [theirs.pk]}, {"targets": ["x"]}]:
        assert "targets" in _error_fields(_post(manager, f"{url}copy/", bad))
    assert "targets" in _error_fields(_post(manager, f"{url}copy/", {"targets": [source.pk]}))
    assert "template" in _error_fields(_post(manager, f"{url}template/", {"template": "x"}))
    their_rules = CommunityRules.objects.for_org(org_b.org).get(community=theirs)
    assert their_rules.rules == []


# --- staff -----------------------------------------------------------------------------------


def test_staff_assign_list_and_end(manager, owner, org_a, org_b):
    community = _group(owner)
    response = _post(
        manager,
        f"{API}/staff-assignments/",
        {"community": community.pk, "user": org_a.deputy.pk, "role": "deputy"},
    )
    assert response.status_code == 201, response.content
    assignment = response.json()
    assert assignment["user_email"] == org_a.deputy.email and assignment["ended_at"] is None
    listed = manager.get(f"{API}/staff-assignments/?community={community.pk}").json()
    assert [row["id"] for row in listed["results"]] == [assignment["id"]]

    ended = _post(manager, f"{API}/staff-assignments/{assignment['id']}/end/")
    assert ended.status_code == 200 and ended.json()["ended_at"]
    assert manager.get(f"{API}/staff-assignments/").json()["results"] == []
    history = manager.get(f"{API}/staff-assignments/?include_ended=1").json()["results"]
    assert [row["id"] for row in history] == [assignment["id"]]
    assert manager.get(f"{API}/staff-assignments/{assignment['id']}/").status_code == 200
    assert StaffAssignment.objects.for_org(org_a.org).get().ended_at is not None

    theirs = _group(org_b.actor(), name="B群")
    for data, field in [
        ({"community": community.pk, "user": org_b.deputy.pk, "role": "deputy"}, "user"),
        ({"community": community.pk, "user": org_a.outsider.pk, "role": "deputy"}, "user"),
        ({"community": theirs.pk, "user": org_a.deputy.pk, "role": "deputy"}, "community"),
        ({"community": community.pk, "user": org_a.deputy.pk, "role": "king"}, "role"),
    ]:
        assert field in _error_fields(_post(manager, f"{API}/staff-assignments/", data))


def test_analyst_cannot_assign_staff(analyst, owner, org_a):
    community = _group(owner)
    response = _post(
        analyst,
        f"{API}/staff-assignments/",
        {"community": community.pk, "user": org_a.deputy.pk, "role": "deputy"},
    )
    assert response.status_code == 403
    assert not StaffAssignment.objects.for_org(org_a.org).exists()


# --- tiers, points, redemption ---------------------------------------------------------------


def test_tiers_create_patch_contradiction_and_deactivate(manager, owner, org_a):
    response = _post(
        manager,
        f"{API}/tiers/",
        {"name": "高级会员", "rank": 2, "min_paid_orders": 2, "min_spend": "200"},
    )
    assert response.status_code == 201, response.content
    senior = response.json()
    assert senior["min_spend"] == "200.00" and senior["is_active"] is True
    assert "organization" not in senior

    contradictory = _post(
        manager, f"{API}/tiers/", {"name": "VIP会员", "rank": 3, "min_paid_orders": 1}
    )
    assert contradictory.status_code == 400
    assert contradictory.json()["error"]["message"] == (
        "条件矛盾：“VIP会员”的级别高于“高级会员”，因此其各项条件都不得低于后者，且不能完全相同。"
    )
    taken = _post(manager, f"{API}/tiers/", {"name": "x", "rank": 2})
    assert "rank" in _error_fields(taken, status=409)
    manual = _post(
        manager, f"{API}/tiers/", {"name": "核心", "rank": 9, "manual_only": True, "min_points": 5}
    )
    assert manual.status_code == 400
    assert "min_spend" in _error_fields(
        _post(manager, f"{API}/tiers/", {"name": "y", "rank": 5, "min_spend": "abc"})
    )

    url = f"{API}/tiers/{senior['id']}/"
    assert _patch(manager, url, {"benefits": "包邮"}).json()["benefits"] == "包邮"
    deactivated = _post(manager, f"{url}deactivate/")
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    assert VipTier.objects.for_org(org_a.org).count() == 1
    active = manager.get(f"{API}/tiers/?is_active=true").json()["results"]
    assert active == []


def test_tier_in_use_cannot_be_deactivated(manager, owner):
    tier = services.tier_save(actor=owner, name="VIP", rank=1)
    _group(owner, required_tier=tier)
    response = _post(manager, f"{API}/tiers/{tier.pk}/deactivate/")
    assert response.status_code == 409
    assert response.json()["error"]["message"]


def test_points_rules_get_and_put(manager, analyst, org_a):
    response = manager.get(f"{API}/points-rules/")
    assert response.status_code == 200
    assert response.json()["checkin"] == 1 and response.json()["per_yuan"] == "1.00"
    assert analyst.get(f"{API}/points-rules/").status_code == 200

    response = _put(manager, f"{API}/points-rules/", {"checkin": 3, "per_yuan": "1.5"})
    assert response.status_code == 200, response.content
    assert response.json()["checkin"] == 3 and response.json()["share"] == 2
    assert services.points_rules_of(org_a.org).per_yuan == 1.5
    for bad, field in [
        ({"checkin": -1}, "checkin"),
        ({"per_yuan": "101"}, "per_yuan"),
        ({"repurchase_multiplier": "0.5"}, "repurchase_multiplier"),
        ({"invite": "lots"}, "invite"),
    ]:
        assert field in _error_fields(_put(manager, f"{API}/points-rules/", bad))
    assert services.points_rules_of(org_a.org).checkin == 3
    assert _patch(manager, f"{API}/points-rules/", {"checkin": 1}).status_code == 405


def test_redemption_items(manager, org_a):
    response = _post(
        manager, f"{API}/redemption-items/", {"name": "5元券", "points_cost": 100, "stock": 50}
    )
    assert response.status_code == 201, response.content
    item = response.json()
    url = f"{API}/redemption-items/{item['id']}/"
    assert _patch(manager, url, {"is_active": False}).json()["is_active"] is False
    assert (
        manager.get(f"{API}/redemption-items/?is_active=false").json()["results"][0]["id"]
        == (item["id"])
    )
    assert "points_cost" in _error_fields(
        _post(manager, f"{API}/redemption-items/", {"name": "x", "points_cost": 0})
    )
    assert "name" in _error_fields(_post(manager, f"{API}/redemption-items/", {"points_cost": 5}))
