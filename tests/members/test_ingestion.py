from datetime import timedelta
from decimal import Decimal

import pytest

from campaigns.models import Order
from communities.models import Community
from integrations.models import Action
from members.models import (
    Block,
    CheckIn,
    Invite,
    Member,
    MemberIdentity,
    Membership,
    MembershipChange,
    PointsEntry,
    RawEvent,
    Warning,
)

from ..concurrency import run_concurrently
from .conftest import T0, ev

# Warnings expire `warning_expiry_days` after the event that earned them, but the ones still
# active are counted against the clock: the events are dated T0, so the clock must be too.
AFTER_T0 = pytest.mark.time_machine(T0 + timedelta(minutes=10), tick=False)


def _membership(org, user="u1", community="g1"):
    return Membership.objects.for_org(org).get(
        identity__external_user_id=user, community__external_id=community
    )


def test_every_event_type_is_accepted_and_applied(org_a, group, post):
    events = [
        ev("member.joined", name_card="西安-小王-白藜芦醇", display_name="小王"),
        ev("message.posted", at=1, text="大家好，我是小王", length=8),
        ev("member.checked_in", at=2),
        ev("content.shared", at=3, url="https://example.com/p/1"),
        ev("member.invited", at=4, invitee="u2"),
        ev("member.joined", user="u2", at=5, invited_by="u1"),
        ev(
            "order.placed",
            at=6,
            order_id="o-1",
            amount="99.50",
            items=[{"name": "鱼油", "quantity": 1, "price": "99.50"}],
        ),
        ev("order.refunded", at=7, order_id="o-1"),
        ev("member.left", user="u2", at=8, reason="too_many_ads"),
    ]
    result = post(events)
    assert result == {"accepted": 9, "duplicates": 0, "rejected": []}
    org = org_a.org
    assert RawEvent.objects.for_org(org).count() == 9
    m1 = _membership(org)
    assert m1.status == "active" and m1.introduced_at and m1.welcomed_at and m1.name_card_ok
    assert m1.message_count == 1
    assert CheckIn.objects.for_org(org).get().streak == 1
    assert Invite.objects.for_org(org).count() == 1  # invited + joined-with-inviter: one row
    order = Order.objects.for_org(org).get()
    assert order.status == "refunded" and order.amount == Decimal("99.50")
    m2 = _membership(org, user="u2")
    assert m2.status == "left" and m2.churn_reason == "too_many_ads"
    welcome = Action.objects.for_org(org).filter(kind="member.welcome")
    assert welcome.count() == 2
    # the group's own welcome message (health_food template), sent as the operator wrote it
    assert [a.payload["text"] for a in welcome] == [
        "欢迎加入！回复“1”获取群规，回复“2”认识群友。进群请先修改群名片哦～"
    ] * 2
    member = Member.objects.for_org(org).get(identities__external_user_id="u1")
    ledger = sum(
        PointsEntry.objects.for_org(org).filter(member=member).values_list("delta", flat=True)
    )
    assert member.points_balance == ledger
    assert member.name_card == "西安-小王-白藜芦醇" and member.display_name == "小王"


def test_same_batch_twice_changes_nothing(org_a, group, post):
    events = [
        ev("member.joined"),
        ev("message.posted", at=1),
        ev("order.placed", at=2, order_id="o", amount=10),
    ]
    assert post(events)["accepted"] == 3
    snapshot = (
        Membership.objects.for_org(org_a.org).values_list("status", "message_count").get(),
        Action.objects.for_org(org_a.org).count(),
        PointsEntry.objects.for_org(org_a.org).count(),
    )
    assert post(events) == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert snapshot == (
        Membership.objects.for_org(org_a.org).values_list("status", "message_count").get(),
        Action.objects.for_org(org_a.org).count(),
        PointsEntry.objects.for_org(org_a.org).count(),
    )


def test_mixed_valid_and_invalid_events(org_a, group, post):
    events = [
        ev("member.joined"),
        {"type": "member.joined", "id": "x"},  # missing fields
        ev("order.placed", order_id="o", amount="-5"),
        ev("teleported"),
        "not an event",
        ev("message.posted", at=1),
    ]
    result = post(events)
    assert result["accepted"] == 2
    assert [r["index"] for r in result["rejected"]] == [1, 2, 3, 4]
    assert result["rejected"][0]["errors"] == {"occurred_at": ["此字段为必填项。"]}
    assert "amount" in result["rejected"][1]["errors"]
    assert RawEvent.objects.for_org(org_a.org).count() == 2


def test_batch_shape_errors(org_a, post):
    assert post({"not": "a list"}, status=400)["error"]["code"] == "invalid"
    assert post([ev("member.joined")] * 1001, status=400)["error"]["fields"]["events"]


def test_unknown_groups_and_people_are_created(org_a, post):
    post([ev("message.posted", user="新人", community="wx-new", display_name="新朋友")])
    community = Community.objects.for_org(org_a.org).get(external_id="wx-new")
    assert community.name == "wx-new"
    identity = MemberIdentity.objects.for_org(org_a.org).get(external_user_id="新人")
    assert identity.member.display_name == "新朋友"
    membership = _membership(org_a.org, user="新人", community="wx-new")
    assert membership.status == "active"
    assert MembershipChange.objects.for_org(org_a.org).filter(membership=membership).count() == 1


def test_constant_queries_per_batch(org_a, group, post, django_assert_max_num_queries):
    small = [ev("message.posted", user=f"s{i}", at=i) for i in range(5)]
    big = [ev("message.posted", user=f"b{i}", at=i) for i in range(300)]
    big += [ev("member.joined", user=f"j{i}", at=i) for i in range(100)]
    big += [ev("order.placed", user=f"b{i}", order_id=f"o{i}", amount=20, at=i) for i in range(100)]
    with django_assert_max_num_queries(45) as small_ctx:
        post(small)
    with django_assert_max_num_queries(60) as big_ctx:
        post(big)
    assert len(big_ctx.captured_queries) <= len(small_ctx.captured_queries) + 12


@AFTER_T0
def test_ads_warn_then_remove_and_block(org_a, group, post):
    post([ev("member.joined"), ev("message.posted", at=1)])
    post([ev("message.posted", at=2, has_link=True, links=["https://spam.example/x"])])
    membership = _membership(org_a.org)
    assert membership.status == "warned"
    warning = Warning.objects.for_org(org_a.org).get()
    assert warning.reason == "ads"
    assert Action.objects.for_org(org_a.org).filter(kind="member.warn").count() == 1
    # keyword in text: the second breach reaches the threshold (1 warning before removal)
    post([ev("message.posted", at=3, text="加微信领福利")])
    membership.refresh_from_db()
    assert membership.status == "removed"
    remove = Action.objects.for_org(org_a.org).get(kind="member.remove")
    assert remove.payload["announce"]
    assert Block.objects.for_org(org_a.org).filter(lifted_at=None).count() == 1
    # joining another group of the org flags them
    Community.objects.for_org(org_a.org)  # noqa: B018
    post([ev("member.joined", community="g2", at=10)])
    assert "blocked" in _membership(org_a.org, community="g2").flags


@AFTER_T0
def test_blocked_member_is_removed_on_join_when_the_org_says_so(org_a, group, post):
    org = org_a.org
    org.remove_blocked_on_join = True
    org.save()
    post([ev("member.joined"), ev("message.posted", at=1, has_link=True)])
    post([ev("message.posted", at=2, has_link=True)])
    post([ev("member.joined", community="g3", at=5)])
    assert _membership(org, community="g3").status == "removed"


def test_flood_detection(org_a, group, post):
    post([ev("member.joined")])
    # the template allows 5 messages within 60 seconds; the sixth is a breach
    burst = [ev("message.posted", at=1 + i / 100) for i in range(6)]
    post(burst)
    assert Warning.objects.for_org(org_a.org).get().reason == "flood"


def test_allowed_links_pass(org_a, post):
    from communities import services

    community = services.community_create(actor=org_a.actor(), name="群", external_id="g1")
    services.rules_update(
        actor=org_a.actor(),
        community=community,
        rules=[{"kind": "no_ads", "params": {"allowed_domains": ["jiankang.cn"]}}],
    )
    post([ev("message.posted", has_link=True, links=["https://shop.jiankang.cn/a"])])
    assert not Warning.objects.for_org(org_a.org).exists()


def test_keyword_auto_reply(org_a, group, post):
    from communities import services

    services.rules_update(
        actor=org_a.actor(), community=group, auto_replies=[{"keyword": "1", "reply": "群规如下……"}]
    )
    post([ev("message.posted", text="1")])
    reply = Action.objects.for_org(org_a.org).get(kind="post.reply")
    assert reply.payload["text"] == "群规如下……" and reply.payload["user_external_id"] == "u1"


def test_rejoin_keeps_history(org_a, group, post):
    post(
        [
            ev("member.joined"),
            ev("member.left", at=1, reason="no_benefits"),
            ev("member.joined", at=2),
        ]
    )
    membership = _membership(org_a.org)
    assert membership.status == "onboarding" and membership.churn_reason == ""
    statuses = list(
        MembershipChange.objects.for_org(org_a.org)
        .filter(membership=membership)
        .order_by("created_at")
        .values_list("to_status", flat=True)
    )
    assert statuses == ["onboarding", "left", "onboarding"]


def test_too_many_groups_of_a_kind_is_flagged(org_a, post):
    from communities import services

    for ext in ("g1", "g2"):
        services.community_create(actor=org_a.actor(), name=ext, external_id=ext, kind="general")
    post([ev("member.joined", community="g1"), ev("member.joined", community="g2", at=1)])
    assert "too_many_groups:general" in _membership(org_a.org, community="g2").flags
    assert not _membership(org_a.org, community="g1").flags


def test_checkin_streak_bonus_and_daily_once(org_a, group, post):
    post([ev("member.joined")])
    for day in range(7):
        post(
            [
                ev("member.checked_in", at=day * 24 * 60),
                ev("member.checked_in", at=day * 24 * 60 + 5),
            ]
        )
    checkins = CheckIn.objects.for_org(org_a.org).order_by("day")
    assert [c.streak for c in checkins] == [1, 2, 3, 4, 5, 6, 7]
    assert PointsEntry.objects.for_org(org_a.org).filter(reason="streak").count() == 1


def test_repurchase_earns_the_multiplier(org_a, group, post):
    post(
        [
            ev("order.placed", order_id="a", amount=100),
            ev("order.placed", order_id="b", amount=100, at=1),
        ]
    )
    entries = dict(PointsEntry.objects.for_org(org_a.org).values_list("reason", "delta"))
    assert entries == {"purchase": 100, "repurchase": 200}


def test_message_points_are_capped_daily(org_a, post):
    from communities import services

    services.points_rules_update(actor=org_a.actor(), per_message=2, message_daily_cap=5)
    post([ev("message.posted", at=i) for i in range(10)])
    assert sum(PointsEntry.objects.for_org(org_a.org).values_list("delta", flat=True)) == 5


def test_message_text_is_not_stored_unless_the_org_opts_in(org_a, post):
    post([ev("message.posted", text="秘密")])
    assert "text" not in RawEvent.objects.for_org(org_a.org).get().payload


def test_other_orgs_events_are_separate(org_a, org_b, post):
    post([ev("member.joined")])
    response = org_b.api_client().post(
        "/api/v1/events/", {"events": [ev("member.joined")]}, content_type="application/json"
    )
    assert response.json()["accepted"] == 1
    assert Membership.objects.for_org(org_b.org).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_count_every_message_once():
    """Two bots post at once, overlapping: every event is applied exactly once."""
    from ingestion.pipeline import ingest_events
    from tenancy.actors import Actor
    from tenancy.services import organization_create

    org = organization_create(name="并发事件", slug="events-race", owner_email="e@example.com")
    actor = Actor.system(org, "tests")
    ingest_events(actor=actor, raw_events=[ev("member.joined", user="talker")])
    shared = [ev("message.posted", user="talker", at=1 + i / 50) for i in range(40)]
    own = [
        [ev("message.posted", user="talker", at=3 + i / 50) for i in range(30)] for _ in range(2)
    ]
    batches = iter([shared + own[0], shared + own[1]])
    results = run_concurrently(
        lambda: ingest_events(actor=actor, raw_events=next(batches)).as_dict()
    )
    assert sorted(r["accepted"] for r in results) == [30, 70]
    assert sum(r["duplicates"] for r in results) == 40
    membership = Membership.objects.for_org(org).get()
    assert membership.message_count == 100
    assert RawEvent.objects.for_org(org).count() == 101
