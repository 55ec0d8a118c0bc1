"""Demo campaigns for `manage.py seed_demo`: last week's flash sale (ended, with orders) and
this Friday's (published, announced in the calendar)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from communities.models import Community
from members.models import Membership


def seed(org, actor) -> None:
    if Campaign.objects.for_org(org).exists():
        return
    groups = list(Community.objects.for_org(org).filter(kind="general").order_by("pk")[:2])
    if not groups:
        return
    now = timezone.now()
    last = services.flash_sale_create(
        actor=actor,
        name="上周五晚8点秒杀",
        product_name="深海鱼油 60粒",
        price=Decimal("59"),
        original_price=Decimal("129"),
        stock=10,
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(minutes=30),
        communities=groups,
        cost=Decimal("700"),
    )
    last.status = "scheduled"
    last.save(update_fields=["status"])
    buyers = (
        Membership.objects.for_org(org)
        .filter(community__in=groups, status="active")
        .select_related("member")[:12]
    )
    for membership in buyers:
        try:
            order, _created = services.flash_sale_order(
                actor=actor,
                campaign=last,
                member=membership.member,
                quantity=1,
                idempotency_key=f"demo-{membership.pk}",
            )
        except services.OrderRefused:
            continue
        services.order_pay(actor=actor, order=order)
    Campaign.objects.for_org(org).filter(pk=last.pk).update(
        starts_at=now - timedelta(days=7),
        ends_at=now - timedelta(days=7) + timedelta(hours=1),
        sold_out_at=now - timedelta(days=7) + timedelta(minutes=4),
    )
    friday = (now + timedelta(days=(4 - now.weekday()) % 7 or 7)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    upcoming = services.flash_sale_create(
        actor=actor,
        name="周五晚8点秒杀",
        product_name="白藜芦醇胶囊",
        price=Decimal("99"),
        original_price=Decimal("199"),
        stock=10,
        starts_at=friday,
        ends_at=friday + timedelta(hours=1),
        communities=groups,
        cost=Decimal("1000"),
    )
    services.campaign_publish(actor=actor, campaign=upcoming)
