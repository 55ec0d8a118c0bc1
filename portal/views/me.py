"""The member's own page: points and their history, check-in with the streak, the VIP tier
and the way to the next, orders with their shipping, and "report a problem"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.models import CouponStatus, IssuedCoupon, Order
from care.models import CaseKind, MilestoneKind, OrderMilestone
from care.services import member_report
from ingestion.pipeline import record_member_event
from members import member_pages
from members.models import PRESENT_STATUSES, Membership

from ..session import member_page

ORDERS_SHOWN = 20


def _today(org):
    return timezone.now().astimezone(org.tzinfo).date()


@member_page()
def me(request, org):
    member = request.member
    orders = list(
        Order.objects.for_org(org)
        .filter(member=member)
        .select_related("campaign")
        .order_by("-placed_at")[:ORDERS_SHOWN]
    )
    shipped = {
        m.order_id: m
        for m in OrderMilestone.objects.for_org(org).filter(
            order__in=orders, kind=MilestoneKind.SHIPPED
        )
    }
    return render(
        request,
        "portal/me.html",
        {
            "org": org,
            "member": member,
            "history": member_pages.points_history(member),
            "groups": member_pages.checkin_groups(member, _today(org)),
            "tier": member_pages.tier_progress(member),
            "orders": [{"order": o, "shipped": shipped.get(o.pk)} for o in orders],
            "coupon_count": IssuedCoupon.objects.for_org(org)
            .filter(
                member=member,
                status=CouponStatus.AVAILABLE,
                valid_from__lte=timezone.now(),
                expires_at__gt=timezone.now(),
            )
            .count(),
        },
    )


@require_POST
@member_page()
def checkin(request, org):
    """A check-in from the page is the same event a bot would send: the same once-a-day rule,
    streak and points apply (ingestion), and the event id makes a second tap a no-op."""
    member = request.member
    membership = get_object_or_404(
        Membership.objects.for_org(org)
        .filter(member=member, status__in=PRESENT_STATUSES)
        .select_related("community", "identity", "identity__member"),
        pk=request.POST.get("membership") or 0,
    )
    record_member_event(
        actor=request.member_actor,
        membership=membership,
        type_="member.checked_in",
        event_id=f"page-checkin-{membership.pk}-{_today(org).isoformat()}",
        at=timezone.now(),
    )
    messages.success(request, _("Checked in. See you tomorrow!"))
    return redirect("member-me", org=org.slug)


def _my_order(request, org, pk) -> Order:
    return get_object_or_404(
        Order.objects.for_org(org).filter(member=request.member).select_related("campaign"),
        pk=pk,
    )


@member_page()
def order_page(request, org, pk):
    order = _my_order(request, org, pk)
    shipped = (
        OrderMilestone.objects.for_org(org).filter(order=order, kind=MilestoneKind.SHIPPED).first()
    )
    return render(
        request,
        "portal/order.html",
        {"org": org, "member": request.member, "order": order, "shipped": shipped},
    )


@member_page()
def report_problem(request, org, pk):
    """ "Report a problem" with an order: an after-sales case in the deputy's queue."""
    order = _my_order(request, org, pk)
    errors = {}
    if request.method == "POST":
        try:
            case = member_report(
                actor=request.member_actor,
                order=order,
                kind=request.POST.get("kind", CaseKind.QUESTION),
                text=request.POST.get("text", ""),
            )
        except ValidationError as invalid:  # Conflict (an open complaint already) included
            errors = invalid.message_dict if hasattr(invalid, "error_dict") else {}
            messages.error(request, " ".join(invalid.messages))
        else:
            messages.success(
                request,
                _("Thank you. Your report is number %(n)s; staff will answer you in the group.")
                % {"n": case.pk},
            )
            return redirect("member-order", org=org.slug, pk=order.pk)
    return render(
        request,
        "portal/report.html",
        {
            "org": org,
            "member": request.member,
            "order": order,
            "errors": errors,
            "kinds": member_report_kinds(),
            "text": request.POST.get("text", ""),
        },
    )


def member_report_kinds():
    """The kinds a member picks from, the common ones first."""
    labels = dict(CaseKind.choices)
    order = [CaseKind.QUESTION, CaseKind.REFUND, CaseKind.COMPLAINT, CaseKind.OTHER]
    return [(kind.value, labels[kind]) for kind in order]
