"""The member pages on a 390 px phone in zh-hans, as members use them: a personal link from the
bot, then buying, teaming up, entering a lottery, checking in and reporting a problem (which
lands in the deputy's care queue). Every member page visited fits the phone (no sideways
scroll) and reads as Chinese words: no code, no placeholder, no English leftover."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import lottery
from campaigns import services as campaign_services
from campaigns.models import Campaign, LotteryDraw, Order
from care.models import Case
from communities.models import StaffAssignment
from ingestion.pipeline import record_member_event
from members import access
from members.models import Membership
from tenancy.actors import Actor
from tenancy.models import Organization

from ..factories import TEST_PASSWORD
from ..i18n.test_pages_in_words import (
    PLACEHOLDER,
    english_in,
    member_data_values,
    problems_in,
    readable_text,
)
from ..portal.conftest import (  # the member pages' fixtures: a member in a group, campaigns
    flash_sale,
    group,
    group_buy,
    lottery_campaign,
    make_member,
    member,
)
from .conftest import PHONE

pytestmark = pytest.mark.e2e
__all__ = ["flash_sale", "group", "group_buy", "lottery_campaign", "member"]  # fixtures

PAYMENT = "请转账到团长微信 qunyun_tuanzhang，备注订单号后四位。"


@pytest.fixture
def viewport():
    return PHONE


@pytest.fixture(autouse=True)
def shop(live_server, org_a, group, settings):
    """Org A as a shop: payment instructions, org_a.deputy as the group's deputy, and the
    links the bot sends pointing at the live server."""
    settings.SITE_URL = live_server.url
    org = org_a.org
    org.payment_instructions = PAYMENT
    org.save(update_fields=["payment_instructions"])
    StaffAssignment.objects.create(
        organization=org, community=group, user=org_a.deputy, role="deputy"
    )


def check_member_page(page):
    """The page fits 390 px and reads as Chinese words."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: {width}px wide"
    slug = page.url.split("/m/", 1)[1].split("/", 1)[0]
    values = member_data_values(Organization.objects.get(slug=slug))
    text = readable_text(page.content())
    found = problems_in(text, values) + english_in(text, values) + PLACEHOLDER.findall(text)
    assert not found, f"{page.url}: {found}"


def open_link(page, member, target=""):
    """The member taps the personal link the bot sent them."""
    link = access.personal_link(member, target)
    assert link
    page.goto(link)
    assert "/l/" not in page.url  # exchanged for a session and sent on
    check_member_page(page)


def test_a_member_opens_a_personal_link_buys_and_sees_how_to_pay(page, org_a, member, flash_sale):
    sale = flash_sale
    open_link(page, member, f"c/{sale.pk}/")
    expect(page.locator("[data-testid=campaign-name]")).to_have_text("今晚8点秒杀")
    expect(page.locator("[data-testid=limits]")).to_have_text("每人限购 2 件。")
    expect(page.locator("[data-testid=price]")).to_have_text("¥99.00")
    expect(page.locator("[data-testid=stock-left]")).to_have_text("10 / 10")
    expect(page.locator("[data-testid=phase]")).to_have_text("进行中")
    page.locator("#quantity").select_option("2")
    with page.expect_navigation():
        page.locator("[data-testid=buy]").click()

    order = Order.objects.for_org(org_a.org).get(member=member)
    assert page.url.endswith(f"/m/{org_a.org.slug}/me/orders/{order.pk}/")
    check_member_page(page)
    expect(page.locator("[data-testid=order-status]")).to_have_text("待付款")
    expect(page.locator("[data-testid=order-amount]")).to_have_text("¥198.00")
    expect(page.locator("[data-testid=order-items]")).to_have_text("白藜芦醇 × 2")
    how = page.locator("[data-testid=how-to-pay]")
    expect(how).to_contain_text("请支付 ¥198.00。")
    expect(how).to_contain_text(PAYMENT)

    # back on the sale: the stock went down and the cap of 2 is reached
    page.goto(f"{settings.SITE_URL}/m/{org_a.org.slug}/c/{sale.pk}/")
    check_member_page(page)
    expect(page.locator("[data-testid=stock-left]")).to_have_text("8 / 10")
    expect(page.locator("[data-testid=cap-reached]")).to_be_visible()


def test_a_friend_joins_a_team_from_the_share_link_and_the_team_succeeds(
    page, browser, org_a, group, member, group_buy
):
    leader, friend = member, make_member(org_a.org, group, "小红")
    open_link(page, leader, f"c/{group_buy.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=open-team]").click()
    check_member_page(page)
    expect(page.locator("[data-testid=team-count]")).to_have_text("1 / 2")
    share_url = page.locator("[data-testid=share-url]").input_value()
    assert share_url == page.url

    friends_phone = browser.new_context(locale="zh-CN", viewport=PHONE)
    try:
        other = friends_phone.new_page()
        open_link(other, friend, "me/")  # the friend's own session, from their own link
        other.goto(share_url)
        check_member_page(other)
        expect(other.locator("[data-testid=team-count]")).to_have_text("1 / 2")
        with other.expect_navigation():
            other.locator("[data-testid=join-team]").click()
        check_member_page(other)
        expect(other.locator("[data-testid=team-count]")).to_have_text("2 / 2")
        expect(other.locator("[data-testid=team-outcome]")).to_have_text("人已凑齐，拼团成功！")
    finally:
        friends_phone.close()

    page.reload()
    check_member_page(page)
    expect(page.locator("[data-testid=team-outcome]")).to_have_text("人已凑齐，拼团成功！")


def test_a_member_enters_a_lottery_and_sees_the_result_after_the_draw(
    page, org_a, member, lottery_campaign
):
    campaign = lottery_campaign
    open_link(page, member, f"c/{campaign.pk}/")
    expect(page.locator("[data-testid=prizes]")).to_have_text("礼盒 × 1")
    with page.expect_navigation():
        page.locator("[data-testid=enter]").click()
    check_member_page(page)
    expect(page.locator("[data-testid=entered]")).to_be_visible()

    expect(page.locator("[data-testid=public-source]")).to_contain_text(
        "体彩大乐透 第 26140 期 开奖号码"
    )

    # entries close and the named value is published (as if the time had passed): the draw
    past = timezone.now() - timedelta(seconds=1)
    Campaign.objects.for_org(org_a.org).filter(pk=campaign.pk).update(ends_at=past)
    LotteryDraw.objects.for_org(org_a.org).filter(campaign=campaign).update(
        public_value_at=past, draw_at=past
    )
    campaign.refresh_from_db()
    lottery.lottery_draw(actor=org_a.actor(), campaign=campaign, public_value="2026135")

    page.reload()
    check_member_page(page)
    expect(page.locator("[data-testid=my-result]")).to_have_text(
        "恭喜你中奖：礼盒！工作人员会在群里联系你。"
    )
    expect(page.locator("[data-testid=winners]")).to_have_text("小明 · 礼盒")
    with page.expect_navigation():
        page.locator("[data-testid=verify-link]").click()
    expect(page.locator("body")).to_contain_text("2026135")


def test_a_member_checks_in_on_their_page_and_sees_the_streak(page, org_a, member):
    membership = Membership.objects.for_org(org_a.org).get(member=member)
    record_member_event(  # yesterday, through the bot
        actor=Actor.system(org_a.org, "bot"),
        membership=membership,
        type_="member.checked_in",
        event_id="e2e-checkin-yesterday",
        at=timezone.now() - timedelta(days=1),
    )

    open_link(page, member, "me/")
    row = page.locator("[data-testid=checkins] li", has_text="秒杀一群")
    expect(row.locator("[data-testid=streak]")).to_have_text("已连续签到 1 天")
    with page.expect_navigation():
        row.locator("[data-testid=checkin]").click()
    check_member_page(page)
    expect(page.locator("[data-testid=member-message]")).to_have_text("签到成功，明天见！")
    expect(row.locator("[data-testid=checked-in]")).to_have_text("今日已签到")
    expect(row.locator("[data-testid=streak]")).to_have_text("已连续签到 2 天")
    points = int(page.locator("[data-testid=points-balance]").inner_text().replace(",", ""))
    assert points > 0


def test_a_reported_problem_appears_in_the_deputys_care_queue(
    page, browser, org_a, member, flash_sale
):
    order, _created = campaign_services.flash_sale_order(
        actor=Actor.for_member(member),
        campaign=flash_sale,
        member=member,
        quantity=1,
        idempotency_key="e2e-report",
    )

    open_link(page, member, "me/")
    with page.expect_navigation():
        page.locator("[data-testid=my-orders] a", has_text="今晚8点秒杀").click()
    check_member_page(page)
    with page.expect_navigation():
        page.locator("[data-testid=report-problem]").click()
    check_member_page(page)
    form = page.locator("[data-testid=report-form]")
    form.get_by_label("问题类型").select_option(label="售后咨询")
    form.get_by_label("发生了什么？").fill("收到的瓶子是破的")
    with page.expect_navigation():
        form.locator("[data-testid=send-report]").click()
    check_member_page(page)
    case = Case.objects.for_org(org_a.org).get(member=member)
    expect(page.locator("[data-testid=member-message]")).to_have_text(
        f"谢谢你的反馈，编号 {case.pk}；工作人员会在群里回复你。"
    )
    assert (case.order_id, case.source, case.kind) == (order.pk, "member_page", "after_sales")
    assert case.assignee == org_a.deputy  # the deputy of the order's group

    staff = browser.new_context(locale="zh-CN", viewport=PHONE)
    try:
        desk = staff.new_page()
        base = settings.SITE_URL
        desk.goto(base + "/accounts/login/")
        desk.locator("main input[name=username]").fill(org_a.deputy.email)
        desk.locator("main input[name=password]").fill(TEST_PASSWORD)
        with desk.expect_navigation():
            desk.locator("main button[type=submit]").click()
        desk.goto(f"{base}/o/{org_a.org.slug}/care/?queue=mine")
        row = desk.locator(f"[data-testid=case-{case.pk}]")
        expect(row).to_contain_text("白藜芦醇 × 1")
        expect(row).to_contain_text("小明")
        with desk.expect_navigation():
            row.click()
        expect(desk.locator("body")).to_contain_text("收到的瓶子是破的")
    finally:
        staff.close()
