"""Every dashboard page a person can open (GET), with the demo's objects in its URL.

The routes come from the URL patterns (tests/urlwalk.py), so a new page is walked without
anyone adding it here. A page about one object gets the demo's objects where the demo has
some (every campaign, every case, a member with flags, ...) and otherwise one made for it by the
cross-tenant registry (tests/tenant_routes.py). Pages that only answer POST are left out: their
GET is a 405 by design. Used by the zh-hans walk (tests/i18n/test_pages_in_words.py) and the
phone-width browser test (tests/e2e/test_phone_widths.py).
"""

from __future__ import annotations

from types import SimpleNamespace

from django.urls import reverse

from .tenant_routes import ROUTE_KWARGS
from .urlwalk import all_routes

# Routes that exist only to receive a form (their GET answers 405), or to download a file.
POST_ONLY = {
    "team-member-role",
    "team-member-deactivate",
    "team-member-reactivate",
    "invitation-revoke",
    "api-key-revoke",
    "community-archive",
    "community-restore",
    "community-rules-template",
    "community-staff",
    "community-staff-end",
    "tier-retire",
    "reward-toggle",
    "member-erase",
    "membership-warn",
    "membership-remove",
    "membership-reinstate",
    "membership-onboarding-introduced",
    "membership-onboarding-coupon",
    "warning-revoke",
    "block-lift",
    "webhook-toggle",
    "webhook-delivery-retry",
    "campaign-publish",
    "campaign-cancel",
    "campaign-draw",
    "coupon-retire",
    "coupon-perk-toggle",
    "care-follow-up-done",
    "care-follow-up-skipped",
    "care-rule-toggle",
    "care-case-step",
    "care-case-comment",
    "care-case-assign",
    "care-case-reopen",
    "message-template-preview",
    "message-template-reset",
    "message-template-restore",
    "community-message-preview",
    "community-message-reset",
    "community-message-restore",
    "entry-review-resolve",
    "poll-close",
    "suggestion-reply",
    "duty-retire",
    "duty-tick",
    "duty-tick-undo",
    "goal-drop",
    "award-recompute",
}
FILES = {"members-export", "member-data-export", "orders-export", "metrics-export",
         "metrics-community-export", "metrics-staff-export"}  # fmt: skip

# The same page with other views of its data.
VARIANTS = {
    "metrics": ["?window=7", "?window=90"],
    "metrics-community-page": ["?window=7", "?window=90"],
    "metrics-reactivation": ["?days=7"],
    "metrics-reactivation-group": ["?days=7"],
    "calendar": ["?view=month"],
    "care": ["?queue=open", "?queue=closed", "?queue=overdue"],
    "care-follow-ups": ["?status=done"],
    "duties": ["?week=2026-01-05"],
    "audit-log": ["?page=2"],
    "members": ["?page=2", "?status=left"],
    "suggestions": ["?show=all", "?show=replied"],
    "actions": ["?page=2"],
    "issued-coupons": ["?status=used", "?status=available"],
}


def _demo_objects(org) -> dict:
    """{route name: [url kwargs, ...]} pointing at the demo's own objects."""
    from campaigns.models import Campaign
    from care.models import Case
    from communities.models import Community, ContentPlan, ScheduledPost, VipTier
    from engagement.models import Poll
    from integrations.message_templates import LANGUAGES, editable_templates
    from members.models import Membership
    from teamwork.models import AwardRound, Goal

    communities = list(Community.objects.for_org(org).order_by("pk"))
    flagged = (
        Membership.objects.for_org(org)
        .exclude(flags=[])
        .order_by("pk")
        .values_list("member_id", flat=True)[:2]
    )
    left = Membership.objects.for_org(org).filter(status__in=["left", "removed"])
    members = [*flagged, *left.order_by("pk").values_list("member_id", flat=True)[:2]]
    members += list(
        Membership.objects.for_org(org).order_by("pk").values_list("member_id", flat=True)[:1]
    )
    by_route = {
        "community-detail": [{"pk": c.pk} for c in communities],
        "community-edit": [{"pk": communities[0].pk}] if communities else [],
        "community-rules": [{"pk": communities[0].pk}] if communities else [],
        "community-rules-copy": [{"pk": communities[0].pk}] if communities else [],
        "community-messages": [{"pk": communities[0].pk}] if communities else [],
        "message-template-edit": [
            {"key": key, "language": language}
            for key in editable_templates()
            for language in LANGUAGES
        ],
        "metrics-community-page": [{"pk": c.pk} for c in communities[:3]],
        "metrics-reactivation-group": [{"pk": c.pk} for c in communities[:2]],
        "member-detail": [{"pk": pk} for pk in dict.fromkeys(members)],
        "campaign-live": [{"pk": c.pk} for c in Campaign.objects.for_org(org).order_by("pk")],
        "care-case": [{"pk": c.pk} for c in Case.objects.for_org(org).order_by("pk")],
        "tier-edit": [{"pk": t.pk} for t in VipTier.objects.for_org(org).order_by("pk")[:1]],
        "plan-edit": [{"pk": p.pk} for p in ContentPlan.objects.for_org(org).order_by("pk")[:1]],
        "post-edit": [{"pk": p.pk} for p in ScheduledPost.objects.for_org(org).order_by("pk")[:2]],
        "poll": [{"pk": p.pk} for p in Poll.objects.for_org(org).order_by("pk")],
        "goal-detail": [{"pk": g.pk} for g in Goal.objects.for_org(org).order_by("pk")],
        "award-round": [{"pk": r.pk} for r in AwardRound.objects.for_org(org).order_by("pk")],
    }
    return {name: kwargs for name, kwargs in by_route.items() if kwargs}


def dashboard_pages(org, deputy) -> list[tuple[str, str]]:
    """[(route name, path)] of every GET page of the organization's dashboard."""
    from tenancy.models import ApiKey

    demo = _demo_objects(org)
    tenant = SimpleNamespace(org=org, deputy=deputy, api_key=ApiKey.objects.for_org(org).first())
    pages = [("org-list", reverse("org-list"))]
    for route in all_routes():
        if not route.is_org_route or route.is_api or route.name in POST_ONLY | FILES:
            continue
        if not route.object_kwargs:
            kwargs_list = [{}]
        elif route.name in demo:
            kwargs_list = demo[route.name]
        else:
            kwargs_list = [ROUTE_KWARGS[route.name](tenant)]
        for kwargs in kwargs_list:
            path = reverse(route.name, kwargs={"org_slug": org.slug, **kwargs})
            pages.append((route.name, path))
            pages += [(route.name, path + extra) for extra in VARIANTS.get(route.name, [])]
    return pages
