"""The dormant wake-up's holdout (members/holdout.py): a seeded draw holds out the
organization's share in each group, records it, and the held-out members get no reminder
action while they are measured."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities import services as community_services
from integrations.models import Action
from members import jobs, services
from members.models import (
    Member,
    MemberIdentity,
    Membership,
    WakeUpArm,
    WakeUpAssignment,
    WakeUpScan,
)
from tenancy.actors import Actor
from tenancy.models import Organization

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def _group(org, name):
    return community_services.community_create(actor=Actor.system(org), name=name, external_id=name)


def _dormant(org, community, n, *, since=NOW - timedelta(days=3), prefix=None):
    """`n` dormant members of `community`, silent for 40 days, dormant since `since`."""
    prefix = prefix or f"{community.external_id}-"
    members = Member.objects.bulk_create(
        [Member(organization=org, display_name=f"{prefix}{i}") for i in range(n)]
    )
    identities = MemberIdentity.objects.bulk_create(
        [
            MemberIdentity(
                organization=org, member=m, platform="wechat", external_user_id=f"{prefix}{i}"
            )
            for i, m in enumerate(members)
        ]
    )
    return Membership.objects.bulk_create(
        [
            Membership(
                organization=org,
                community=community,
                member=m,
                identity=identity,
                status="dormant",
                joined_at=NOW - timedelta(days=90),
                last_active_at=NOW - timedelta(days=40),
                dormant_since=since,
            )
            for m, identity in zip(members, identities, strict=True)
        ]
    )


def _set_share(org, percent):
    Organization.objects.filter(pk=org.pk).update(wake_up_holdout_percent=percent)
    org.wake_up_holdout_percent = percent


def _reminded_members(org) -> list[int]:
    return list(
        Action.objects.for_org(org).filter(kind="member.remind").values_list("member_id", flat=True)
    )


def _arms(org) -> dict[int, str]:
    return dict(WakeUpAssignment.objects.for_org(org).values_list("member_id", "arm"))


def test_a_seeded_draw_holds_out_the_share_and_they_get_no_reminder(org_a):
    org = org_a.org
    big, small = _group(org, "big"), _group(org, "small")
    _dormant(org, big, 200)
    _dormant(org, small, 7)

    sent = jobs.send_reminders(org, now=NOW, rng=random.Random(20261120))

    (scan,) = WakeUpScan.objects.for_org(org)
    assert scan.at == NOW and scan.holdout_percent == 10
    arms = WakeUpAssignment.objects.for_org(org)
    held_big = arms.filter(community=big, arm=WakeUpArm.HOLDOUT).count()
    held_small = arms.filter(community=small, arm=WakeUpArm.HOLDOUT).count()
    assert held_big == 20  # ⌊200 × 10% + u⌋ is 20 whatever u is
    assert held_small in (0, 1)  # ⌊0.7 + u⌋
    assert scan.held_out == held_big + held_small
    assert scan.reminded == 207 - scan.held_out == sent
    assert set(arms.values_list("scan_id", flat=True)) == {scan.pk}
    assert set(arms.values_list("at", flat=True)) == {NOW}
    assert set(arms.values_list("day", flat=True)) == {NOW.astimezone(org.tzinfo).date()}
    # every dormant member drawn once; the held-out ones have no outbox action at all
    reminded = _reminded_members(org)
    by_arm = _arms(org)
    assert len(by_arm) == 207
    held = {m for m, arm in by_arm.items() if arm == WakeUpArm.HOLDOUT}
    assert not held & set(reminded)
    assert sorted(reminded) == sorted(m for m, arm in by_arm.items() if arm == "reminded")


def test_the_same_seed_draws_the_same_members_and_another_seed_others(org_a):
    org = org_a.org
    group = _group(org, "g")
    _dormant(org, group, 100)

    def draw(seed):
        jobs.send_reminders(org, now=NOW, rng=random.Random(seed))
        held = set(
            WakeUpAssignment.objects.for_org(org)
            .filter(arm=WakeUpArm.HOLDOUT)
            .values_list("member_id", flat=True)
        )
        Action.objects.for_org(org).delete()
        WakeUpAssignment.objects.for_org(org).delete()
        WakeUpScan.objects.for_org(org).delete()
        Membership.objects.for_org(org).update(reminders_sent=0, last_reminded_at=None)
        return held

    first = draw(7)
    assert len(first) == 10
    assert draw(7) == first
    assert draw(8) != first


@pytest.mark.parametrize(("percent", "held"), [(0, 0), (50, 50), (25, 25)])
def test_the_share_follows_the_organizations_setting(org_a, percent, held):
    org = org_a.org
    _set_share(org, percent)
    _dormant(org, _group(org, "g"), 100)
    jobs.send_reminders(org, now=NOW, rng=random.Random(1))
    assert WakeUpScan.objects.for_org(org).get().held_out == held
    assert len(_reminded_members(org)) == 100 - held


def test_small_groups_hold_out_the_share_on_average(org_a):
    """Randomized rounding: groups of 3 at 10% hold out one member 30% of the time."""
    org = org_a.org
    for i in range(60):
        _dormant(org, _group(org, f"s{i}"), 3)
    jobs.send_reminders(org, now=NOW, rng=random.Random(3))
    held = WakeUpScan.objects.for_org(org).get().held_out
    assert 8 <= held <= 30  # expected 18 of 180; the seed makes it one fixed number


def test_held_out_members_stay_unreminded_for_30_days_then_rejoin_the_wake_up(org_a):
    org = org_a.org
    _set_share(org, 50)
    _dormant(org, _group(org, "g"), 10)
    rng = random.Random(5)
    assert jobs.send_reminders(org, now=NOW, rng=rng) == 5
    held = {m for m, arm in _arms(org).items() if arm == WakeUpArm.HOLDOUT}
    # later scans: the reminded get their follow-ups (7-day cooldown), the held-out nothing,
    # and nobody is drawn again in the same dormancy
    for day in (1, 8, 16, 29):
        jobs.send_reminders(org, now=NOW + timedelta(days=day), rng=rng)
        assert not held & set(_reminded_members(org)), day
    assert WakeUpScan.objects.for_org(org).count() == 1
    assert WakeUpAssignment.objects.for_org(org).count() == 10
    # after the measured 30 days they are reminded like anyone else
    assert jobs.send_reminders(org, now=NOW + timedelta(days=31), rng=rng) == 5
    assert held <= set(_reminded_members(org))
    assert WakeUpAssignment.objects.for_org(org).count() == 10


def test_a_new_dormancy_is_drawn_again(org_a):
    org = org_a.org
    (membership,) = _dormant(org, _group(org, "g"), 1)
    _set_share(org, 50)
    jobs.send_reminders(org, now=NOW, rng=random.Random(2))
    # active again, then dormant again 60 days later: a new dormancy, a new draw
    later = NOW + timedelta(days=60)
    Membership.objects.for_org(org).filter(pk=membership.pk).update(dormant_since=later)
    jobs.send_reminders(org, now=later, rng=random.Random(2))
    assert WakeUpAssignment.objects.for_org(org).filter(membership=membership).count() == 2
    assert WakeUpScan.objects.for_org(org).count() == 2


def test_members_reminded_by_hand_in_this_dormancy_are_not_drawn(org_a):
    org = org_a.org
    _set_share(org, 50)
    memberships = _dormant(org, _group(org, "g"), 4, since=NOW - timedelta(days=10))
    Membership.objects.for_org(org).filter(pk=memberships[0].pk).update(
        reminders_sent=1, last_reminded_at=NOW - timedelta(days=8)
    )
    jobs.send_reminders(org, now=NOW, rng=random.Random(4))
    drawn = set(WakeUpAssignment.objects.for_org(org).values_list("membership_id", flat=True))
    assert drawn == {m.pk for m in memberships[1:]}
    assert memberships[0].member_id in _reminded_members(org)  # its follow-up, as before


@pytest.mark.time_machine(NOW + timedelta(days=2), tick=False)
def test_remind_now_skips_the_held_out_and_the_dormant_page_says_so(org_a):
    org = org_a.org
    _set_share(org, 50)
    group = _group(org, "g")
    _dormant(org, group, 6)
    jobs.send_reminders(org, now=NOW, rng=random.Random(6))
    held = Membership.objects.for_org(org).filter(
        pk__in=WakeUpAssignment.objects.for_org(org)
        .filter(arm=WakeUpArm.HOLDOUT)
        .values("membership_id")
    )
    assert held.count() == 3
    before = len(_reminded_members(org))
    assert services.remind_now(actor=org_a.actor(), memberships=held) == 0
    assert len(_reminded_members(org)) == before
    client = org_a.client_for(org_a.owner)
    page = client.get(reverse("dormant", kwargs={"org_slug": org.slug})).content.decode()
    assert page.count('data-testid="held-out"') == 3


def test_a_scan_with_nobody_newly_due_records_nothing(org_a):
    org = org_a.org
    _group(org, "g")
    assert jobs.send_reminders(org, now=timezone.now(), rng=random.Random(0)) == 0
    assert not WakeUpScan.objects.for_org(org).exists()


@pytest.mark.parametrize("value", ["-1", "51", "12.5", ""])
def test_the_holdout_setting_takes_0_to_50(org_a, value):
    from tenancy.forms import OrganizationSettingsForm

    org = org_a.org
    client = org_a.client_for(org_a.owner)
    data = {
        k: v
        for k, v in OrganizationSettingsForm.initial_from(org).items()
        if v not in (None, False)
    }
    data["wake_up_holdout_percent"] = value
    response = client.post(reverse("org-settings", kwargs={"org_slug": org.slug}), data)
    assert response.status_code == 400
    assert 'name="wake_up_holdout_percent"' in response.content.decode()
    org.refresh_from_db()
    assert org.wake_up_holdout_percent == 10


def test_the_service_refuses_a_share_above_50(org_a):
    from django.core.exceptions import ValidationError

    from tenancy.services import organization_update

    org = org_a.org
    with pytest.raises(ValidationError) as caught:
        organization_update(
            actor=org_a.actor(),
            name=org.name,
            time_zone=org.time_zone,
            default_language=org.default_language,
            wake_up_holdout_percent=60,
        )
    assert "wake_up_holdout_percent" in caught.value.message_dict
