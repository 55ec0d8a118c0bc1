"""The operator's day in a real browser (issue 16): a new owner signs up, confirms the address
from the mail, follows the first steps, creates a group and connects the example bot, whose
first event ticks the "connect a bot" step by itself; a deputy's home shows their overdue
complaint first."""

import importlib.util
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from care.models import Case
from communities.models import Community, StaffAssignment
from tenancy import tasks
from tenancy.models import ApiKey, Organization, OrgMembership, User
from tests.factories import CaseFactory, CommunityFactory, MembershipFactory, OrganizationFactory

from .conftest import Site

pytestmark = pytest.mark.e2e

SPEC = importlib.util.spec_from_file_location(
    "bot_client", Path(__file__).resolve().parents[2] / "examples" / "bot_client.py"
)
bot_client = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bot_client)

PASSWORD = "Lotus-garden-1987!"
LINK = re.compile(r"https?://\S+/accounts/signup/verify/\S+/")


@pytest.fixture
def mails_at_once(monkeypatch):
    """The live server runs in this process: its sign-up mails go out at once (no broker) into
    Django's locmem outbox."""
    monkeypatch.setattr(tasks.send_signup_mail, "delay", tasks.send_signup_mail)


def _step(page, key):
    return page.locator(f"[data-testid=step-{key}]")


@pytest.mark.django_db(transaction=True)
def test_sign_up_then_first_steps_until_the_bot_ticks_its_step(
    page, live_server, settings, mails_at_once
):
    settings.SITE_URL = live_server.url
    site = Site(page, live_server.url)

    site.goto("/accounts/login/")
    with page.expect_navigation():
        page.locator("[data-testid=signup-link]").click()
    form = page.locator("[data-testid=signup-form]")
    form.locator("[name=full_name]").fill("王小明")
    form.locator("[name=email]").fill("boss@example.com")
    form.locator("[name=organization_name]").fill("小明的店")
    form.locator("[name=slug]").fill("xiaoming")
    form.locator("[name=password1]").fill(PASSWORD)
    form.locator("[name=password2]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=signup-sent]")).to_be_visible()
    assert not Organization.objects.filter(slug="xiaoming").exists()

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["boss@example.com"]
    link = LINK.search(mail.outbox[0].body).group(0)
    page.goto(link)
    expect(page.locator("main")).to_contain_text("小明的店")
    with page.expect_navigation():
        page.locator("[data-testid=signup-confirm]").click()
    expect(page).to_have_url(site.url_re("/o/xiaoming/"))

    checklist = page.locator("[data-testid=first-steps]")
    expect(checklist).to_be_visible()
    for key in ("group", "rules", "bot", "invite", "plan"):
        expect(_step(page, key)).to_have_attribute("data-done", "0")

    # the first step's link opens the page that creates a group
    with page.expect_navigation():
        _step(page, "group").get_by_role("link").click()
    form = page.locator("main form").first
    form.locator("[name=name]").fill("小明的店·顾客1群")
    form.locator("[name=external_id]").fill("wx-xiaoming-001")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    site.goto("/o/xiaoming/")
    expect(_step(page, "group")).to_have_attribute("data-done", "1")
    expect(page.locator("[data-testid=first-steps-progress]")).to_contain_text("1/5")

    # connect a bot: the step's link leads to the API keys; the new key is shown once
    with page.expect_navigation():
        _step(page, "bot").get_by_role("link").click()
    page.locator("main form [name=name]").fill("小明的机器人")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    raw_key = page.locator("[data-testid=new-api-key] .secret-once").inner_text().strip()
    site.goto("/o/xiaoming/")
    expect(_step(page, "bot")).to_have_attribute("data-done", "0")
    expect(_step(page, "bot")).to_contain_text("密钥已经就绪")

    # the example bot posts a newcomer's join, then carries out and acknowledges the welcome
    bot = bot_client.QunyunClient(live_server.url, raw_key)
    result = bot.post_events([bot_client.event("member.joined", "wx-xiaoming-001", "wxid_first")])
    assert result["accepted"] == 1
    for action in bot.poll_actions():
        bot.ack(action["id"], "done", detail="posted")

    site.goto("/o/xiaoming/")
    expect(_step(page, "bot")).to_have_attribute("data-done", "1")
    expect(page.locator("[data-testid=first-steps-progress]")).to_contain_text("2/5")
    # the newcomer now waits for a greeting
    expect(page.locator("[data-testid=today-newcomers]")).to_contain_text("小明的店·顾客1群")

    # and the connection status says when the bot was last seen
    site.goto("/o/xiaoming/bots/")
    org = Organization.objects.get(slug="xiaoming")
    key = ApiKey.objects.for_org(org).get(name="小明的机器人")
    row = page.locator(f"[data-testid=bot-key-{key.pk}]")
    expect(row.locator("[data-testid=last-event]")).not_to_contain_text("从未")
    expect(page.locator("[data-testid=backlog-waiting]")).to_have_text("0")

    owner = User.objects.get(email="boss@example.com")
    assert OrgMembership.objects.for_org(org).get(user=owner).role == "owner"
    assert Community.objects.for_org(org).filter(external_id="wx-xiaoming-001").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_deputys_home_shows_their_overdue_complaint_first(page, live_server):
    org = OrganizationFactory(slug="zaoan", name="早安母婴")
    deputy = User.objects.create_user(email="deputy@example.com", password=PASSWORD)
    OrgMembership.objects.create(organization=org, user=deputy, role="staff")
    mine = CommunityFactory(organization=org, name="早安·宝妈1群")
    other = CommunityFactory(organization=org, name="早安·宝妈2群")
    StaffAssignment.objects.create(organization=org, community=mine, user=deputy, role="deputy")
    now = timezone.now()
    for group in (mine, other):
        MembershipFactory(organization=org, community=group, status="joined")
    CaseFactory(
        organization=org, community=mine, subject="奶粉罐漏了", opened_at=now - timedelta(minutes=5)
    )
    overdue = CaseFactory(
        organization=org,
        community=mine,
        subject="尿不湿发错尺码",
        opened_at=now - timedelta(hours=1),
    )
    CaseFactory(
        organization=org, community=other, subject="别的群的投诉", opened_at=now - timedelta(days=1)
    )

    site = Site(page, live_server.url)
    site.log_in("deputy@example.com", PASSWORD)
    site.goto("/o/zaoan/")
    sections = page.locator("[data-testid=today] [data-testid^=today-]").filter(
        has=page.locator("[data-testid=today-item]")
    )
    first = sections.first
    expect(first).to_have_attribute("data-testid", "today-cases")
    first_item = first.locator("[data-testid=today-item]").first
    expect(first_item).to_contain_text(overdue.subject)
    expect(first_item.locator("[data-testid=overdue]")).to_contain_text("已超时")
    expect(first.locator("[data-testid=today-count]")).to_have_text("2")
    expect(page.locator("main")).not_to_contain_text("别的群的投诉")
    expect(page.locator("[data-testid=today-newcomers] [data-testid=today-count]")).to_have_text(
        "1"
    )
    # one click to the case
    with page.expect_navigation():
        first_item.get_by_role("link").click()
    expect(page).to_have_url(site.url_re(f"/o/zaoan/care/{overdue.pk}/"))
    assert Case.objects.for_org(org).count() == 3
