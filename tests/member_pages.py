"""Every member page (/m/<org>/, portal/) a member can open with GET, with objects in its URL.

The routes come from the URL patterns (tests/urlwalk.py), so a new member page is walked
without anyone adding it here; its objects come from the demo where the demo has some (its
campaigns, the member's own orders) and otherwise from the cross-tenant registry
(tests/tenant_routes.py MEMBER_OBJECT_KWARGS). Used by the zh-hans walk
(tests/i18n/test_pages_in_words.py).
"""

from __future__ import annotations

from types import SimpleNamespace

from django.urls import reverse

from .tenant_routes import MEMBER_OBJECT_KWARGS, MEMBER_PAGES
from .urlwalk import all_routes

# Routes that only take a form or a script's POST: their GET answers 405 by design.
MEMBER_POST_ONLY = {
    "member-buy",
    "member-team-open",
    "member-team-join",
    "member-lottery-enter",
    "member-checkin",
    "member-signout",
    "member-telegram-session",
    "member-poll-answer",
    "member-coupon-redeem",
}
# A personal link answers with a redirect to the page it was sent for (and sets the cookie).
MEMBER_REDIRECTS = {"member-link"}


def member_page_routes():
    routes = [r for r in all_routes() if r.is_member_route]
    unknown = [r.name for r in routes if r.name not in MEMBER_OBJECT_KWARGS.keys() | MEMBER_PAGES]
    assert not unknown, f"member routes missing from tests/tenant_routes.py: {unknown}"
    return routes


def _demo_objects(org, member) -> dict:
    """{route name: [url kwargs, ...]} pointing at the demo's campaigns and the member's orders."""
    from campaigns.models import Campaign, Order

    campaigns = Campaign.objects.for_org(org).filter(status="scheduled").order_by("pk")
    orders = Order.objects.for_org(org).filter(member=member).order_by("pk")[:2]
    by_route = {
        "member-campaign": [{"pk": c.pk} for c in campaigns],
        "member-order": [{"pk": o.pk} for o in orders],
        "member-report": [{"pk": o.pk} for o in orders],
    }
    return {name: kwargs for name, kwargs in by_route.items() if kwargs}


def member_pages(org, member) -> list[tuple[str, str]]:
    """[(route name, path)] of every member page that answers GET, as `member` would open it:
    the demo's objects, and one of each kind made for the member by the registry (a live flash
    sale, group buy, lottery, a team, an order)."""
    tenant = SimpleNamespace(org=org)
    demo = _demo_objects(org, member)
    pages = []
    for route in member_page_routes():
        if route.name in MEMBER_POST_ONLY:
            continue
        kwargs_list = [{}] if route.name in MEMBER_PAGES else []
        kwargs_list += demo.get(route.name, [])
        if route.name in MEMBER_OBJECT_KWARGS:
            kwargs_list.append(MEMBER_OBJECT_KWARGS[route.name](tenant, member))
        if route.name == "member-campaign":
            kwargs_list += [
                MEMBER_OBJECT_KWARGS[name](tenant, member)
                for name in ("member-team-open", "member-lottery-enter")
            ]
        for kwargs in kwargs_list:
            pages.append((route.name, reverse(route.name, kwargs={"org": org.slug, **kwargs})))
    return pages
