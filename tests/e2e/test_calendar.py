"""The content calendar in a real browser, as a content officer uses it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from communities import content
from communities.models import Community, ScheduledPost
from demo.management.commands.seed_demo import DEMO_PASSWORD
from tenancy.models import Organization

pytestmark = pytest.mark.e2e


def test_officer_plans_a_week_skips_one_and_the_rest_are_sent(site):
    page = site.page
    org = Organization.objects.get(slug="jiankang")
    groups = list(Community.objects.for_org(org).filter(kind="general").order_by("pk")[:2])
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(org.tzinfo).date()

    site.log_in("content@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/plans/new/")
    page.locator("input[name=name]").fill("直播预告计划")
    for group in groups:
        page.get_by_label(group.name, exact=True).check()
    slot = page.locator("[data-testid=slot]").first
    slot.locator("select[name$=weekday]").select_option(str(tomorrow.weekday()))
    slot.locator("input[name$=local_time]").fill("20:30")
    slot.locator("select[name$=content_type]").select_option("deal_preview")
    slot.locator("textarea[name$=template]").fill("明晚8点半直播：{community} 专场")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()

    site.goto(f"/o/jiankang/calendar/?date={tomorrow.isoformat()}")
    ours = page.locator("[data-testid=post]", has_text="20:30")
    expect(ours).to_have_count(2)
    ours.first.click()
    with page.expect_navigation():
        page.locator("button[value=skip]").click()

    later = timezone.now() + timedelta(days=2)
    content.dispatch_due(org, now=later)
    site.goto(f"/o/jiankang/calendar/?date={tomorrow.isoformat()}")
    statuses = sorted(ours.nth(i).get_attribute("data-status") for i in range(2))
    assert statuses == ["sent", "skipped"]
    assert (
        ScheduledPost.objects.for_org(org).filter(text__contains="直播", status="sent").count() == 1
    )
