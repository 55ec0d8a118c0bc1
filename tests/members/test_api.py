"""The members REST API: members, identities, memberships, warnings, blocks, points, outbox."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from communities import services as community_services
from communities.models import Community
from integrations.models import Action
from members import api
from members.models import Block, Member, MemberIdentity, Membership, Warning
from tenancy.actors import Actor
from tenancy.models import AuditLogEntry, OrgMembership
from tenancy.scope import org_scope
from tenancy.services import api_key_create

from .conftest import ev

API = "/api/v1"


def _client(tenant, role):
    _, raw = api_key_create(actor=tenant.actor(), name=f"{role} bot", role=role)
    client = tenant.api_client(raw)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages checked below are the English ones
    return client


@pytest.fixture
def manager(org_a):
    return _client(org_a, "manager")


@pytest.fixture
def analyst(org_a):
    return _client(org_a, "analyst")


@pytest.fixture
def staff_key(org_a):
    return _client(org_a, "staff")


def _post(client, url, data=None):
    return client.post(url, data=data or {}, content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, data=data, content_type="application/json")


def _ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def _error_fields(response, status=400):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == ("invalid" if status == 400 else "conflict")
    return error.get("fields", {})


def _ids(response):
    return [row["id"] for row in _ok(response)["results"]]


def _member(org, user, platform="wechat"):
    return Member.objects.for_org(org).get(
        identities__external_user_id=user, identities__platform=platform
    )


def _membership(org, user="u1", community="g1"):
    return Membership.objects.for_org(org).get(
        identity__external_user_id=user, community__external_id=community
    )


def _audit(org, action):
    return list(
        AuditLogEntry.objects.for_org(org).filter(action=action).values_list("object_id", flat=True)
    )


@pytest.fixture
def people(org_a, group, post):
    """g1 (health-food rules, one warning before removal) and g2; u1 in both, u2 in g2 only,
    u3 in g1 only."""
    community_services.community_create(actor=org_a.actor(), name="西安宝妈群", external_id="g2")
    post(
        [
            ev("member.joined", user="u1", display_name="小王", name_card="西安-小王-鱼油"),
            ev("member.joined", user="u1", community="g2", at=1),
            ev("member.joined", user="u2", community="g2", at=2, display_name="李姐"),
            ev("member.joined", user="u3", at=3, display_name="阿强"),
        ]
    )
    org = org_a.org
    return {
        "g1": Community.objects.for_org(org).get(external_id="g1"),
        "g2": Community.objects.for_org(org).get(external_id="g2"),
        "u1": _member(org, "u1"),
        "u2": _member(org, "u2"),
        "u3": _member(org, "u3"),
    }


# --- visibility ------------------------------------------------------------------------------


def test_manager_key_sees_every_member_with_details(manager, org_a, people):
    assert sorted(_ids(manager.get(f"{API}/members/"))) == sorted(
        m.pk for k, m in people.items() if k.startswith("u")
    )
    detail = _ok(manager.get(f"{API}/members/{people['u1'].pk}/"))
    assert detail["display_name"] == "小王" and detail["name_card"] == "西安-小王-鱼油"
    assert [(i["platform"], i["external_user_id"]) for i in detail["identities"]] == [
        ("wechat", "u1")
    ]
    groups = {m["community_name"]: m for m in detail["memberships"]}
    assert set(groups) == {"健康交流1群", "西安宝妈群"}
    assert groups["健康交流1群"]["community"] == people["g1"].pk
    assert {"status", "joined_at", "last_active_at", "flags"} <= groups["西安宝妈群"].keys()
    assert detail["points_balance"] == 0 and detail["tier"] is None and not detail["is_blocked"]


def test_staff_key_sees_no_members(staff_key, people):
    """A staff-role key has no person and so no groups behind it: empty lists and 404s."""
    for path in ["members", "memberships", "warnings", "identities", "blocks"]:
        assert _ids(staff_key.get(f"{API}/{path}/")) == []
    assert staff_key.get(f"{API}/members/{people['u1'].pk}/").status_code == 404
    membership = Membership.objects.for_org(people["u1"].organization).first()
    assert staff_key.get(f"{API}/memberships/{membership.pk}/").status_code == 404
    assert (
        _post(staff_key, f"{API}/memberships/{membership.pk}/warn/", {"reason": "x"}).status_code
        == 404
    )


def _as_actor(actor, viewset, actions, method="get", pk=None, data=None):
    """Call a viewset as a dashboard user's actor (no API key can carry a deputy's groups)."""
    factory = APIRequestFactory()
    request = getattr(factory, method)("/", data=data, format="json")
    force_authenticate(request, user=None, token=actor)
    response = viewset.as_view(actions)(request, **({"pk": pk} if pk else {}))
    response.render()
    return response


def test_deputy_sees_and_acts_in_their_groups_only(org_a, people):
    community_services.staff_assign(
        actor=org_a.actor(), community=people["g1"], user=org_a.deputy, role="deputy"
    )
    deputy = Actor.for_user(OrgMembership.objects.for_org(org_a.org).get(user=org_a.deputy))
    listed = _as_actor(deputy, api.MemberViewSet, {"get": "list"})
    assert sorted(row["id"] for row in listed.data["results"]) == sorted(
        [people["u1"].pk, people["u3"].pk]
    )
    u1 = _as_actor(deputy, api.MemberViewSet, {"get": "retrieve"}, pk=people["u1"].pk)
    assert [m["community_name"] for m in u1.data["memberships"]] == ["健康交流1群"]
    hidden = _as_actor(deputy, api.MemberViewSet, {"get": "retrieve"}, pk=people["u2"].pk)
    assert hidden.status_code == 404

    in_g1 = _membership(org_a.org, "u3", "g1")
    in_g2 = _membership(org_a.org, "u2", "g2")
    warn = {"post": "warn"}
    ok = _as_actor(deputy, api.MembershipViewSet, warn, "post", in_g1.pk, {"reason": "广告"})
    assert ok.status_code == 200, ok.data
    assert ok.data["status"] == "warned"
    other = _as_actor(deputy, api.MembershipViewSet, warn, "post", in_g2.pk, {"reason": "x"})
    assert other.status_code == 404
    # Deputies hold member.warn in their group, not the org-wide member.edit (PATCH).
    patch = _as_actor(
        deputy, api.MemberViewSet, {"patch": "partial_update"}, "patch", people["u1"].pk, {}
    )
    assert patch.status_code == 403


def test_other_orgs_objects_are_404_and_their_ids_invalid(manager, org_a, org_b, people):
    b_member = Member.objects.create(organization=org_b.org, display_name="B")
    b_identity = MemberIdentity.objects.create(
        organization=org_b.org, member=b_member, platform="wechat", external_user_id="b1"
    )
    for url in [
        f"{API}/members/{b_member.pk}/",
        f"{API}/members/{b_member.pk}/points/",
        f"{API}/identities/{b_identity.pk}/",
    ]:
        assert manager.get(url).status_code == 404
    assert _patch(manager, f"{API}/members/{b_member.pk}/", {"notes": "x"}).status_code == 404
    assert _post(manager, f"{API}/identities/{b_identity.pk}/unlink/").status_code == 404
    link = _post(manager, f"{API}/members/{people['u1'].pk}/link/", {"identity": b_identity.pk})
    assert _error_fields(link).keys() == {"identity"}
    from tests.factories import RedemptionItemFactory

    b_item = RedemptionItemFactory(organization=org_b.org, points_cost=0)
    redeem = _post(manager, f"{API}/members/{people['u1'].pk}/points/redeem/", {"item": b_item.pk})
    assert _error_fields(redeem).keys() == {"item"}
    # Filters with another org's ids match nothing.
    assert (
        _ids(
            manager.get(
                f"{API}/members/?community={Community.objects.create(organization=org_b.org, name='b', external_id='bg').pk}"
            )
        )
        == []
    )


# --- members: filters, edit, points, identities ------------------------------------------------


def test_member_filters(manager, org_a, people):
    org = org_a.org
    from members import services

    with org_scope(org):  # services run in their request's scope (row-level security)
        services.member_update(actor=org_a.actor(), member=people["u2"], tags=["VIP", "宝妈"])
        services.member_update(actor=org_a.actor(), member=people["u3"], tags=["VIP客户"])
        tier = community_services.tier_save(actor=org_a.actor(), name="金卡", rank=1)
        Member.objects.for_org(org).filter(pk=people["u3"].pk).update(tier=tier)
        services.member_remove(
            actor=org_a.actor(), membership=_membership(org, "u3", "g1"), reason="广告", block=True
        )

    def ids(query):
        return sorted(_ids(manager.get(f"{API}/members/?{query}")))

    u1, u2, u3 = people["u1"].pk, people["u2"].pk, people["u3"].pk
    assert ids("q=小王") == [u1]
    assert ids("q=鱼油") == [u1]  # name card
    assert ids("q=u2") == [u2]  # platform user id
    assert ids("tag=VIP") == [u2]  # a whole tag, not part of one
    assert ids(f"tier={tier.pk}") == [u3]
    assert ids(f"community={people['g2'].pk}") == sorted([u1, u2])
    assert ids("status=removed") == [u3]
    assert ids("blocked=1") == [u3]
    assert ids("blocked=0") == sorted([u1, u2])
    assert _error_fields(manager.get(f"{API}/members/?status=nope")).keys() == {"status"}
    assert _error_fields(manager.get(f"{API}/members/?community=abc")).keys() == {"community"}
    assert _error_fields(manager.get(f"{API}/members/?tier=1e99")).keys() == {"tier"}
    identities = _ok(manager.get(f"{API}/identities/?platform=wechat&external_user_id=u2"))
    assert [i["member"] for i in identities["results"]] == [u2]


def test_patch_tags_and_notes_is_audited_and_needs_member_edit(manager, analyst, org_a, people):
    url = f"{API}/members/{people['u1'].pk}/"
    patched = _ok(_patch(manager, url, {"tags": ["VIP", " VIP ", "宝妈"], "notes": "喜欢鱼油"}))
    assert patched["tags"] == ["VIP", "宝妈"] and patched["notes"] == "喜欢鱼油"
    assert len(patched["memberships"]) == 2  # the full detail comes back
    ignored = _ok(_patch(manager, url, {"display_name": "改名", "points_balance": 999}))
    assert ignored["display_name"] == "小王" and ignored["points_balance"] == 0
    assert _audit(org_a.org, "member.update") == [str(people["u1"].pk)]  # read-only: no write
    assert _error_fields(_patch(manager, url, {"tags": ["x" * 31]})).keys() == {"tags"}
    assert _error_fields(_patch(manager, url, {"notes": "x" * 5001})).keys() == {"notes"}
    assert _error_fields(_patch(manager, url, {"notes": "a\x00b"})).keys() == {"notes"}
    assert _patch(analyst, url, {"notes": "x"}).status_code == 403
    assert manager.put(url, {}, content_type="application/json").status_code == 405
    assert manager.delete(url).status_code == 405


def test_points_adjust_redeem_and_ledger(manager, analyst, org_a, people):
    from tests.factories import RedemptionItemFactory

    base = f"{API}/members/{people['u1'].pk}/points"
    added = _ok(_post(manager, f"{base}/adjust/", {"delta": 120, "reason": "活动补偿"}), 201)
    assert added["points_balance"] == 120 and added["entry"]["delta"] == 120
    assert isinstance(added["entry"]["id"], int)  # the ledger entry as stored, with its id
    big = RedemptionItemFactory(organization=org_a.org, name="电饭煲", points_cost=500)
    short = _post(manager, f"{base}/redeem/", {"item": big.pk})
    assert short.status_code == 409  # the balance, not the request, is short
    assert short.json()["error"] == {
        "code": "conflict",
        "message": "Not enough points.",
        "request_id": short["X-Request-ID"],
    }
    coupon = RedemptionItemFactory(organization=org_a.org, name="5元券", points_cost=100, stock=1)
    redeemed = _ok(_post(manager, f"{base}/redeem/", {"item": coupon.pk}), 201)
    assert redeemed["points_balance"] == 20 and redeemed["entry"]["detail"] == "5元券"
    assert isinstance(redeemed["entry"]["id"], int)
    too_much = _post(manager, f"{base}/adjust/", {"delta": -21, "reason": "扣分"})
    assert _error_fields(too_much, status=409).keys() == {"delta"}  # the balance is too low
    assert _error_fields(_post(manager, f"{base}/adjust/", {"delta": 5})).keys() == {"reason"}
    assert _error_fields(
        _post(manager, f"{base}/adjust/", {"delta": "x", "reason": "r"})
    ).keys() == {"delta"}
    ledger = _ok(manager.get(f"{base}/?page_size=1"))
    assert [e["delta"] for e in ledger["results"]] == [-100]  # newest first
    assert ledger["next"]
    assert [e["delta"] for e in _ok(manager.get(ledger["next"]))["results"]] == [120]
    assert _audit(org_a.org, "points.adjust") and _audit(org_a.org, "points.redeem")
    assert _post(analyst, f"{base}/adjust/", {"delta": 1, "reason": "r"}).status_code == 403
    assert _ok(analyst.get(f"{base}/"))["results"]  # reading the ledger is fine


def test_link_and_unlink_identities(manager, analyst, org_a, people, post):
    post([ev("member.joined", user="tg-1", community="g2", at=9, display_name="小王TG")])
    telegram = MemberIdentity.objects.for_org(org_a.org).get(external_user_id="tg-1")
    url = f"{API}/members/{people['u1'].pk}/link/"
    assert _post(analyst, url, {"identity": telegram.pk}).status_code == 403
    linked = _ok(_post(manager, url, {"identity": telegram.pk}))
    assert {i["external_user_id"] for i in linked["identities"]} == {"u1", "tg-1"}
    assert _post(manager, url, {"identity": telegram.pk}).status_code == 409  # already linked
    assert _error_fields(_post(manager, url, {})).keys() == {"identity"}
    assert _audit(org_a.org, "member.identity_link") == [str(people["u1"].pk)]

    unlinked = _ok(_post(manager, f"{API}/identities/{telegram.pk}/unlink/"))
    assert unlinked["id"] != people["u1"].pk
    assert [i["external_user_id"] for i in unlinked["identities"]] == ["tg-1"]
    only = MemberIdentity.objects.for_org(org_a.org).get(external_user_id="u2")
    refused = _post(manager, f"{API}/identities/{only.pk}/unlink/")
    assert refused.status_code == 409 and "only identity" in refused.json()["error"]["message"]
    assert _post(analyst, f"{API}/identities/{only.pk}/unlink/").status_code == 403


# --- memberships, warnings, blocks -------------------------------------------------------------


def test_warn_remove_reinstate_revoke_with_audit(manager, org_a, people):
    org = org_a.org
    membership = _membership(org, "u3", "g1")
    url = f"{API}/memberships/{membership.pk}"
    warned = _ok(_post(manager, f"{url}/warn/", {"reason": "发广告链接"}))
    assert warned["status"] == "warned"
    assert [w["detail"] for w in warned["active_warnings"]] == ["发广告链接"]
    assert warned["changes"][0]["to_status"] == "warned"
    warning_id = warned["active_warnings"][0]["id"]
    assert _ok(manager.get(f"{API}/warnings/?membership={membership.pk}&active=1"))["results"]

    revoked = _ok(_post(manager, f"{API}/warnings/{warning_id}/revoke/"))
    assert revoked["revoked_at"] and revoked["is_active"] is False
    assert _ok(manager.get(f"{url}/"))["status"] == "active"
    assert _post(manager, f"{API}/warnings/{warning_id}/revoke/").status_code == 409
    assert _ids(manager.get(f"{API}/warnings/?active=1")) == []

    removed = _ok(_post(manager, f"{url}/remove/", {"reason": "屡次广告", "block": True}))
    assert removed["status"] == "removed" and removed["left_at"]
    assert _post(manager, f"{url}/remove/", {"reason": "again"}).status_code == 409
    assert _ids(manager.get(f"{API}/blocks/")) == [
        Block.objects.for_org(org).get(member=people["u3"]).pk
    ]
    reinstated = _ok(_post(manager, f"{url}/reinstate/", {"reason": "误踢"}))
    assert reinstated["status"] == "active"
    assert [c["to_status"] for c in reinstated["changes"]][:2] == ["active", "removed"]
    assert _post(manager, f"{url}/reinstate/", {}).status_code == 409  # not removed any more

    kinds = set(Action.objects.for_org(org).values_list("kind", flat=True))
    assert {"member.warn", "member.remove", "member.invite_back"} <= kinds
    pk = str(membership.pk)
    for action in ["member.warn", "member.warning_revoke", "member.remove", "member.reinstate"]:
        assert _audit(org, action) == [pk], action


def test_second_warning_at_the_threshold_removes(manager, org_a, people):
    url = f"{API}/memberships/{_membership(org_a.org, 'u3', 'g1').pk}/warn/"
    assert _ok(_post(manager, url, {"reason": "一次"}))["status"] == "warned"
    assert _ok(_post(manager, url, {"reason": "两次"}))["status"] == "removed"


def test_membership_action_input_errors(manager, org_a, people):
    url = f"{API}/memberships/{_membership(org_a.org).pk}"
    assert _error_fields(_post(manager, f"{url}/warn/", {})).keys() == {"reason"}
    assert _error_fields(_post(manager, f"{url}/warn/", {"reason": "x" * 301})).keys() == {"reason"}
    assert _error_fields(_post(manager, f"{url}/warn/", {"reason": " "})).keys() == {"reason"}
    assert _error_fields(
        _post(manager, f"{url}/remove/", {"reason": "r", "block": "maybe"})
    ).keys() == {"block"}
    assert _error_fields(_post(manager, f"{url}/onboarding/", {"step": "dance"})).keys() == {"step"}
    marked = _ok(_post(manager, f"{url}/onboarding/", {"step": "coupon"}))
    assert marked["coupon_issued_at"]
    assert _audit(org_a.org, "member.onboarding_coupon")
    assert Membership.objects.for_org(org_a.org).filter(status="warned").count() == 0


def test_analyst_reads_but_cannot_write(analyst, org_a, people):
    org = org_a.org
    membership = _membership(org, "u3", "g1")
    warning = Warning.objects.create(
        organization=org,
        membership=membership,
        reason="manual",
        expires_at=membership.joined_at.replace(year=2099),
        actor_label="t",
    )
    block = Block.objects.create(
        organization=org, member=people["u2"], reason="ads", actor_label="t"
    )
    assert len(_ids(analyst.get(f"{API}/members/"))) == 3
    assert _ids(analyst.get(f"{API}/memberships/"))
    url = f"{API}/memberships/{membership.pk}"
    for path, body in [
        (f"{url}/warn/", {"reason": "r"}),
        (f"{url}/remove/", {"reason": "r"}),
        (f"{url}/reinstate/", {}),
        (f"{url}/onboarding/", {"step": "coupon"}),
        (f"{API}/warnings/{warning.pk}/revoke/", {}),
        (f"{API}/blocks/{block.pk}/lift/", {}),
    ]:
        response = _post(analyst, path, body)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"
    assert analyst.get(f"{API}/actions/").status_code == 403
    assert _ok(analyst.get(f"{API}/blocks/{block.pk}/"))["member"] == people["u2"].pk
    assert not AuditLogEntry.objects.for_org(org).filter(action__startswith="member.").exists()


def test_membership_filters_and_detail(manager, org_a, people, post):
    org = org_a.org
    g1, g2 = people["g1"].pk, people["g2"].pk

    def ids(query):
        return sorted(_ids(manager.get(f"{API}/memberships/?{query}")))

    every = ids("")
    assert len(every) == 4
    assert ids("newcomers=1") == every  # a join starts the onboarding
    Membership.objects.for_org(org).update(status="active")
    assert ids(f"community={g2}") == sorted(
        [_membership(org, "u1", "g2").pk, _membership(org, "u2", "g2").pk]
    )
    assert ids(f"member={people['u1'].pk}") == sorted(
        [_membership(org, "u1", "g1").pk, _membership(org, "u1", "g2").pk]
    )
    Membership.objects.for_org(org).filter(pk=_membership(org, "u3", "g1").pk).update(
        status="onboarding", flags=["below_tier", "blocked"]
    )
    assert ids("newcomers=1") == [_membership(org, "u3", "g1").pk]
    assert ids("flag=blocked") == [_membership(org, "u3", "g1").pk]
    assert ids("flag=block") == []
    assert ids(f"status=active&community={g1}") == [_membership(org, "u1", "g1").pk]
    assert _error_fields(manager.get(f"{API}/memberships/?status=gone")).keys() == {"status"}
    detail = _ok(manager.get(f"{API}/memberships/{_membership(org, 'u1', 'g1').pk}/"))
    assert detail["community_name"] == "健康交流1群" and detail["member_name"] == "小王"
    assert detail["platform"] == "wechat" and detail["external_user_id"] == "u1"
    assert detail["changes"] and detail["active_warnings"] == []


def test_blocks_list_lift_and_include_lifted(manager, analyst, org_a, people):
    org = org_a.org
    from members import services

    services.member_remove(
        actor=org_a.actor(), membership=_membership(org, "u2", "g2"), reason="广告", block=True
    )
    block = Block.objects.for_org(org).get()
    assert _ids(manager.get(f"{API}/blocks/")) == [block.pk]
    assert _post(analyst, f"{API}/blocks/{block.pk}/lift/").status_code == 403
    lifted = _ok(_post(manager, f"{API}/blocks/{block.pk}/lift/"))
    assert lifted["lifted_at"] and lifted["member_name"] == "李姐"
    assert _ids(manager.get(f"{API}/blocks/")) == []
    assert _ids(manager.get(f"{API}/blocks/?include_lifted=1")) == [block.pk]
    assert _ok(manager.get(f"{API}/blocks/{block.pk}/"))["lifted_at"]  # detail ignores filters
    assert _post(manager, f"{API}/blocks/{block.pk}/lift/").status_code == 409
    assert _audit(org, "member.unblock") == [str(people["u2"].pk)]


def test_actions_outbox_is_read_only(manager, analyst, staff_key, org_a, people):
    org = org_a.org
    welcomes = Action.objects.for_org(org).filter(kind="member.welcome")
    assert welcomes.exists()
    listed = _ok(manager.get(f"{API}/actions/?kind=member.welcome"))
    assert sorted(row["id"] for row in listed["results"]) == sorted(w.pk for w in welcomes)
    one = listed["results"][0]
    assert {"kind", "status", "community", "member", "payload"} <= one.keys()
    g2_ids = _ids(manager.get(f"{API}/actions/?community={people['g2'].pk}&status=pending"))
    assert g2_ids and all(
        a.community_id == people["g2"].pk for a in Action.objects.for_org(org).filter(pk__in=g2_ids)
    )
    assert _error_fields(manager.get(f"{API}/actions/?kind=nope")).keys() == {"kind"}
    assert _post(manager, f"{API}/actions/{one['id']}/").status_code == 405
    assert manager.delete(f"{API}/actions/{one['id']}/").status_code == 405
    assert analyst.get(f"{API}/actions/").status_code == 403
    assert staff_key.get(f"{API}/actions/").status_code == 403


# --- bounded queries ---------------------------------------------------------------------------


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        _ok(client.get(url))
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path", ["members/", "memberships/", "warnings/", "blocks/", "identities/", "actions/"]
)
def test_lists_run_a_constant_number_of_queries(manager, org_a, group, post, path):
    def add(n, start):
        events = []
        for i in range(start, start + n):
            events.append(ev("member.joined", user=f"m{i}", at=i, display_name=f"成员{i}"))
            events.append(ev("member.joined", user=f"m{i}", community="g-more", at=i))
        post(events)
        for membership in Membership.objects.for_org(org_a.org).filter(
            identity__external_user_id__in=[f"m{i}" for i in range(start, start + n)],
            community__external_id="g1",
        ):
            Warning.objects.create(
                organization=org_a.org,
                membership=membership,
                reason="manual",
                expires_at=membership.joined_at.replace(year=2099),
                actor_label="t",
            )
            Block.objects.create(
                organization=org_a.org, member_id=membership.member_id, reason="r", actor_label="t"
            )

    add(2, 0)
    manager.get(f"{API}/{path}")  # the key's first use of the day writes last_used_at
    few = _count_queries(manager, f"{API}/{path}")
    add(20, 10)
    assert _count_queries(manager, f"{API}/{path}") == few


def test_member_detail_queries_are_constant(manager, org_a, people, post):
    url = f"{API}/members/{people['u1'].pk}/"
    manager.get(url)  # the key's first use of the day writes last_used_at
    before = _count_queries(manager, url)
    post([ev("member.joined", user="u1", community=f"extra-{i}", at=20 + i) for i in range(6)])
    assert len(_ok(manager.get(url))["memberships"]) == 8
    assert _count_queries(manager, url) == before
