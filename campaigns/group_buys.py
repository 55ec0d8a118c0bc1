"""Group buys (拼团): a member opens a team, others join it; a full team succeeds, a team still
short at its deadline fails and its orders are refunded (or cancelled, unpaid), its members'
coupons come back while valid, and its members are told.

Members pay the group price when they join (the order is `paid`); the team row is locked while
members join, so a team never overfills, and a member is in at most one open team per campaign
(a partial unique index backs the check)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations import outbox
from integrations.composer import MessageKind, compose
from integrations.models import ActionKind
from members.access import personal_links
from members.models import Member
from members.selectors import address, addressees
from tenancy import audit
from tenancy.permissions import require_for

from . import coupons
from .models import Campaign, CampaignKind, Order, OrderStatus, Team, TeamMember, TeamStatus
from .services import (
    OrderRefused,
    campaign_targets,
    check_eligible,
    coupon_id_of,
    flash_sale_create,
    priced,
)


def group_buy_create(*, actor, team_size: int, team_hours: int, **fields) -> Campaign:
    """Like a flash sale (price = group price, original price = single price), with teams."""
    if team_size not in (2, 3):
        raise ValidationError({"team_size": [_("Teams have 2 or 3 members.")]})
    if not isinstance(team_hours, int) or not 1 <= team_hours <= 168:
        raise ValidationError({"team_hours": [_("Give between 1 and 168 hours to fill a team.")]})
    with transaction.atomic():
        campaign = flash_sale_create(actor=actor, **fields)
        Campaign.objects.for_org(actor.organization).filter(pk=campaign.pk).update(
            kind=CampaignKind.GROUP_BUY, team_size=team_size, team_hours=team_hours
        )
        campaign.kind, campaign.team_size, campaign.team_hours = (
            CampaignKind.GROUP_BUY,
            team_size,
            team_hours,
        )
    return campaign


def _live_group_buy(campaign) -> None:
    if campaign.kind != CampaignKind.GROUP_BUY or campaign.phase() != "live":
        raise OrderRefused("not_live", _("This group buy is not open now."))


def _team_order(actor, campaign, member, community_id, now, coupon_id) -> Order:
    """A team member's order. A bot reports members who paid (paid at once); a member who
    joins on their own page has paid nobody yet: the order waits for payment, which the
    leader collects and marks as for any order (its page shows how to pay).

    Priced as any campaign order (`services.priced`: VIP, perk, one coupon, shipping; the
    group price is the unit price); `member` is locked by the caller, and the coupon is used
    in the same transaction, so a refused coupon leaves the team as it was."""
    paid = actor.member is None
    price, coupon = priced(campaign, member, 1, coupon_id, now)
    order = Order.objects.create(
        organization=campaign.organization,
        external_order_id=f"qy-{uuid.uuid4().hex}",
        member=member,
        community_id=community_id,
        campaign=campaign,
        **price,
        quantity=1,
        status=OrderStatus.PAID if paid else OrderStatus.PENDING_PAYMENT,
        placed_at=now,
        paid_at=now if paid else None,
        items=[{"name": campaign.product.name, "quantity": 1, "price": str(campaign.price)}],
    )
    if coupon is not None:
        coupons.coupon_use(coupon, order, now, actor.label)
    return order


def team_open(*, actor, campaign, member, coupon=None) -> Team:
    """Open a team; the leader's order may use one of their coupons (`coupon`: an
    IssuedCoupon or its id)."""
    require_for(actor, "order.manage", member)
    coupon_id = coupon_id_of(coupon)
    _live_group_buy(campaign)
    community_id = check_eligible(campaign, member)
    org, now = campaign.organization, timezone.now()
    try:
        with transaction.atomic():
            locked = Member.objects.for_org(org).select_for_update(no_key=True).get(pk=member.pk)
            if (
                TeamMember.objects.for_org(org)
                .filter(campaign=campaign, member=member, is_open=True)
                .exists()
            ):
                raise OrderRefused("already_in_team", _("This member is already in an open team."))
            team = Team.objects.create(
                organization=org,
                campaign=campaign,
                leader=member,
                opened_at=now,
                deadline=min(now + timedelta(hours=campaign.team_hours or 24), campaign.ends_at),
            )
            order = _team_order(actor, campaign, locked, community_id, now, coupon_id)
            TeamMember.objects.create(
                organization=org, team=team, campaign=campaign, member=member, order=order
            )
            audit.record(actor=actor, action="groupbuy.open", obj=team, summary=str(member))
    except IntegrityError:
        raise OrderRefused(
            "already_in_team", _("This member is already in an open team.")
        ) from None
    return team


def team_join(*, actor, team, member, coupon=None) -> Team:
    """Join a team; the member's order may use one of their coupons, as in `team_open`."""
    require_for(actor, "order.manage", member)
    coupon_id = coupon_id_of(coupon)
    campaign = team.campaign
    _live_group_buy(campaign)
    community_id = check_eligible(campaign, member)
    org, now = campaign.organization, timezone.now()
    try:
        with transaction.atomic():
            team = Team.objects.for_org(org).select_for_update().get(pk=team.pk)
            if team.status != TeamStatus.OPEN or team.deadline <= now:
                raise OrderRefused("team_closed", _("This team is no longer open."))
            locked = Member.objects.for_org(org).select_for_update(no_key=True).get(pk=member.pk)
            if (
                TeamMember.objects.for_org(org)
                .filter(campaign=campaign, member=member, is_open=True)
                .exists()
            ):
                raise OrderRefused("already_in_team", _("This member is already in an open team."))
            order = _team_order(actor, campaign, locked, community_id, now, coupon_id)
            TeamMember.objects.create(
                organization=org, team=team, campaign=campaign, member=member, order=order
            )
            if TeamMember.objects.for_org(org).filter(team=team).count() >= campaign.team_size:
                team.status, team.closed_at = TeamStatus.SUCCEEDED, now
                team.save(update_fields=["status", "closed_at"])
                TeamMember.objects.for_org(org).filter(team=team).update(is_open=False)
                _tell(team, MessageKind.GROUP_BUY_FILLED)
            audit.record(actor=actor, action="groupbuy.join", obj=team, summary=str(member))
    except IntegrityError:
        raise OrderRefused(
            "already_in_team", _("This member is already in an open team.")
        ) from None
    return team


def expire_teams(org, now=None) -> int:
    """Teams still short at their deadline fail: their orders are refunded, members told."""
    now = now or timezone.now()
    failed = 0
    while True:
        with transaction.atomic():
            teams = list(
                Team.objects.for_org(org)
                .filter(status=TeamStatus.OPEN, deadline__lte=now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("campaign", "campaign__product")[:200]
            )
            if not teams:
                return failed
            for team in teams:
                team.status, team.closed_at = TeamStatus.FAILED, now
                team.save(update_fields=["status", "closed_at"])
                rows = TeamMember.objects.for_org(org).filter(team=team)
                orders = Order.objects.for_org(org).filter(pk__in=rows.values("order_id"))
                # The team failed, not the buyer: each order's coupon comes back while it is
                # valid, paid or not (a buyer's own refund keeps it spent: docs/coupons.md).
                for order in orders.filter(
                    coupon__isnull=False,
                    status__in=(OrderStatus.PAID, OrderStatus.PENDING_PAYMENT),
                ):
                    coupons.coupon_return(order, now, _("group buy"), _("team did not fill"))
                orders.filter(status=OrderStatus.PAID).update(
                    status=OrderStatus.REFUNDED, refunded_at=now
                )
                orders.filter(status=OrderStatus.PENDING_PAYMENT).update(
                    status=OrderStatus.CANCELLED, cancelled_at=now
                )
                rows.update(is_open=False)
                _tell(team, MessageKind.GROUP_BUY_FAILED)
            failed += len(teams)


def _tell(team, message_kind) -> None:
    campaign = team.campaign
    org = campaign.organization
    members = list(TeamMember.objects.for_org(org).filter(team=team).select_related("member"))
    community = next(iter(campaign_targets(campaign)), None)
    reach = addressees(org, [row.member_id for row in members], community and community.platform)
    links = personal_links(org, [row.member for row in members], f"c/{campaign.pk}/")
    for row in members:
        if row.member_id not in reach:
            continue  # no identity: nobody to message
        context = {"name": campaign.name, "link": links.get(row.member_id, "")}
        text = compose(
            message_kind,
            context,
            language=org.default_language,
            org=org,
            community_id=community and community.pk,
        )
        outbox.enqueue(
            organization=org,
            kind=ActionKind.NOTIFY,
            community=community,
            member=row.member,
            text=text,
            team_id=team.pk,
            campaign_id=campaign.pk,
            **address(reach[row.member_id], row.member),
        )


def team_progress(campaign) -> list[dict]:
    org = campaign.organization
    teams = Team.objects.for_org(org).filter(campaign=campaign).order_by("-pk")[:50]
    counts = {}
    for team_id in (
        TeamMember.objects.for_org(org).filter(team__in=teams).values_list("team_id", flat=True)
    ):
        counts[team_id] = counts.get(team_id, 0) + 1
    return [{"team": t, "joined": counts.get(t.pk, 0), "size": campaign.team_size} for t in teams]
