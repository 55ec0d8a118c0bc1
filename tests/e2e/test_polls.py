"""A poll in a real browser: the deputy posts it for their group, three members answer (two on
their phone page at 390 px, one by replying "2" in the group through the events API), and the
deputy's page shows the results as they come in."""

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from communities.models import StaffAssignment
from demo.management.commands.seed_demo import DEMO_PASSWORD
from engagement.models import Poll, Response
from integrations.models import Action
from members import access
from members.models import PRESENT_STATUSES, Membership
from tenancy.actors import Actor
from tenancy.models import Organization, User
from tenancy.services import api_key_create

from .conftest import PHONE, TIMEOUT_MS

pytestmark = pytest.mark.e2e

FITS = """() => ({inner: window.innerWidth, page: document.documentElement.scrollWidth})"""


def _fits_a_phone(page):
    sizes = page.evaluate(FITS)
    assert sizes["page"] <= sizes["inner"] + 1, sizes


def test_a_poll_answered_on_phones_and_in_the_group(site, browser):
    page = site.page
    org = Organization.objects.get(slug="jiankang")
    deputy = User.objects.get(email="deputy@demo.qunyun.cn")
    group = (
        StaffAssignment.objects.for_org(org)
        .filter(user=deputy, role="deputy", ended_at=None)
        .select_related("community")
        .get()
        .community
    )
    voters = list(
        Membership.objects.for_org(org)
        .filter(community=group, status__in=PRESENT_STATUSES, identity__platform=group.platform)
        .select_related("member", "identity")
        .order_by("pk")[:3]
    )
    assert len(voters) == 3

    # the deputy posts a poll for their group
    site.log_in("deputy@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/polls/new/")
    form = page.locator("main form")
    form.locator("input[name=title]").fill("下次团购选哪个？")
    form.locator("textarea[name=options]").fill("红枣\n枸杞\n桂圆")
    closes = timezone.now().astimezone(org.tzinfo) + timezone.timedelta(days=1)
    form.locator("input[name=closes_at]").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(group.name, exact=True).check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    poll = Poll.objects.for_org(org).get(title="下次团购选哪个？")
    expect(page.locator("[data-testid=answer-count]")).to_have_text("0 位成员已作答")
    announced = Action.objects.for_org(org).get(kind="group.announce", payload__poll_id=poll.pk)
    assert announced.community_id == group.pk
    assert f"/m/jiankang/p/{poll.pk}/" in announced.payload["text"]

    # two members vote on their phones, from their personal links
    for membership, choice in ((voters[0], 2), (voters[1], 1)):
        context = browser.new_context(locale="zh-CN", viewport=PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        phone = context.new_page()
        link = access.personal_link(membership.member, f"p/{poll.pk}/")
        phone.goto(site.url("/m/" + link.split("/m/", 1)[1]))
        expect(phone.locator("[data-testid=poll-title]")).to_have_text("下次团购选哪个？")
        _fits_a_phone(phone)
        phone.locator(f"[data-testid=choice-{choice}]").check()
        with phone.expect_navigation():
            phone.locator("[data-testid=submit-answer]").click()
        expect(phone.locator("[data-testid=answered]")).to_be_visible()
        expect(phone.locator("[data-testid=member-results]")).to_contain_text("目前结果")
        _fits_a_phone(phone)
        if choice == 2:  # the member's list of polls and the suggestion box fit the phone too
            phone.goto(site.url("/m/jiankang/p/"))
            expect(phone.locator("[data-testid=member-polls]")).to_contain_text("下次团购选哪个？")
            _fits_a_phone(phone)
            phone.goto(site.url("/m/jiankang/ideas/"))
            phone.locator("#idea-text").fill("希望多一些晚上8点以后的秒杀活动" * 3)
            with phone.expect_navigation():
                phone.locator("[data-testid=send-idea]").click()
            expect(phone.locator("[data-testid=my-idea]")).to_have_count(1)
            _fits_a_phone(phone)
        context.close()

    # the third replies "2" in the group: the bot reports the message through the events API
    _key, raw = api_key_create(actor=Actor.system(org, "e2e"), name="e2e bot")
    third = voters[2]
    event = {
        "id": f"e2e-poll-reply-{poll.pk}",
        "type": "message.posted",
        "occurred_at": timezone.now().isoformat(),
        "platform": third.identity.platform,
        "community": group.external_id,
        "user": third.identity.external_user_id,
        "text": "2",
    }
    reply = page.request.post(
        site.url("/api/v1/events/"),
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
        data=json.dumps({"events": [event]}),
    )
    assert reply.status == 200, reply.text()
    assert reply.json()["accepted"] == 1

    # the deputy's page has refreshed itself: three answers, two for 枸杞 and one for 红枣
    expect(page.locator("[data-testid=answer-count]")).to_have_text("3 位成员已作答")
    votes = page.locator("[data-testid=result-row] [data-testid=votes]")
    expect(votes).to_have_text(["1", "2", "0"])
    vias = sorted(Response.objects.for_org(org).filter(poll=poll).values_list("via", flat=True))
    assert vias == ["group", "page", "page"]
