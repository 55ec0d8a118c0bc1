"""Group setup in a real browser: a deputy's limited view, an owner copying rules."""

import pytest
from playwright.sync_api import expect

from communities.models import Community, CommunityRules
from demo.management.commands.seed_demo import DEMO_PASSWORD
from tenancy.models import Organization

pytestmark = pytest.mark.e2e


def _groups():
    org = Organization.objects.get(slug="jiankang")
    return org, {c.name: c for c in Community.objects.for_org(org)}


def test_deputy_sees_only_the_assigned_group_and_reads_its_rules(site):
    page = site.page
    _org, groups = _groups()
    assigned, other = groups["健康优选·全国综合1群"], groups["西安健康交流群"]
    site.log_in("deputy@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/communities/")
    rows = page.locator("#community-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(assigned.name)

    rows.first.get_by_role("link", name=assigned.name).click()
    rules = page.locator("[data-testid=rules-text]")
    expect(rules).to_contain_text("西安-小王-白藜芦醇")  # the name-card example
    edit_rules = page.locator(f"a[href='/o/jiankang/communities/{assigned.pk}/rules/']")
    expect(edit_rules).to_have_count(0)

    assert site.goto(f"/o/jiankang/communities/{other.pk}/").status == 404
    assert site.goto(f"/o/jiankang/communities/{assigned.pk}/rules/").status == 403
    assert site.goto("/o/jiankang/tiers/").status == 403
    assert site.goto("/o/jiankang/audit/").status == 403
    # campaigns (and the revenue on their pages) are not a deputy's business
    from campaigns.models import Campaign, CampaignTarget

    sale = Campaign.objects.for_org(_org).first()
    assert sale is not None, "the demo has a campaign in the deputy's group"
    assert CampaignTarget.objects.for_org(_org).filter(campaign=sale, community=assigned).exists()
    assert site.goto("/o/jiankang/campaigns/").status == 403
    assert site.goto(f"/o/jiankang/campaigns/{sale.pk}/").status == 403
    expect(page.locator("a[href='/o/jiankang/campaigns/']")).to_have_count(0)


def test_owner_copies_a_rule_set_to_three_groups(site):
    page = site.page
    org, groups = _groups()
    source = groups["健康优选·全国综合1群"]
    targets = [groups[name] for name in ("核心管理群", "广告交流群", "西安健康交流群")]
    site.log_in("owner@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto(f"/o/jiankang/communities/{source.pk}/")
    page.locator("a[href$='/rules/copy/']").click()
    for target in targets:
        page.get_by_label(target.name, exact=True).check()
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()

    expected = CommunityRules.objects.for_org(org).get(community=source).rules
    for target in targets:
        assert CommunityRules.objects.for_org(org).get(community=target).rules == expected
    # and the operator sees it applied on a target's page
    site.goto(f"/o/jiankang/communities/{targets[0].pk}/")
    expect(page.locator("[data-testid=rules-text]")).to_contain_text("西安-小王-白藜芦醇")
