"""Monthly awards: the nominees against a brute-force computation on random data, the round
opened once at month end, the owner's confirmation and the bot's announcements."""

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from care.models import Case
from communities.models import Community, StaffAssignment
from integrations.models import Action
from members.models import PRESENT_STATUSES, Membership
from metrics import staff
from teamwork.models import AwardRound, Nominee
from teamwork.selectors.awards import nominees
from teamwork.services import awards
from teamwork.tasks import open_award_round
from tenancy.models import OrgMembership
from tenancy.roles import OrgRole
from tests.factories import (
    CaseFactory,
    CommunityFactory,
    FollowUpTaskFactory,
    MembershipFactory,
    OrgMembershipFactory,
    UserFactory,
)

from ..concurrency import run_concurrently
from . import histories

MARCH = date(2026, 3, 1)
STAFF = 4
LADDER = [(1, Decimal("5")), (3, Decimal("8")), (5, Decimal("10"))]


@st.composite
def care_and_staff(draw):
    instants = st.integers(min_value=0, max_value=histories.SPAN_DAYS * 24 * 60 - 1)
    staff_ids = st.integers(min_value=0, max_value=STAFF - 1)
    cases = [
        {
            "group": draw(st.sampled_from(histories.GROUPS)),
            "responder": draw(st.none() | staff_ids),
            "responded": draw(instants),
            "wait": draw(st.integers(min_value=0, max_value=600)),
            "resolver": draw(st.none() | staff_ids),
            "resolved": draw(instants),
        }
        for _ in range(draw(st.integers(min_value=0, max_value=12)))
    ]
    follow_ups = [
        {
            "who": draw(staff_ids | st.just(-1)),  # -1: a label that is nobody's email
            "status": draw(st.sampled_from(["done", "done", "skipped", "open"])),
            "at": draw(instants),
        }
        for _ in range(draw(st.integers(min_value=0, max_value=8)))
    ]
    # each group's lead for the whole month: a sub-owner, else a deputy, else nobody
    leads = {
        g: (draw(st.sampled_from(["sub_owner", "deputy", None])), draw(staff_ids))
        for g in histories.GROUPS
    }
    officers = draw(st.lists(st.tuples(st.sampled_from(histories.GROUPS), staff_ids), max_size=3))
    gone = draw(st.none() | staff_ids)  # someone who left the team since
    return {"cases": cases, "follow_ups": follow_ups, "leads": leads, "officers": officers,
            "gone": gone}  # fmt: skip


class Rollback(Exception):
    pass


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories.histories(), extra=care_and_staff())
def test_nominees_match_a_brute_force_computation(org_a, history, extra):
    try:
        with transaction.atomic():
            _check_nominees(org_a, history, extra)
            raise Rollback
    except Rollback:
        pass


def _at(minutes):
    return histories.BASE + timedelta(minutes=minutes)


def _setup(tenant, history, extra):
    histories.load(tenant, history)
    org = tenant.org
    groups = {c.external_id: c for c in Community.objects.for_org(org)}
    for g in histories.GROUPS:  # groups with no events exist too
        if g not in groups:
            groups[g] = CommunityFactory(organization=org, external_id=g)
    people = []
    for n in range(STAFF):
        user = UserFactory(email=f"staff{n}@example.com")
        OrgMembershipFactory(
            organization=org, user=user, role=OrgRole.STAFF, is_active=n != extra["gone"]
        )
        people.append(user)
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    for g, (role, who) in extra["leads"].items():
        if role:
            StaffAssignment.objects.create(
                organization=org, community=groups[g], user=people[who], role=role,
                assigned_at=long_ago,
            )  # fmt: skip
    for g, who in extra["officers"]:
        StaffAssignment.objects.for_org(org).get_or_create(
            organization=org, community=groups[g], user=people[who], role="topic_officer",
            ended_at=None, defaults={"assigned_at": long_ago},
        )  # fmt: skip
    for c in extra["cases"]:
        responded = _at(c["responded"]) if c["responder"] is not None else None
        CaseFactory(
            organization=org,
            community=groups[c["group"]],
            opened_at=_at(c["responded"] - c["wait"]),
            clock_started_at=_at(c["responded"] - c["wait"]),
            responded_at=responded,
            responded_by=people[c["responder"]] if responded else None,
            resolved_at=_at(c["resolved"]) if c["resolver"] is not None else None,
            resolved_by=people[c["resolver"]] if c["resolver"] is not None else None,
            status="resolved" if c["resolver"] is not None else "open",
            resolution="refund" if c["resolver"] is not None else "",
        )
    for f in extra["follow_ups"]:
        FollowUpTaskFactory(
            organization=org,
            status=f["status"],
            done_at=_at(f["at"]) if f["status"] != "open" else None,
            done_by_label=people[f["who"]].email if f["who"] >= 0 else "bot",
        )
    staff.ladder_set(actor=tenant.actor(), steps=LADDER)
    return groups, people


def _in_march(org, instant) -> bool:
    return (
        instant is not None
        and instant.astimezone(ZoneInfo(org.time_zone)).date().replace(day=1) == MARCH
    )


def _expected(org, groups, people, extra) -> list[tuple]:
    active = {u.pk for u in people} - (
        {people[extra["gone"]].pk} if extra["gone"] is not None else set()
    )
    rows = []
    # best service: straight from the cases and follow-ups
    service = []
    for user in people:
        if user.pk not in active:
            continue
        cases = Case.objects.for_org(org)
        firsts = [
            (c.responded_at - c.clock_started_at).total_seconds()
            for c in cases.filter(responded_by=user)
            if _in_march(org, c.responded_at)
        ]
        resolved = sum(1 for c in cases.filter(resolved_by=user) if _in_march(org, c.resolved_at))
        follow_ups = sum(
            1
            for f in extra["follow_ups"]
            if f["who"] >= 0
            and people[f["who"]] == user
            and f["status"] == "done"
            and _in_march(org, _at(f["at"]))
        )
        if resolved + follow_ups:
            first = median(firsts) if firsts else float("inf")
            key = (-(resolved + follow_ups), first, -len(firsts), user.pk)
            service.append((key, user.pk))
    rows += [
        ("best_service", None, rank, pk) for rank, (_k, pk) in enumerate(sorted(service)[:3], 1)
    ]
    # best sales: each group's lead is credited with its bought orders placed in March
    credited = {}
    for g, (role, who) in extra["leads"].items():
        if role:
            orders = [o for o in _bought(org, groups[g]) if _in_march(org, o.placed_at)]
            n, revenue = credited.get(people[who].pk, (0, Decimal("0")))
            credited[people[who].pk] = (n + len(orders), revenue + sum(o.amount for o in orders))
    sales = []
    for pk, (n, revenue) in credited.items():
        if pk not in active or revenue <= 0:
            continue
        rate = max((r for m, r in LADDER if n >= m), default=Decimal("0"))
        commission = (revenue * rate / 100).quantize(Decimal("0.01"))
        sales.append(((-commission, -revenue, -n, pk), pk))
    rows += [("top_sales", None, rank, pk) for rank, (_k, pk) in enumerate(sorted(sales)[:3], 1)]
    # best activity: each group's members still in it, by active days in March, then actions
    last = date(2026, 3, 31)
    ids = [c.pk for c in groups.values()]
    days = histories.active_days(org, ids, MARCH, last)
    present = set(
        Membership.objects.for_org(org)
        .filter(status__in=PRESENT_STATUSES)
        .values_list("community_id", "member_id")
    )
    for community in sorted(groups.values(), key=lambda c: c.pk):
        ranked = sorted(
            (-len(d["days"]), -(d["messages"] + d["checkins"] + d["shares"]), member_id)
            for (community_id, member_id), d in days.items()
            if community_id == community.pk and (community_id, member_id) in present and d["days"]
        )
        rows += [
            ("best_activity", community.pk, rank, member_id)
            for rank, (_d, _a, member_id) in enumerate(ranked[:3], 1)
        ]
    return rows


def _bought(org, community):
    from campaigns.models import BOUGHT, Order

    return Order.objects.for_org(org).filter(community=community, status__in=BOUGHT)


def _check_nominees(tenant, history, extra):
    groups, people = _setup(tenant, history, extra)
    org = tenant.org
    got = [
        (r["award"], r["community_id"], r["rank"], r.get("user_id") or r.get("member_id"))
        for r in nominees(org, MARCH)
    ]
    assert got == _expected(org, groups, people, extra)


# --- the round -----------------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def month_of_data(org_a):
    """March in one group: three members active on different numbers of days, a deputy who
    resolved two complaints, a sub-owner credited with the group's sales; another group's
    member too."""
    org = org_a.org
    org.created_at = datetime(2026, 1, 1, tzinfo=UTC)
    org.save(update_fields=["created_at"])
    history = {"zone": "Asia/Shanghai", "events": []}
    n = 0

    def add(kind, user, day, group="g1", **extra):
        nonlocal n
        n += 1
        at = datetime(2026, 3, day, 10, tzinfo=SHANGHAI)
        history["events"].append(
            {"id": f"m{n}", "type": kind, "occurred_at": at.isoformat(), "community": group,
             "user": user, "display_name": f"群友{user}", **extra}
        )  # fmt: skip

    for day in range(1, 11):
        add("message.posted", "u1", day)
    for day in range(1, 6):
        add("member.checked_in", "u2", day)
    add("message.posted", "u3", 3)
    add("message.posted", "u9", 4, group="g2")
    add("order.placed", "u2", 5, order_id="o1", amount="120")
    histories.load(org_a, history)
    group = Community.objects.for_org(org).get(external_id="g1")
    other = Community.objects.for_org(org).get(external_id="g2")
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    for user, role, community in [
        (org_a.deputy, "deputy", group),
        (org_a.deputy, "deputy", other),
        (org_a.manager, "sub_owner", group),
    ]:
        StaffAssignment.objects.create(
            organization=org, community=community, user=user, role=role, assigned_at=long_ago
        )
    for day in (2, 3):
        at = datetime(2026, 3, day, 9, tzinfo=SHANGHAI)
        CaseFactory(
            organization=org, community=group, clock_started_at=at, opened_at=at,
            responded_at=at + timedelta(minutes=5), responded_by=org_a.deputy,
            resolved_at=at + timedelta(hours=2), resolved_by=org_a.deputy,
            status="resolved", resolution="refund",
        )  # fmt: skip
    return group, other


@pytest.mark.time_machine(datetime(2026, 4, 1, 0, 30, tzinfo=SHANGHAI), tick=False)
def test_at_month_end_the_nominees_are_computed_once(org_a, month_of_data):
    group, other = month_of_data
    assert open_award_round.apply(args=[org_a.org.pk]).get()["round"] is not None
    assert open_award_round.apply(args=[org_a.org.pk]).get() == {"round": None}
    (award_round,) = AwardRound.objects.for_org(org_a.org)
    assert (award_round.month, award_round.status) == (MARCH, "nominated")
    rows = {
        (n.award, n.community_id, n.rank): (n.user or n.member, n.figures)
        for n in Nominee.objects.for_org(org_a.org).select_related("user", "member")
    }
    assert [str(rows[("best_activity", group.pk, r)][0]) for r in (1, 2, 3)] == [
        "群友u1",
        "群友u2",
        "群友u3",
    ]
    assert rows[("best_activity", group.pk, 1)][1] == {
        "days": 10, "messages": 10, "checkins": 0, "shares": 0, "actions": 10
    }  # fmt: skip
    assert str(rows[("best_activity", other.pk, 1)][0]) == "群友u9"
    deputy, figures = rows[("best_service", None, 1)]
    assert deputy == org_a.deputy
    assert figures == {
        "responded": 2, "median_first_response_seconds": 300.0, "resolved": 2,
        "follow_ups": 0, "handled": 2,
    }  # fmt: skip
    seller, figures = rows[("top_sales", None, 1)]
    assert seller == org_a.manager and figures["revenue"] == "120.00"


@pytest.mark.time_machine(datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI), tick=False)
def test_no_round_before_the_month_is_over_nor_for_a_month_before_the_organization(org_a):
    assert awards.round_open(org_a.org) is None  # February: the org was made in March
    assert not AwardRound.objects.for_org(org_a.org).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_opening_the_round_at_once_make_one():
    from tenancy.services import organization_create

    org = organization_create(name="评优", slug="awards-race", owner_email="a@example.com")
    CommunityFactory(organization=org)
    results = run_concurrently(lambda: awards.round_open(org, MARCH), times=3)
    assert sum(1 for r in results if isinstance(r, AwardRound)) == 1, results
    assert not [r for r in results if isinstance(r, Exception)], results
    assert AwardRound.objects.for_org(org).count() == 1


@pytest.fixture
def march_round(org_a, month_of_data):
    award_round = awards.round_open(org_a.org, MARCH)
    return award_round, month_of_data


def _first_choices(award_round):
    return {
        awards.slot_key(award, community_id): str(nominees[0].pk)
        for (award, community_id), nominees in awards.slots(award_round).items()
    }


def test_the_owner_confirms_and_the_bot_announces_each_winner(org_a, march_round):
    award_round, (group, other) = march_round
    choices = _first_choices(award_round)
    second = awards.slots(award_round)[("best_activity", group.pk)][1]
    choices[awards.slot_key("best_activity", group.pk)] = str(second.pk)  # the owner's pick
    choices["top_sales"] = ""  # no sales award this month
    with pytest.raises(PermissionDenied):  # managers do not confirm
        awards.round_confirm(actor=org_a.actor(org_a.manager), award_round=award_round,
                             choices=choices)  # fmt: skip
    awards.round_confirm(actor=org_a.actor(), award_round=award_round, choices=choices)
    award_round.refresh_from_db()
    assert (award_round.status, award_round.confirmed_by) == ("confirmed", org_a.owner)
    winners = Nominee.objects.for_org(org_a.org).filter(is_winner=True)
    assert {(w.award, w.community_id, w.rank) for w in winners} == {
        ("best_activity", group.pk, 2),
        ("best_activity", other.pk, 1),
        ("best_service", None, 1),
    }
    texts = sorted(
        (a.community.external_id, a.payload["text"])
        for a in Action.objects.for_org(org_a.org).filter(kind="group.announce")
    )
    name = org_a.deputy.full_name
    assert texts == [
        ("g1", "恭喜 @群友u2 获得 2026年3月 最佳活跃奖：本月有 5 天在群里活跃，谢谢你的陪伴！"),
        (
            "g1",
            f"恭喜 {name} 获得 2026年3月 最佳服务奖：本月帮 2 位群友解决或回访了问题，谢谢你用心的服务！",
        ),
        ("g2", "恭喜 @群友u9 获得 2026年3月 最佳活跃奖：本月有 1 天在群里活跃，谢谢你的陪伴！"),
        (
            "g2",
            f"恭喜 {name} 获得 2026年3月 最佳服务奖：本月帮 2 位群友解决或回访了问题，谢谢你用心的服务！",
        ),
    ]
    with pytest.raises(ValidationError):  # once only
        awards.round_confirm(actor=org_a.actor(), award_round=award_round, choices=choices)
    with pytest.raises(ValidationError):
        awards.round_recompute(actor=org_a.actor(), award_round=award_round)


@pytest.mark.parametrize("change", [{"best_service": "999999"}, {"best_service": "x"}, "nobody"])
def test_confirming_needs_winners_among_the_nominees(org_a, march_round, change):
    award_round, _groups = march_round
    choices = _first_choices(award_round)
    if change == "nobody":
        choices = dict.fromkeys(choices, "")
    else:
        choices.update(change)
    with pytest.raises(ValidationError):
        awards.round_confirm(actor=org_a.actor(), award_round=award_round, choices=choices)
    assert not Action.objects.for_org(org_a.org).filter(kind="group.announce").exists()
    award_round.refresh_from_db()
    assert award_round.status == "nominated"


def test_a_member_who_left_since_is_not_announced(org_a, march_round):
    award_round, (group, _other) = march_round
    first = awards.slots(award_round)[("best_activity", group.pk)][0]
    Membership.objects.for_org(org_a.org).filter(member=first.member).update(status="left")
    awards.round_confirm(actor=org_a.actor(), award_round=award_round,
                         choices={awards.slot_key("best_activity", group.pk): str(first.pk)})  # fmt: skip
    assert not Action.objects.for_org(org_a.org).filter(kind="group.announce").exists()


def test_recomputing_reads_the_data_as_it_is_now(org_a, march_round):
    award_round, (group, _other) = march_round
    MembershipFactory(organization=org_a.org, community=group)
    first = awards.slots(award_round)[("best_activity", group.pk)][0]
    Membership.objects.for_org(org_a.org).filter(member=first.member).update(status="removed")
    awards.round_recompute(actor=org_a.actor(), award_round=award_round)
    names = [str(n.member) for n in awards.slots(award_round)[("best_activity", group.pk)]]
    assert names == ["群友u2", "群友u3"]
    assert OrgMembership.objects.for_org(org_a.org).count() == 4
