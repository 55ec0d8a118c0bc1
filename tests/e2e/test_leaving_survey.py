"""The leaving survey on a 390 px phone in zh-hans (seed 002 §5.3): a member leaves the group,
the bot's private message carries their link, they answer with one tap, and the reason shows
on the group's page for its deputy, with the fix that fits it."""

import re

import pytest
from playwright.sync_api import expect

from communities.models import StaffAssignment
from integrations.models import Action
from members.models import Leaving

from ..factories import TEST_PASSWORD
from ..portal.conftest import group, make_member, member
from .conftest import PHONE
from .test_member_pages import check_member_page

pytestmark = pytest.mark.e2e
__all__ = ["group", "member", "make_member"]  # fixtures


@pytest.fixture
def viewport():
    return PHONE


def test_a_leaving_member_answers_and_the_reason_shows_on_the_group_page(
    page, browser, live_server, settings, org_a, group, member
):
    settings.SITE_URL = live_server.url
    group.external_id = "g-e2e"
    group.save(update_fields=["external_id"])
    StaffAssignment.objects.create(
        organization=org_a.org, community=group, user=org_a.deputy, role="deputy"
    )
    response = org_a.api_client().post(
        "/api/v1/events/",
        {
            "events": [
                {
                    "id": "left-1",
                    "type": "member.left",
                    "occurred_at": "2026-11-20T12:00:00+00:00",
                    "platform": "wechat",
                    "community": "g-e2e",
                    "user": "u-小明",
                }
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    notify = Action.objects.for_org(org_a.org).get(kind="member.notify")
    link = re.search(r"http://\S+/l/[\w-]+/", notify.payload["text"]).group(0)

    page.goto(link)  # they are no longer in the group; the link still signs them in
    assert "/bye/" in page.url
    check_member_page(page)
    expect(page.locator("[data-testid=leaving-question]")).to_have_text(
        "你为什么退出「秒杀一群」？"
    )
    expect(page.locator("[data-testid=leaving-form] .list-group label")).to_have_text(
        ["A. 内容不好", "B. 广告太多", "C. 没有福利", "D. 其他原因"]
    )
    page.get_by_text("B. 广告太多").click()
    page.get_by_label("还想说点什么吗（可不填）").fill("每天十几条广告")
    with page.expect_navigation():
        page.locator("[data-testid=leaving-submit]").click()
    check_member_page(page)
    expect(page.locator("[data-testid=leaving-thanks]")).to_have_text(
        "谢谢你告诉我们，我们会认真改进。「秒杀一群」随时欢迎你回来。"
    )
    expect(page.locator("[data-testid=reason-too_many_ads]")).to_be_checked()
    leaving = Leaving.objects.for_org(org_a.org).get()
    assert (leaving.reason, leaving.text) == ("too_many_ads", "每天十几条广告")

    staff = browser.new_context(locale="zh-CN", viewport=PHONE)
    try:
        desk = staff.new_page()
        base = settings.SITE_URL
        desk.goto(base + "/accounts/login/")
        desk.locator("main input[name=username]").fill(org_a.deputy.email)
        desk.locator("main input[name=password]").fill(TEST_PASSWORD)
        with desk.expect_navigation():
            desk.locator("main button[type=submit]").click()
        desk.goto(f"{base}/o/{org_a.org.slug}/communities/{group.pk}/")
        panel = desk.locator("[data-testid=leaving-panel]")
        expect(panel.locator("[data-testid=leaving-too_many_ads-total]")).to_have_text("1")
        expect(panel.locator("[data-testid=leaving-too_many_ads] th")).to_have_text("广告太多")
        fix = panel.locator("[data-testid=leaving-fix-too_many_ads]")
        expect(fix).to_contain_text("广告规则和发帖上限")
        # a deputy may not change the group's rules: the tool is named, not linked to a 403
        expect(fix.locator("a")).to_have_count(0)
        expect(panel.locator("[data-testid=leaving-words]")).to_contain_text("每天十几条广告")
        width = desk.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"group page {width}px wide"
    finally:
        staff.close()
