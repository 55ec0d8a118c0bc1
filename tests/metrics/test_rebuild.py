from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from metrics.models import CommunityDay, DirtyDay, MemberDay
from tenancy.services import organization_update

from .conftest import ev


def _figures(org):
    return sorted(
        CommunityDay.objects.for_org(org).values_list(
            "community_id", "day", "members_end", "speakers", "buyers", "orders"
        )
    )


def test_rebuild_command_reproduces_the_incremental_rollups(org_a, busy_group):
    before = _figures(org_a.org)
    MemberDay.objects.for_org(org_a.org).update(messages=999)
    out = StringIO()
    call_command("rebuild_rollups", org=org_a.org.slug, stdout=out)
    assert "group-days rebuilt" in out.getvalue()
    assert _figures(org_a.org) == before
    assert not MemberDay.objects.for_org(org_a.org).filter(messages=999).exists()
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", org="no-such-org")


def test_manual_removal_and_refund_mark_their_days(org_a, busy_group, send):
    from campaigns.models import Order
    from campaigns.services import order_refund
    from members.models import Membership
    from members.services import member_remove
    from metrics import rollups

    membership = Membership.objects.for_org(org_a.org).get(
        community=busy_group, identity__external_user_id="u2"
    )
    member_remove(actor=org_a.actor(), membership=membership, reason="广告")
    order = Order.objects.for_org(org_a.org).get(external_order_id="o3")
    Order.objects.for_org(org_a.org).filter(pk=order.pk).update(status="paid")
    order_refund(actor=org_a.actor(), order=order)
    assert DirtyDay.objects.for_org(org_a.org).count() >= 1
    rollups.refresh(org_a.org)
    latest = CommunityDay.objects.for_org(org_a.org).filter(community=busy_group).latest("day")
    assert latest.members_end == 2 and latest.removals == 1
    assert sum(CommunityDay.objects.for_org(org_a.org).values_list("orders", flat=True)) == 2


def test_time_zone_change_queues_a_rebuild(
    org_a, busy_group, monkeypatch, django_capture_on_commit_callbacks
):
    from metrics import tasks

    calls = []
    monkeypatch.setattr(tasks.rebuild_rollups, "delay", lambda org_id: calls.append(org_id))
    with django_capture_on_commit_callbacks(execute=True):
        organization_update(
            actor=org_a.actor(),
            name=org_a.org.name,
            time_zone="America/New_York",
            default_language=org_a.org.default_language,
        )
    assert calls == [org_a.org.pk]


def test_kept_ready_window_sets_equal_the_merged_day_sets(org_a, busy_group, send):
    from metrics.models import Leaderboard
    from metrics.rates import window_rates
    from metrics.windows import last_days

    send(
        ev("message.posted", "u3", 24 * 8),
        ev("order.placed", "u2", 24 * 10, order_id="o9", amount="5"),
    )
    org = org_a.org
    assert Leaderboard.objects.for_org(org).filter(community=busy_group).count() == 3
    results = {}
    for days in (7, 30, 90):
        window = last_days(org, days)
        results[days] = window_rates(org, [busy_group.pk], window, window.previous())
    Leaderboard.objects.for_org(org).all().delete()
    for days, ready in results.items():
        window = last_days(org, days)
        merged = window_rates(org, [busy_group.pk], window, window.previous())
        assert [r[busy_group.pk] for r in ready] == [r[busy_group.pk] for r in merged], days


def _member_days(org):
    return sorted(
        MemberDay.objects.for_org(org).values_list(
            "community_id", "day", "member_id", "messages", "orders", "spend", "first_at"
        )
    )


def test_rebuild_answers_pending_marks_and_keeps_member_days(org_a, busy_group):
    from metrics import rollups

    org = org_a.org
    figures, member_days = _figures(org), _member_days(org)
    assert member_days
    rollups.mark_days(org, [(busy_group.pk, day) for _c, day, *_rest in figures])
    assert rollups.rebuild(org) == len(figures)
    assert _figures(org) == figures and _member_days(org) == member_days
    assert not DirtyDay.objects.for_org(org).exists()


def test_rebuild_after_a_time_zone_change_moves_the_days(org_a, send):
    from datetime import timedelta

    from django.utils import timezone

    from metrics import rollups
    from metrics.days import local_day

    # 06:00 UTC yesterday: 14:00 in Shanghai, 20:00 the day before in Honolulu
    at = timezone.now().replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=1)
    hours_ago = (timezone.now() - at).total_seconds() / 3600
    group = send(ev("member.joined", "z1", hours_ago + 1), ev("message.posted", "z1", hours_ago))
    org = org_a.org
    shanghai_day = local_day(org, at)
    org.time_zone = "Pacific/Honolulu"
    org.save(update_fields=["time_zone"])
    rollups.rebuild(org)
    days = set(
        CommunityDay.objects.for_org(org).filter(community=group).values_list("day", flat=True)
    )
    assert days == {local_day(org, at)} == {shanghai_day - timedelta(days=1)}
    assert MemberDay.objects.for_org(org).get(community=group).day == local_day(org, at)


def test_merging_two_members_counts_their_activity_once(org_a, busy_group):
    """u1 and u2 both posted this week; linking u2's only identity to u1 merges them."""
    from members.models import Member, MemberIdentity
    from members.services import identity_link
    from metrics import rollups
    from metrics.rates import window_rates
    from metrics.windows import last_days

    org = org_a.org
    u1, u2 = (
        Member.objects.for_org(org).get(identities__external_user_id=user) for user in ("u1", "u2")
    )
    (before,) = window_rates(org, [busy_group.pk], last_days(org, 7))
    assert before[busy_group.pk].speakers == 2
    identity_link(
        actor=org_a.actor(),
        identity=MemberIdentity.objects.for_org(org).get(external_user_id="u2"),
        to_member=u1,
    )
    rollups.refresh(org)
    (after,) = window_rates(org, [busy_group.pk], last_days(org, 7))
    assert after[busy_group.pk].speakers == 1
    assert not MemberDay.objects.for_org(org).filter(member=u2).exists()
    incremental = _figures(org), _member_days(org)
    rollups.rebuild(org)
    assert (_figures(org), _member_days(org)) == incremental
