"""Grow one organization by `n` rows of every kind a list page or API list shows, with the
relations those lists display filled in (tier, group, campaign, staff, deliveries), so that a
list that loads a relation per row shows it as a query count that grows with `n`."""

import itertools

from django.utils import timezone

from tenancy.models import AuditLogEntry
from tests import factories as f

_seq = itertools.count()


def grow(tenant, n: int) -> None:
    from campaigns.models import Order
    from communities.models import ContentPlan, PlanTarget, ScheduledPost
    from members.models import CheckIn, Member, PointsEntry, RawEvent

    org = tenant.org
    tier = f.VipTierFactory(organization=org)
    campaign = f.CampaignFactory(organization=org)
    now = timezone.now()
    for _ in range(n):
        i = next(_seq)
        membership = f.MembershipFactory(organization=org)
        member = membership.member
        Member.objects.for_org(org).filter(pk=member.pk).update(tier=tier, tags=["VIP"])
        f.WarningFactory(organization=org, membership=membership)
        f.BlockFactory(organization=org, member=member)
        Order.objects.create(
            organization=org,
            external_order_id=f"perf-{i}",
            member=member,
            community=membership.community,
            campaign=campaign,
            amount=99,
            status="paid",
        )
        f.CampaignFactory(organization=org)
        f.StaffAssignmentFactory(organization=org, community=membership.community)
        f.VipTierFactory(organization=org)
        f.RedemptionItemFactory(organization=org)
        f.InvitationFactory(organization=org)
        f.AuditLogEntryFactory(organization=org)
        f.WebhookDeliveryFactory(organization=org)
        f.ActionFactory(organization=org, member=member, community=membership.community)
        plan = ContentPlan.objects.create(organization=org, name=f"plan {i}")
        PlanTarget.objects.create(organization=org, plan=plan, community=membership.community)
        ScheduledPost.objects.create(
            organization=org,
            community=membership.community,
            plan=plan,
            scheduled_at=now + timezone.timedelta(hours=i % 48),
            content_type="tips",
            text=f"post {i}",
        )
        PointsEntry.objects.create(
            organization=org, member=member, delta=5, reason="check_in", day=now.date()
        )
        CheckIn.objects.create(
            organization=org, membership=membership, member=member, day=now.date()
        )
        RawEvent.objects.create(
            organization=org,
            client_event_id=f"perf-{i}",
            type="message.posted",
            occurred_at=now,
            batch_id="00000000-0000-0000-0000-000000000000",
            community=membership.community,
            member=member,
            payload={"display_name": "x"},
        )
        for name in ("CaseFactory", "FollowUpTaskFactory", "FollowUpRuleFactory"):
            factory = getattr(f, name, None)  # member care, when it is there
            if factory is not None:
                factory(organization=org)
    AuditLogEntry.objects.for_org(org).update(created_at=now)
