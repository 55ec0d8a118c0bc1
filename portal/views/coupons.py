"""The member's coupons ("me" pages): the ones they may use, the used and expired ones, and the
points catalogue's coupons to redeem points for (members.services.points_redeem, which issues
the coupon in the same transaction)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import coupons
from campaigns.models import CouponTemplate, IssuedCoupon
from communities.models import RedemptionItem
from integrations.composer import coupon_offer
from members import services as member_services

from ..session import member_page

SHOWN = 50


def described(coupon, org) -> dict:
    """A coupon and its words (the composer's, as the bot says them)."""
    return {"coupon": coupon, "text": coupon_offer(coupons.offer_context(coupon, org))}


@member_page()
def my_coupons(request, org):
    member, now = request.member, timezone.now()
    usable = coupons.usable_coupons(org, member, now=now)
    usable_ids = {c.pk for c in usable}
    others = [
        c
        for c in IssuedCoupon.objects.for_org(org)
        .filter(member=member)
        .select_related("template")
        .order_by("-issued_at")[:SHOWN]
        if c.pk not in usable_ids
    ]
    catalogue = list(
        CouponTemplate.objects.for_org(org)
        .filter(is_active=True, redemption_item__is_active=True)
        .select_related("redemption_item")
        .order_by("redemption_item__points_cost")[:20]
    )
    return render(
        request,
        "portal/coupons.html",
        {
            "org": org,
            "member": member,
            "usable": [described(c, org) for c in usable],
            "others": others,
            "now": now,
            "catalogue": [
                {
                    "item": t.redemption_item,
                    "text": coupon_offer(coupons.offer_context(_preview(t, now), org)),
                    "affordable": member.points_balance >= t.redemption_item.points_cost,
                }
                for t in catalogue
            ],
        },
    )


def _preview(template, now) -> IssuedCoupon:
    """The coupon a redemption would issue now (unsaved), to name its value and expiry."""
    start, expires = coupons._validity(template, now)
    return IssuedCoupon(template=template, valid_from=start, expires_at=expires)


@require_POST
@member_page()
def redeem(request, org):
    item = get_object_or_404(
        RedemptionItem.objects.for_org(org).filter(is_active=True, coupon_template__is_active=True),
        pk=request.POST.get("item") or 0,
    )
    try:
        member_services.points_redeem(actor=request.member_actor, member=request.member, item=item)
    except (ValidationError, PermissionDenied) as refused:  # Conflict is a ValidationError
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
    else:
        messages.success(request, _("Done: the coupon is yours."))
    return redirect("member-coupons", org=org.slug)
