"""Rules that act: entry rules (VIP tier, groups per kind) do what the group chose; personal
attacks are warned like ads; an ads warning points to the organization's ads group; a keyword
can answer with the group's rules."""

from decimal import Decimal

import pytest

from communities import services as community_services
from integrations.models import Action
from members.models import Membership

from .conftest import ev


def _membership(org, community):
    return Membership.objects.for_org(org).get(
        identity__external_user_id="u1", community__external_id=community
    )


def _actions(org, kind):
    return list(Action.objects.for_org(org).filter(kind=kind).order_by("pk"))


@pytest.fixture
def vip_group(org_a):
    actor = org_a.actor()
    tier = community_services.tier_save(
        actor=actor, name="金卡", rank=2, min_spend=Decimal("500"), min_points=1000
    )
    return community_services.community_create(
        actor=actor, name="金卡会员群", external_id="vip", kind="vip", required_tier=tier
    )


def _choose(org_a, community, **actions):
    community_services.rules_update(actor=org_a.actor(), community=community, **actions)


def test_below_tier_by_default_tells_the_member_how_to_qualify_and_flags_for_review(
    org_a, vip_group, post
):
    post([ev("member.joined", community="vip", display_name="小王")])
    membership = _membership(org_a.org, "vip")
    assert membership.status == "onboarding"
    assert "below_tier" in membership.flags
    [notice] = _actions(org_a.org, "member.notify")
    assert notice.payload["text"] == (
        "@小王，金卡会员群 是 金卡 及以上会员的专属群。升级条件：消费满 ¥500、1000 积分。"
    )
    assert len(_actions(org_a.org, "member.welcome")) == 1


def test_below_tier_review_only_flags_without_telling(org_a, vip_group, post):
    _choose(org_a, vip_group, below_tier_action="review")
    post([ev("member.joined", community="vip")])
    assert "below_tier" in _membership(org_a.org, "vip").flags
    assert _actions(org_a.org, "member.notify") == []


def test_below_tier_notify_only(org_a, vip_group, post):
    _choose(org_a, vip_group, below_tier_action="notify")
    post([ev("member.joined", community="vip")])
    assert len(_actions(org_a.org, "member.notify")) == 1


def test_below_tier_remove_is_polite_and_sends_no_welcome(org_a, vip_group, post):
    _choose(org_a, vip_group, below_tier_action="remove")
    post([ev("member.joined", community="vip", display_name="小王")])
    membership = _membership(org_a.org, "vip")
    assert membership.status == "removed"
    assert _actions(org_a.org, "member.welcome") == []
    [removal] = _actions(org_a.org, "member.remove")
    assert removal.payload["reason"] == "below_tier"
    assert removal.payload["announce"] == (
        "小王 暂不符合本群的入群条件（金卡 及以上会员专属），已请出群，达到条件后欢迎再来。"
    )


def test_group_limit_each_choice(org_a, post):
    actor = org_a.actor()
    for ext in ("g1", "g2", "g3"):
        community_services.community_create(actor=actor, name=ext, external_id=ext, kind="general")
    g3 = community_services.community_create(
        actor=actor, name="综合3群", external_id="g4", kind="general"
    )
    _choose(org_a, g3, group_limit_action="remove")
    post(
        [
            ev("member.joined", community="g1", display_name="小王"),
            ev("member.joined", community="g2", at=1),
        ]
    )
    [notice] = _actions(org_a.org, "member.notify")
    assert notice.payload["text"] == "@小王，每位成员最多加入 1 个综合群，请保留你最喜欢的。"
    post([ev("member.joined", community="g4", at=2)])
    assert _membership(org_a.org, "g4").status == "removed"
    [removal] = _actions(org_a.org, "member.remove")
    assert removal.payload["reason"] == "too_many_groups"


def test_personal_attacks_are_warned_then_removed(org_a, group, post):
    post(
        [ev("member.joined", display_name="小王"), ev("message.posted", at=1, text="你就是个废物")]
    )
    membership = _membership(org_a.org, "g1")
    assert membership.status == "warned"
    [warn] = _actions(org_a.org, "member.warn")
    assert warn.payload["reason"] == "abuse"
    assert warn.payload["text"] == "@小王，请遵守群规：人身攻击或辱骂。这是第 1 次警告（共 1 次）。"
    post([ev("message.posted", at=2, text="傻逼")])
    assert _membership(org_a.org, "g1").status == "removed"


def test_abuse_words_are_the_organizations(org_a, group, post):
    org = org_a.org
    org.abuse_words = ["坏蛋"]
    org.save(update_fields=["abuse_words"])
    post(
        [
            ev("member.joined"),
            ev("message.posted", at=1, text="废物"),
            ev("message.posted", at=2, text="大坏蛋"),
        ]
    )
    [warn] = _actions(org_a.org, "member.warn")
    assert warn.payload["reason"] == "abuse"


def test_an_ads_warning_names_the_ads_group(org_a, group, post):
    community_services.community_create(
        actor=org_a.actor(), name="健康优选广告群", external_id="ads", kind="ads"
    )
    post(
        [
            ev("member.joined", display_name="小王"),
            ev("message.posted", at=1, text="加我微信，代购鱼油", has_link=False),
        ]
    )
    [warn] = _actions(org_a.org, "member.warn")
    assert warn.payload["text"].endswith("广告请发到“健康优选广告群”。")


def test_keyword_1_answers_with_the_rules(org_a, group, post):
    post([ev("member.joined"), ev("message.posted", at=1, text="1")])
    [reply] = _actions(org_a.org, "post.reply")
    assert reply.payload["text"].startswith("欢迎加入健康交流1群！")
    assert "群规：" in reply.payload["text"]
