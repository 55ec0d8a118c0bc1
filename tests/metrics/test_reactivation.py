"""Reactivation after the wake-up, reminded vs held out (metrics/reactivation.py).

Properties: the page's counts, rates, lifts and intervals equal a brute-force computation, one
draw at a time in Python, on random draws and random member-days (months, window edges, draws
whose days are not over yet); the Wilson and Newcombe intervals equal the same intervals found
by bisection from their definitions. Then the page: words in zh-hans, "not enough data yet",
staff visibility, bounded queries."""

import math
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from communities import services as community_services
from members.models import (
    Member,
    MemberIdentity,
    Membership,
    WakeUpArm,
    WakeUpAssignment,
    WakeUpScan,
)
from metrics import reactivation
from metrics.models import MemberDay
from tenancy.actors import Actor

Z = reactivation.Z95
BASE = date(2026, 1, 20)  # draws over 60 days: three months
SPAN = 60
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "60"))


# --- the intervals, against their definitions -----------------------------------------------


def _bisect(f, low, high, steps=200):
    """The x in [low, high] where the monotone `f` changes from False to True."""
    for _ in range(steps):
        middle = (low + high) / 2
        if f(middle):
            high = middle
        else:
            low = middle
    return (low + high) / 2


def wilson_by_definition(k, n):
    """Wilson's interval: the p whose score test does not reject p̂ = k / n,
    |p̂ − p| ≤ z √(p (1 − p) / n), found by bisection on each side of p̂."""
    p_hat = k / n

    def inside(p):
        return abs(p_hat - p) <= Z * math.sqrt(p * (1 - p) / n) + 1e-15

    low = 0.0 if inside(0.0) else _bisect(inside, 0.0, p_hat)
    high = 1.0 if inside(1.0) else _bisect(lambda p: not inside(p), p_hat, 1.0)
    return low, high


@settings(max_examples=300, deadline=None)
@given(
    n1=st.integers(1, 400),
    n0=st.integers(1, 400),
    f1=st.floats(0, 1),
    f0=st.floats(0, 1),
)
def test_wilson_and_newcombe_match_their_definitions(n1, n0, f1, f0):
    k1, k0 = round(f1 * n1), round(f0 * n0)
    for k, n in ((k1, n1), (k0, n0)):
        expected = wilson_by_definition(k, n)
        assert reactivation.wilson(k, n) == pytest.approx(expected, abs=1e-9)
    l1, u1 = wilson_by_definition(k1, n1)
    l0, u0 = wilson_by_definition(k0, n0)
    p1, p0 = k1 / n1, k0 / n0
    expected = (
        p1 - p0 - math.hypot(p1 - l1, u0 - p0),
        p1 - p0 + math.hypot(u1 - p1, p0 - l0),
    )
    low, high = reactivation.newcombe(k1, n1, k0, n0)
    assert (low, high) == pytest.approx(expected, abs=1e-9)
    assert -1 <= low <= p1 - p0 <= high <= 1


def test_a_textbook_example():
    """Newcombe (1998), table II, example (a): 56/70 vs 48/80 → 0.0524 to 0.3339 for the
    difference, method 10."""
    low, high = reactivation.newcombe(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


# --- the counts, against a brute force --------------------------------------------------------


@st.composite
def histories(draw):
    n_draws = draw(st.integers(0, 40))
    draws = [
        (
            draw(st.integers(0, 1)),  # group
            draw(st.integers(0, 5)),  # member
            draw(st.sampled_from([WakeUpArm.REMINDED, WakeUpArm.HOLDOUT])),
            draw(st.integers(0, SPAN)),  # day of the draw
        )
        for _ in range(n_draws)
    ]
    days = draw(
        st.dictionaries(
            st.tuples(st.integers(0, 1), st.integers(0, 5), st.integers(0, SPAN + 35)),
            st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
            max_size=60,
        )
    )
    today = draw(st.integers(0, SPAN + 40))
    return {"draws": draws, "days": days, "today": today}


class Rollback(Exception):
    pass


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_reactivation_figures_match_a_brute_force(org_a, history):
    try:
        with transaction.atomic():
            _check(org_a, history)
            raise Rollback
    except Rollback:
        pass


def _people(org):
    groups = [
        community_services.community_create(
            actor=Actor.system(org), name=f"群{g}", external_id=f"p{g}"
        )
        for g in range(2)
    ]
    members, memberships = [], {}
    for i in range(6):
        member = Member.objects.create(organization=org, display_name=f"m{i}")
        identity = MemberIdentity.objects.create(
            organization=org, member=member, platform="wechat", external_user_id=f"pm{i}"
        )
        members.append(member)
        for g, group in enumerate(groups):
            memberships[g, i] = Membership.objects.create(
                organization=org, community=group, member=member, identity=identity
            )
    return groups, members, memberships


def _check(tenant, history):
    org = tenant.org
    groups, members, memberships = _people(org)
    scan = WakeUpScan.objects.create(
        organization=org, at=datetime(2026, 1, 1, tzinfo=UTC), holdout_percent=10
    )
    rows = []
    for i, (g, m, arm, offset) in enumerate(history["draws"]):
        day = BASE + timedelta(days=offset)
        rows.append(
            WakeUpAssignment(
                organization=org,
                scan=scan,
                community=groups[g],
                member=members[m],
                membership=memberships[g, m],
                episode=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=i),
                arm=arm,
                at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
                day=day,
            )
        )
    WakeUpAssignment.objects.bulk_create(rows)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    MemberDay.objects.bulk_create(
        [
            MemberDay(
                organization=org,
                community=groups[g],
                member=members[m],
                day=BASE + timedelta(days=offset),
                messages=messages,
                checkins=checkins,
                orders=orders,
                spend=Decimal(orders * 10),
                first_at=at,
                last_at=at,
            )
            for (g, m, offset), (messages, checkins, orders) in history["days"].items()
        ]
    )
    today = BASE + timedelta(days=history["today"])
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    assert reactivation.local_day(org, now) == today  # Asia/Shanghai: 14:00 the same day

    report = reactivation.report(tenant.actor(), groups, now=now)

    expected = _brute_force(history, today)
    for n in reactivation.WINDOWS:
        _same(report["overall"][n], _total(expected, lambda key: True, n))
        for row in report["by_month"]:
            _same(row["windows"][n], _total(expected, lambda key, m=row["month"]: key[1] == m, n))
        for row in report["by_group"]:
            g = [grp.pk for grp in groups].index(row["id"])
            _same(row["windows"][n], _total(expected, lambda key, g=g: key[0] == g, n))
    assert {row["month"] for row in report["by_month"]} == {key[1] for key in expected}
    assert {row["id"] for row in report["by_group"]} == {groups[key[0]].pk for key in expected}
    # draws whose days are not over are counted as pending, nowhere else
    for n in reactivation.WINDOWS:
        counted = report["overall"][n].reminded + report["overall"][n].held
        assert report["pending"][n] == len(history["draws"]) - counted


def _brute_force(history, today):
    """{(group, month, arm): {n: [drawn and over, came back]}}, one draw at a time."""
    result = {}
    for g, m, arm, offset in history["draws"]:
        day = BASE + timedelta(days=offset)
        key = (g, day.replace(day=1), arm)
        entry = result.setdefault(key, {n: [0, 0] for n in reactivation.WINDOWS})
        for n in reactivation.WINDOWS:
            if day + timedelta(days=n - 1) >= today:
                continue  # its n days are not all over
            entry[n][0] += 1
            for k in range(n):
                offset_k = (day + timedelta(days=k) - BASE).days
                messages, _checkins, orders = history["days"].get((g, m, offset_k), (0, 0, 0))
                if messages or orders:
                    entry[n][1] += 1
                    break
    return result


def _total(expected, which, n):
    totals = {"reminded": [0, 0], "holdout": [0, 0]}
    for key, entry in expected.items():
        if which(key):
            totals[key[2]][0] += entry[n][0]
            totals[key[2]][1] += entry[n][1]
    return totals


def _same(got, totals):
    (n1, k1), (n0, k0) = totals["reminded"], totals["holdout"]
    assert (got.reminded, got.reminded_back, got.held, got.held_back) == (n1, k1, n0, k0)
    if n1 and n0:
        p1, p0 = k1 / n1, k0 / n0
        assert got.lift == pytest.approx(p1 - p0)
        assert got.relative == (pytest.approx((p1 - p0) / p0) if k0 else None)
        low, high = got.interval
        assert low <= p1 - p0 <= high
        assert got.enough == (n1 >= 30 and n0 >= 30)
    else:
        assert got.lift is None and got.interval is None and got.relative is None
        assert not got.enough


# --- the page ----------------------------------------------------------------------------------


def _url(tenant, pk=None, **query):
    if pk is None:
        url = reverse("metrics-reactivation", kwargs={"org_slug": tenant.org.slug})
    else:
        url = reverse("metrics-reactivation-group", kwargs={"org_slug": tenant.org.slug, "pk": pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _measured(org, group, reminded, reminded_back, held, held_back, day):
    """Draws in `group` on `day` (long over), the first `*_back` of each side coming back."""
    scan = WakeUpScan.objects.create(
        organization=org,
        at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
        holdout_percent=10,
        reminded=reminded,
        held_out=held,
    )
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    for arm, total, back in ((WakeUpArm.REMINDED, reminded, reminded_back),
                             (WakeUpArm.HOLDOUT, held, held_back)):  # fmt: skip
        for i in range(total):
            member = Member.objects.create(organization=org, display_name=f"{arm}{i}")
            identity = MemberIdentity.objects.create(
                organization=org,
                member=member,
                platform="wechat",
                external_user_id=f"{group.pk}-{day}-{arm}-{i}",
            )
            membership = Membership.objects.create(
                organization=org, community=group, member=member, identity=identity
            )
            WakeUpAssignment.objects.create(
                organization=org,
                scan=scan,
                community=group,
                member=member,
                membership=membership,
                episode=at,
                arm=arm,
                at=at,
                day=day,
            )
            if i < back:
                MemberDay.objects.create(
                    organization=org,
                    community=group,
                    member=member,
                    day=day + timedelta(days=2),
                    messages=1,
                    first_at=at,
                    last_at=at,
                )


@pytest.fixture
def two_groups(org_a):
    system = Actor.system(org_a.org)
    return [
        community_services.community_create(actor=system, name=name, external_id=name)
        for name in ("健康交流1群", "健康交流2群")
    ]


@pytest.mark.time_machine(datetime(2026, 12, 20, 4, 0, tzinfo=UTC), tick=False)
def test_the_page_in_words_with_enough_data_and_without(org_a, two_groups):
    big, small = two_groups
    _measured(org_a.org, big, 1200, 300, 130, 13, date(2026, 10, 5))
    _measured(org_a.org, small, 9, 3, 1, 0, date(2026, 11, 5))
    client = org_a.client_for(org_a.owner)
    page = client.get(_url(org_a))  # the organization's language: zh-hans
    assert page.status_code == 200
    html = page.content.decode()
    overall = page.context["data"]["overall"][30]
    assert overall.reminded == 1209 and overall.held == 131
    assert overall.outcome == "works"
    # 303/1209 = 25.1% against 13/131 = 9.9%: +15.1 points, in zh-hans words and numbers
    assert "提醒有效" in html
    assert "25.1%" in html and "9.9%" in html and "+15.1" in html
    assert "1209" in html  # zh-hans groups no thousands
    assert "数据还不够" in html  # the small group's row says so in words
    small_row = next(r for r in page.context["data"]["by_group"] if r["id"] == small.pk)
    assert small_row["c"].outcome == "few"
    # per month, 7 days, one group
    picked = client.get(_url(org_a, group=small.pk, days=7))
    assert picked["Location"] == _url(org_a, small.pk, days=7)
    page = client.get(picked["Location"])
    assert page.status_code == 200
    months = page.context["data"]["by_month"]
    assert [row["month"] for row in months] == [date(2026, 11, 1)]
    assert months[0]["c"].reminded == 9
    html = page.content.decode()
    assert (
        "数据还不够：提醒组和对照组各需至少 30 名观察期已满的成员（已提醒：9，对照组：1）" in html
    )
    assert "2026年11月" in html
    with translation.override("en"):
        assert months[0]["c"].verdict == (
            "Not enough data yet: each side needs at least 30 members whose days are over "
            "(reminded: 9, held out: 1)."
        )


def test_an_empty_page_says_nothing_is_measured_yet(org_a, two_groups):
    page = org_a.client_for(org_a.analyst).get(_url(org_a))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="reactivation-') >= 2
    assert not page.context["data"]["by_month"]


@pytest.mark.time_machine(datetime(2026, 12, 20, 4, 0, tzinfo=UTC), tick=False)
def test_staff_see_their_groups_only(org_a, org_b, two_groups):
    mine, other = two_groups
    _measured(org_a.org, mine, 3, 1, 1, 0, date(2026, 10, 5))
    _measured(org_a.org, other, 5, 1, 1, 1, date(2026, 10, 5))
    community_services.staff_assign(
        actor=org_a.actor(), community=mine, user=org_a.deputy, role="deputy"
    )
    client = org_a.client_for(org_a.deputy)
    page = client.get(_url(org_a))
    assert page.status_code == 200
    assert page.context["data"]["overall"][30].reminded == 3
    assert [r["id"] for r in page.context["data"]["by_group"]] == [mine.pk]
    assert client.get(_url(org_a, other.pk)).status_code == 404
    assert client.get(_url(org_a, group="x")).status_code == 404
    b_group = community_services.community_create(
        actor=Actor.system(org_b.org), name="b", external_id="b"
    )
    owner = org_a.client_for(org_a.owner)
    assert owner.get(_url(org_a, b_group.pk)).status_code == 404
    assert owner.get(_url(org_a, group=b_group.pk), follow=True).status_code == 404


@pytest.mark.time_machine(datetime(2026, 12, 20, 4, 0, tzinfo=UTC), tick=False)
def test_the_page_runs_a_bounded_number_of_queries(
    org_a, two_groups, django_assert_max_num_queries
):
    for month in (8, 9, 10, 11):
        for group in two_groups:
            _measured(org_a.org, group, 4, 1, 2, 1, date(2026, month, 3))
    client = org_a.client_for(org_a.owner)
    client.get(_url(org_a))  # warm the session and the caches
    with django_assert_max_num_queries(14):
        assert client.get(_url(org_a)).status_code == 200
