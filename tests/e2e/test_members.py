"""The member lifecycle in a real browser, as a deputy sees it."""

import pytest
from playwright.sync_api import expect

from communities.models import Community
from demo.management.commands.seed_demo import DEMO_PASSWORD
from members import services
from members.models import Membership
from tenancy.actors import Actor
from tenancy.models import Organization

pytestmark = pytest.mark.e2e


def test_deputy_warns_a_newcomer_and_reinstates_a_removed_member(site):
    page = site.page
    org = Organization.objects.get(slug="jiankang")
    group = Community.objects.for_org(org).get(name="健康优选·全国综合1群")
    removed = (
        Membership.objects.for_org(org)
        .filter(community=group, status="active")
        .select_related("community", "identity", "member")
        .first()
    )
    services.member_remove(actor=Actor.system(org, "tests"), membership=removed, reason="发广告")

    site.log_in("deputy@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/newcomers/")
    rows = page.locator("[data-testid=newcomer]")
    expect(rows.first).to_be_visible()
    first = rows.first
    first.locator("input[name=reason]").fill("请先修改群名片")
    with page.expect_navigation():
        first.get_by_role("button", name="警告").click()
    expect(page.locator(".alert-success")).to_be_visible()

    site.goto(f"/o/jiankang/members/{removed.member_id}/")
    card = page.locator(f"[data-testid=membership-{removed.pk}]")
    expect(card.locator("[data-testid=status]")).to_have_text("已移出")
    with page.expect_navigation():
        card.get_by_role("button", name="恢复").click()
    expect(card.locator("[data-testid=status]")).to_have_text("正常")
    history = page.locator("[data-testid=timeline]")
    expect(history).to_contain_text("发广告")
    expect(history).to_contain_text("已移出")
    expect(history).to_contain_text("正常")
