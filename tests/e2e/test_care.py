"""Member care in a real browser: a complaint posted by the bot opens a case; the deputy takes
it through every step of seed 002 and closes it; the overview counts follow."""

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from care.models import Case
from communities.models import Community
from demo.management.commands.seed_demo import DEMO_PASSWORD
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.services import api_key_create

pytestmark = pytest.mark.e2e


def _open_count(site) -> int:
    site.goto("/o/jiankang/")
    return int(site.page.locator("[data-testid=care-open]").inner_text())


def test_complaint_from_the_bot_is_handled_and_closed_by_the_deputy(site):
    page = site.page
    org = Organization.objects.get(slug="jiankang")
    group = Community.objects.for_org(org).get(name="健康优选·全国综合1群")
    _key, raw = api_key_create(actor=Actor.system(org, "tests"), name="e2e bot")

    site.log_in("deputy@demo.qunyun.cn", DEMO_PASSWORD)
    before = _open_count(site)

    event = {
        "id": "e2e-complaint-1",
        "type": "message.posted",
        "occurred_at": timezone.now().isoformat(),
        "platform": group.platform,
        "community": group.external_id,
        "user": "wxid_e2e_unhappy",
        "display_name": "小红妈妈",
        "text": "这个产品质量太差了，胶囊都碎了",
    }
    response = page.request.post(
        site.url("/api/v1/events/"),
        data=json.dumps({"events": [event]}),
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
    )
    assert response.status == 200 and response.json()["accepted"] == 1
    case = Case.objects.for_org(org).get(source_event_id="e2e-complaint-1")

    assert _open_count(site) == before + 1
    expect(page.locator("[data-testid=my-open-cases]")).to_be_visible()

    site.goto("/o/jiankang/care/?queue=mine")
    with page.expect_navigation():
        page.locator(f"[data-testid=case-{case.pk}]").click()
    expect(page.locator("[data-testid=assignee]")).to_contain_text("李副团长")

    steps = ["responded", "acknowledged", "resolved", "followed_up", "closed"]
    for step in steps:
        form = page.locator("[data-testid=step-form]")
        expect(form.locator("input[name=step]")).to_have_value(step)
        if step == "resolved":
            form.locator("select[name=resolution]").select_option("replacement")
        form.locator("input[name=note]").fill(f"{step}: 已处理")
        if step == "responded":
            form.locator("textarea[name=reply]").fill("实在对不起，能和我说说具体问题吗？")
        with page.expect_navigation():
            form.locator("[data-testid=next-step]").click()
        expect(page.locator(".alert-success[role=alert]")).to_be_visible()

    expect(page.locator("[data-testid=step-form]")).to_have_count(0)
    expect(page.locator("[data-testid=timeline]")).to_contain_text("实在对不起")
    case.refresh_from_db()
    assert case.status == "closed" and case.resolution == "replacement"
    assert case.responded_by.email == "deputy@demo.qunyun.cn"

    assert _open_count(site) == before


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_the_queue_works_on_a_phone(site, viewport):
    site.log_in("deputy@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/care/?queue=overdue")
    cases = site.page.locator("[data-testid^=case-]")
    expect(cases.first).to_be_visible()
    expect(site.page.locator("[data-testid=overdue]").first).to_be_visible()
    width = site.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
