"""A flash sale in a real browser, as the benefits officer runs it."""

import pytest
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import Campaign
from communities.models import Community
from demo.management.commands.seed_demo import DEMO_PASSWORD
from members.models import Membership
from tenancy.actors import Actor
from tenancy.models import Organization

pytestmark = pytest.mark.e2e


def test_benefits_officer_creates_a_sale_and_watches_it_sell_out(site):
    page = site.page
    org = Organization.objects.get(slug="jiankang")
    groups = list(Community.objects.for_org(org).filter(kind="general").order_by("pk")[:2])
    site.log_in("benefits@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/campaigns/new/")
    form = page.locator("main form")
    form.locator("input[name=name]").fill("今晚8点秒杀")
    form.locator("input[name=product_name]").fill("深海鱼油 60粒")
    form.locator("input[name=price]").fill("59")
    form.locator("input[name=original_price]").fill("129")
    form.locator("input[name=stock]").fill("3")
    from django.utils import timezone

    now = timezone.now().astimezone(org.tzinfo)
    form.locator("input[name=starts_at]").fill(
        (now - timezone.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    )
    form.locator("input[name=ends_at]").fill(
        (now + timezone.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    for group in groups:
        page.get_by_label(group.name, exact=True).check()
    form.locator("input[name=publish]").uncheck()  # starts now: nothing to announce ahead
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=stock-left]")).to_have_text("3")
    expect(page.locator("[data-testid=phase]")).to_be_visible()

    campaign = Campaign.objects.for_org(org).get(name="今晚8点秒杀")
    campaign.status = "scheduled"  # publish without announcements (they would be in the past)
    campaign.save(update_fields=["status"])
    buyers = (
        Membership.objects.for_org(org)
        .filter(community__in=groups, status="active")
        .select_related("member")[:4]
    )
    bot = Actor.system(org, "bot")
    outcomes = []
    for membership in buyers:
        try:
            services.flash_sale_order(
                actor=bot,
                campaign=campaign,
                member=membership.member,
                quantity=1,
                idempotency_key=f"e2e-{membership.pk}",
            )
            outcomes.append("ok")
        except services.OrderRefused as exc:
            outcomes.append(exc.code)
    assert outcomes.count("ok") == 3
    # the live page refreshes itself (HTMX polling every 3 s)
    expect(page.locator("[data-testid=stock-left]")).to_have_text("0", timeout=10_000)
    expect(page.locator("[data-testid=sold-out]")).to_be_visible()
    # the review: units, buyers, conversion, time to sell out, against last week's sale
    review = page.locator("[data-testid=review]")
    expect(review).to_be_visible()
    expect(review).to_contain_text("3")
