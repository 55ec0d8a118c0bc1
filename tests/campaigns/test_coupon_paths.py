"""The automatic issuing paths: the newcomer coupon (once per member per organization), the
photo reward (晒单: images on N days in a row after an order), the wake-up coupon."""

from datetime import timedelta

import pytest

from campaigns import coupons
from campaigns.models import IssuedCoupon, Order
from communities import services as community_services
from integrations.models import Action
from members import jobs
from members.models import Membership

from ..members.conftest import T0, ev

pytestmark = pytest.mark.django_db
DAY = 24 * 60


@pytest.fixture
def groups(org_a):
    actor = org_a.actor()
    return (
        community_services.community_create(actor=actor, name="一群", external_id="g1"),
        community_services.community_create(actor=actor, name="二群", external_id="g2"),
    )


@pytest.fixture
def post(org_a):
    client = org_a.api_client()

    def _post(events):
        response = client.post(
            "/api/v1/events/", {"events": events}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return _post


def _template(actor, name, **kw):
    return coupons.template_create(
        actor=actor, name=name, kind="amount", value="10", valid_days=30, **kw
    )


def _coupons(org, source):
    return IssuedCoupon.objects.for_org(org).filter(source=source)


def test_newcomer_coupon_once_per_member_not_per_rejoin_nor_second_group(org_a, groups, post):
    actor = org_a.actor()
    coupons.settings_save(actor=actor, newcomer_template=_template(actor, "新人10元券"))
    post([ev("member.joined", user="new")])
    assert _coupons(org_a.org, "newcomer").count() == 1
    # leave and rejoin, join a second group, the same join resent under a new id
    post(
        [
            ev("member.left", user="new", at=10),
            ev("member.joined", user="new", at=20),
            ev("member.joined", user="new", community="g2", at=30),
        ]
    )
    post([ev("member.joined", user="new", community="g2", at=40)])
    assert _coupons(org_a.org, "newcomer").count() == 1
    # someone joining two groups in one batch gets one
    post(
        [
            ev("member.joined", user="twice", at=50),
            ev("member.joined", user="twice", community="g2", at=51),
        ]
    )
    assert _coupons(org_a.org, "newcomer").count() == 2
    notices = Action.objects.for_org(org_a.org).filter(kind="member.notify")
    assert len([a for a in notices if "新人10元券" in a.payload["text"]]) == 2


def test_no_newcomer_coupon_when_off_or_for_members_already_known(org_a, groups, post):
    actor = org_a.actor()
    post([ev("member.joined", user="early")])  # before the org turned it on
    assert not _coupons(org_a.org, "newcomer").exists()
    coupons.settings_save(actor=actor, newcomer_template=_template(actor, "新人券"))
    post([ev("member.joined", user="early", community="g2", at=5)])
    assert not _coupons(org_a.org, "newcomer").exists()


def _image(day, user="buyer", minute=0):
    return ev("message.posted", user=user, at=day * DAY + minute, kind="image", length=0)


@pytest.mark.time_machine(T0 + timedelta(days=40), tick=False)  # the events are not future
def test_photo_reward_after_seven_days_in_a_row_after_an_order(org_a, groups, post):
    actor = org_a.actor()
    coupons.settings_save(
        actor=actor, showcase_template=_template(actor, "晒单券"), showcase_days=7
    )
    post([ev("member.joined", user="buyer"), _image(0, minute=5)])  # before any order
    post([ev("order.placed", user="buyer", at=60, order_id="o1", amount="99", items=[])])
    # days 1-3, day 3 twice (counts once), a gap on day 4, then days 5-11
    post([_image(d) for d in (1, 2, 3)] + [_image(3, minute=30)])
    post([_image(d) for d in range(5, 11)])
    assert not _coupons(org_a.org, "showcase").exists()  # 6 days in a row so far
    post([_image(11)])
    assert _coupons(org_a.org, "showcase").count() == 1
    post([_image(d) for d in range(12, 20)])  # the same order earns it once
    assert _coupons(org_a.org, "showcase").count() == 1
    # a new order starts a new run
    post([ev("order.placed", user="buyer", at=20 * DAY, order_id="o2", amount="50", items=[])])
    post([_image(d, minute=60 * 2) for d in range(20, 27)])
    assert _coupons(org_a.org, "showcase").count() == 2
    assert Order.objects.for_org(org_a.org).count() == 2


@pytest.mark.time_machine(T0 + timedelta(days=40), tick=False)
def test_text_posts_and_non_buyers_earn_nothing(org_a, groups, post):
    actor = org_a.actor()
    coupons.settings_save(
        actor=actor, showcase_template=_template(actor, "晒单券"), showcase_days=2
    )
    post([ev("member.joined", user="talker")])
    post([_image(d, user="talker") for d in range(1, 5)])
    post([ev("order.placed", user="talker", at=5 * DAY, order_id="o1", amount="9", items=[])])
    post([ev("message.posted", user="talker", at=d * DAY + 9, length=3) for d in range(6, 9)])
    assert not _coupons(org_a.org, "showcase").exists()


@pytest.mark.time_machine(T0 + timedelta(days=60), tick=False)
def test_wake_up_names_the_coupon_issued_at_wake_up_time(org_a, groups, post):
    actor = org_a.actor()
    template = _template(actor, "回归礼券", min_spend="50")
    post([ev("member.joined", user="sleepy"), ev("member.joined", user="sleepy2")])
    Membership.objects.for_org(org_a.org).update(
        status="dormant", last_active_at=T0, dormant_since=T0
    )
    # without a wake-up coupon: the offer clause goes, never a blank
    jobs.send_reminders(org_a.org)
    texts = [
        a.payload["text"] for a in Action.objects.for_org(org_a.org).filter(kind="member.remind")
    ]
    assert texts and all("专属优惠" not in t for t in texts)
    Action.objects.for_org(org_a.org).filter(kind="member.remind").update(status="cancelled")
    Membership.objects.for_org(org_a.org).update(reminders_sent=0, last_reminded_at=None)

    coupons.settings_save(actor=actor, wake_up_template=template)
    assert jobs.send_reminders(org_a.org) == 2
    issued = _coupons(org_a.org, "wake_up")
    assert issued.count() == 2
    remind = Action.objects.for_org(org_a.org).filter(kind="member.remind", status="pending")
    for action in remind:
        text = action.payload["text"]
        assert "专属优惠：“回归礼券”" in text
        assert "满50元减10元" in text
        expires = issued.first().expires_at.astimezone(org_a.org.tzinfo)
        assert f"{expires.month}月{expires.day}日前有效" in text
    # the next reminder names the coupon they still hold rather than a second one
    Membership.objects.for_org(org_a.org).update(last_reminded_at=T0)
    jobs.send_reminders(org_a.org)
    assert issued.count() == 2
