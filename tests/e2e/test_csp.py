"""The Content-Security-Policy in a real browser: every dashboard page (walked from the URL
registry), a member's page, a campaign's live page and the API docs load without a single CSP
violation reported by Chromium (an inline script or style, eval, a foreign source)."""

import pytest
from django.urls import reverse

from demo.management.commands.seed_demo import DEMO_PASSWORD
from tests.test_cross_tenant import ORG_LIST_ROUTES

pytestmark = pytest.mark.e2e

OWNER = "owner@demo.qunyun.cn"
ORG = "jiankang"


def _pages():
    from campaigns.models import Campaign
    from members.models import Member
    from tenancy.models import Organization

    org = Organization.objects.get(slug=ORG)
    paths = [
        reverse(r.name, kwargs={"org_slug": ORG})
        for r in ORG_LIST_ROUTES
        if not (r.route.endswith(".csv") or "export" in r.name)
    ]
    member = Member.objects.for_org(org).order_by("pk").first()
    paths.append(reverse("member-detail", kwargs={"org_slug": ORG, "pk": member.pk}))
    campaign = Campaign.objects.for_org(org).order_by("pk").first()
    if campaign is not None:
        paths.append(reverse("campaign-live", kwargs={"org_slug": ORG, "pk": campaign.pk}))
    return paths


def test_no_page_violates_the_content_security_policy(site):
    page = site.page
    violations = []
    page.on(
        "console",
        lambda msg: (
            violations.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or "Refused to" in msg.text
            else None
        ),
    )
    site.log_in(OWNER, DEMO_PASSWORD)
    paths = _pages()
    assert len(paths) >= 15
    for path in [*paths, "/api/docs/"]:
        response = site.goto(path)
        assert response.status < 400, (path, response.status)
        page.wait_for_load_state("networkidle")
    page.locator(".swagger-ui .info").wait_for()  # the API docs really rendered
    assert not violations, "\n".join(violations)
