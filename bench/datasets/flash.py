"""What the flash-sale benchmarks sell and who buys: live flash sales of one group (through the
services: created and published) and members in that group (bulk_create: members, identities,
memberships), for bench/flash_sale.py and bench/member_pages.py."""

from __future__ import annotations

from datetime import timedelta

from bench.lib import app


def live_flash_sale(org, actor, group, *, name: str, stock: int, cap: int, hours: int = 1):
    """A flash sale of `stock` units, live since a minute ago for `hours`, published."""
    from django.utils import timezone

    now = timezone.now()
    sale = app.flash_sale_create(
        actor=actor,
        name=name,
        product_name="鱼油",
        price=9,
        original_price=99,
        stock=stock,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=hours),
        communities=[group],
        per_member_cap=cap,
    )
    with app.org_scope(org):
        app.campaign_publish(actor=actor, campaign=sale)
    return sale


def group_members(org, group, count: int, name: str = "m") -> list:
    """`count` active members of `group`, each with a WeChat identity."""
    members = app.Member.objects.bulk_create(
        [app.Member(organization=org, display_name=f"{name}{i}") for i in range(count)]
    )
    identities = app.MemberIdentity.objects.bulk_create(
        [
            app.MemberIdentity(
                organization=org, member=m, platform="wechat", external_user_id=f"m{i}"
            )
            for i, m in enumerate(members)
        ]
    )
    app.Membership.objects.bulk_create(
        [
            app.Membership(
                organization=org, community=group, member=m, identity=ident, status="active"
            )
            for m, ident in zip(members, identities, strict=True)
        ]
    )
    return members
