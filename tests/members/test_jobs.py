from datetime import timedelta

import pytest
from django.utils import timezone

from communities import services as community_services
from communities.models import VipTier
from integrations.models import Action
from members import jobs
from members.models import (
    Invite,
    Member,
    Membership,
    MembershipChange,
    PointsEntry,
    WakeUpScan,
)
from tenancy.models import Organization
from tenancy.scope import org_scope

from ..concurrency import run_concurrently
from .conftest import T0, ev


def _no_holdout(org):
    Organization.objects.filter(pk=org.pk).update(wake_up_holdout_percent=0)


def _m(org, user="u1"):
    return Membership.objects.for_org(org).get(identity__external_user_id=user)


# The events run to T0 + 33 days; events more than a day ahead of the clock are refused.
@pytest.mark.time_machine(T0 + timedelta(days=34), tick=False)
def test_dormant_scan_and_reminders_with_cooldown(org_a, group, post):
    post([ev("member.joined"), ev("message.posted", at=1), ev("message.posted", user="u2", at=1)])
    _no_holdout(org_a.org)  # the reminders' rhythm; the holdout: tests/members/test_holdout.py
    now = T0 + timedelta(days=15)
    post([ev("message.posted", user="u2", at=15 * 24 * 60 - 60)])  # u2 spoke yesterday
    with org_scope(org_a.org):  # as its task runs it (row-level security: its raw SQL too)
        assert jobs.mark_dormant(org_a.org, now=now) == 1
    membership = _m(org_a.org)
    assert membership.status == "dormant"
    assert (
        MembershipChange.objects.for_org(org_a.org)
        .filter(membership=membership, to_status="dormant")
        .exists()
    )
    assert jobs.mark_dormant(org_a.org, now=now) == 0  # idempotent
    assert jobs.send_reminders(org_a.org, now=now) == 1
    remind = Action.objects.for_org(org_a.org).get(kind="member.remind")
    assert "好久没看到你了" in remind.payload["text"]
    assert jobs.send_reminders(org_a.org, now=now + timedelta(days=1)) == 0  # cooldown
    assert jobs.send_reminders(org_a.org, now=now + timedelta(days=8)) == 1
    assert jobs.send_reminders(org_a.org, now=now + timedelta(days=16)) == 1
    assert jobs.send_reminders(org_a.org, now=now + timedelta(days=30)) == 0  # at most 3
    # active again within 7 days of a reminder: reactivated
    post([ev("message.posted", at=int((timedelta(days=15 + 16 + 2)).total_seconds() // 60))])
    membership.refresh_from_db()
    assert membership.status == "active" and membership.reactivated_at


def test_invites_are_credited_only_if_the_invitee_stays(org_a, group, post):
    post(
        [
            ev("member.joined", user="host"),
            ev("member.joined", user="stays", at=1, invited_by="host"),
            ev("member.joined", user="leaves", at=1, invited_by="host"),
            ev("member.left", user="leaves", at=60),
        ]
    )
    assert jobs.credit_invites(org_a.org, now=T0 + timedelta(days=1)) == 0  # too early
    assert jobs.credit_invites(org_a.org, now=T0 + timedelta(days=4)) == 1
    host = Member.objects.for_org(org_a.org).get(identities__external_user_id="host")
    assert PointsEntry.objects.for_org(org_a.org).filter(member=host, reason="invite").count() == 1
    assert not Invite.objects.for_org(org_a.org).filter(credited_at=None).exists()


def test_tiers_promote_and_respect_manual_tiers(org_a, group, post):
    actor = org_a.actor()
    community_services.tier_save(actor=actor, name="普通", rank=1)
    community_services.tier_save(actor=actor, name="高级", rank=2, min_paid_orders=2)
    post(
        [
            ev("order.placed", order_id="a", amount=10),
            ev("order.placed", order_id="b", amount=10, at=1),
        ]
    )
    assert jobs.evaluate_tiers(org_a.org) >= 1
    member = Member.objects.for_org(org_a.org).get(identities__external_user_id="u1")
    assert member.tier.name == "高级"
    manual = community_services.tier_save(actor=actor, name="核心", rank=3, manual_only=True)
    Member.objects.for_org(org_a.org).filter(pk=member.pk).update(tier=manual)
    jobs.evaluate_tiers(org_a.org)
    member.refresh_from_db()
    assert member.tier == manual
    assert VipTier.objects.for_org(org_a.org).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_send_each_reminder_once():
    from tenancy.services import organization_create

    org = organization_create(name="并发", slug="conc", owner_email="c@example.com")
    community = community_services.community_create(
        actor=__import__("tenancy.actors", fromlist=["Actor"]).Actor.system(org),
        name="g",
        external_id="g",
    )
    from members.models import MemberIdentity

    rows = []
    for i in range(300):
        member = Member.objects.create(organization=org, display_name=f"m{i}")
        identity = MemberIdentity.objects.create(
            organization=org, member=member, platform="wechat", external_user_id=f"m{i}"
        )
        rows.append(
            Membership(
                organization=org,
                community=community,
                member=member,
                identity=identity,
                status="dormant",
                last_active_at=timezone.now() - timedelta(days=40),
            )
        )
    Membership.objects.bulk_create(rows)
    results = run_concurrently(lambda: jobs.send_reminders(org))
    # one draw for both runs: 10% held out (30 of 300 in one group), each of the others
    # reminded once
    (scan,) = WakeUpScan.objects.for_org(org)
    assert scan.reminded + scan.held_out == 300
    assert scan.held_out == 30
    assert sum(results) == scan.reminded
    reminded = Action.objects.for_org(org).filter(kind="member.remind")
    assert reminded.count() == scan.reminded
    assert reminded.values("member_id").distinct().count() == scan.reminded


# the fan-out reads the organizations on the system role, which sees committed rows only
@pytest.mark.django_db(transaction=True, databases=["default", "system"])
def test_beat_fans_out_to_every_organization(org_a, org_b, group, post, monkeypatch):
    from config.celery import app
    from tenancy.tasks import fan_out

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    post([ev("member.joined"), ev("message.posted", at=1)])
    Membership.objects.for_org(org_a.org).update(last_active_at=T0 - timedelta(days=60))
    fan_out.apply(args=["members.tasks.scan_dormant"]).get()
    assert _m(org_a.org).status == "dormant"
    for name in ("members.tasks.credit_invites", "members.tasks.evaluate_tiers"):
        fan_out.apply(args=[name]).get()
