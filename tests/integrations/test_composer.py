"""Every message kind, in both languages: no blanks, no unresolved placeholder."""

import re
from datetime import date
from decimal import Decimal

import pytest

from integrations.composer import _COMPOSERS, MessageKind, compose, compose_each

CONTEXTS = {
    MessageKind.WELCOME: {"community": "健康优选1群", "custom": ""},
    MessageKind.RULES: {
        "community": "健康优选1群",
        "intro": ["我们是健康优选", "", "群主：小李"],
        "rules": [
            {"kind": "no_ads", "params": {"allowed_domains": ["jd.com"]}},
            {"kind": "no_flood", "params": {"max_consecutive": 5}},
            {
                "kind": "name_card",
                "params": {"format": "城市-名字", "example": "西安-小王"},
            },
            {"kind": "no_personal_attacks", "params": {}},
            {"kind": "custom", "params": {"text": "请勿私加好友"}},
        ],
        "warnings_before_removal": 2,
    },
    MessageKind.BREACH: {"rule": "flood", "max_consecutive": 5, "window_seconds": 60},
    MessageKind.WARN: {"name": "小王", "detail": "广告", "warning": 1, "threshold": 2},
    MessageKind.REMOVE_ANNOUNCE: {"name": "小王", "detail": "广告"},
    MessageKind.KEYWORD_REPLY: {"text": "群规见公告"},
    MessageKind.WAKE_UP: {
        "template": "{name}，好久不见！{offer}",
        "name": "小王",
        "offer": "9折券",
    },
    MessageKind.POST: {"text": "周一养生小知识"},
    MessageKind.CARE_REPLY: {"text": "已为您登记，请稍候"},
    MessageKind.FOLLOW_UP: {
        "template": "{name}，您的{items}已发货",
        "name": "小王",
        "order": "JD-1",
        "items": "白藜芦醇",
    },
    MessageKind.CAMPAIGN_PREVIEW: {
        "campaign_kind": "flash_sale",
        "when": "12-08 20:00",
        "name": "周末秒杀",
        "stock": 10,
        "price": Decimal("9.90"),
        "original_price": Decimal("19.90"),
        "team_size": None,
    },
    MessageKind.CAMPAIGN_START: {
        "campaign_kind": "group_buy",
        "when": "12-08 20:00",
        "name": "两人拼团",
        "stock": 10,
        "price": Decimal("9.90"),
        "original_price": Decimal("19.90"),
        "team_size": 2,
    },
    MessageKind.ENTRY_BELOW_TIER: {
        "name": "小王",
        "group": "金卡会员群",
        "tier": "金卡",
        "conditions": {"min_paid_orders": 2, "min_spend": Decimal("500.00"), "min_points": 0},
    },
    MessageKind.ENTRY_GROUP_LIMIT: {"name": "小王", "limit": 2, "kind": "综合群"},
    MessageKind.ENTRY_REMOVE_ANNOUNCE: {"name": "小王", "detail": "金卡 及以上会员专属"},
    MessageKind.LOTTERY_WON: {"prize": "保温杯", "name": "周末抽奖"},
    MessageKind.GROUP_BUY_FILLED: {"name": "两人拼团"},
    MessageKind.GROUP_BUY_FAILED: {"name": "两人拼团"},
    MessageKind.MEMBER_LINK: {"link": "https://qunyun.example/m/shop/l/t0k3n/", "hours": 48},
    MessageKind.LINK_BUTTON: {},
    MessageKind.POLL: {
        "poll_kind": "poll",
        "title": "下次团购选哪个？",
        "options": ["红枣", "枸杞", "桂圆"],
        "multiple": False,
        "replies": True,
        "closes": "12-08 20:00",
        "link": "https://q.example/m/shop/p/7/",
        "questions": 1,
    },
    MessageKind.POLL_RESULTS: {
        "poll_kind": "poll",
        "title": "下次团购选哪个？",
        "total": 3,
        "rows": [
            {"text": "红枣", "votes": 2},
            {"text": "枸杞", "votes": 1},
            {"text": "桂圆", "votes": 0},
        ],
    },
    MessageKind.SUGGESTION_REPLY: {"idea": "希望多搞秒杀", "text": "好的，下周安排一场"},
    MessageKind.COUPON_GRANTED: {
        "name": "新人专属10元券",
        "kind": "amount",
        "value": Decimal("10"),
        "max_off": None,
        "min_spend": Decimal("100"),
        "free_shipping": False,
        "expires": date(2026, 6, 30),
        "reason": "newcomer",
    },
    MessageKind.AWARD: {
        "award": "best_activity",
        "month_start": date(2026, 5, 1),
        "name": "小王",
        "days": 25,
    },
    MessageKind.LEAVING_SURVEY: {
        "community": "健康优选1群",
        "link": "https://qunyun.example/m/shop/l/t0k3n/",
    },
    MessageKind.LEAVING_QUESTION: {"community": "健康优选1群"},
    MessageKind.LEAVING_CHOICE: {"reason": "too_many_ads"},
    MessageKind.LEAVING_THANKS: {"community": "健康优选1群"},
    MessageKind.POSTER: {
        "poster_kind": "campaign",
        "org": "健康优选",
        "campaign_kind": "flash_sale",
        "name": "白藜芦醇周末秒杀",
        "price": Decimal("99.00"),
        "original_price": Decimal("199.00"),
    },
    MessageKind.POSTER_REPLY: {
        "community": "健康优选1群",
        "url": "https://qunyun.example/m/shop/poster/T0K3N/",
    },
}


def test_every_kind_has_a_context_here():
    assert set(CONTEXTS) == set(_COMPOSERS)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_kind_composes_without_blanks(kind, language):
    text = compose(kind, CONTEXTS[kind], language=language)
    assert text.strip()
    assert not re.search(r"%\(|\{\w+\}|None", text), text
    assert not text.rstrip().endswith(("：", ":")), text


def test_campaign_preview_names_the_campaign_kind():
    lottery = {**CONTEXTS[MessageKind.CAMPAIGN_PREVIEW], "campaign_kind": "lottery"}
    text = compose(MessageKind.CAMPAIGN_PREVIEW, lottery, language="zh-hans")
    assert text == "12-08 20:00 抽奖：周末秒杀。在群里参与，就有机会中奖。"
    flash = compose(
        MessageKind.CAMPAIGN_PREVIEW, CONTEXTS[MessageKind.CAMPAIGN_PREVIEW], language="zh-hans"
    )
    assert flash == "12-08 20:00 秒杀：周末秒杀，仅 10 件，秒杀价 ¥9.90（原价 ¥19.90）。"


def test_rules_text_gives_a_name_card_example():
    text = compose(MessageKind.RULES, CONTEXTS[MessageKind.RULES], language="en")
    assert "Set your name card as 城市-名字, e.g. 西安-小王." in text


def test_a_wake_up_without_an_offer_drops_the_sentence_that_would_announce_it():
    template = "@{name}，好久没看到你了，最近有没有需要的产品？给你留了一份专属优惠：{offer}"
    context = {"template": template, "name": "小王", "offer": ""}
    assert compose(MessageKind.WAKE_UP, context, language="zh-hans") == (
        "@小王，好久没看到你了，最近有没有需要的产品？"
    )
    context["offer"] = "满100减10券"
    assert compose(MessageKind.WAKE_UP, context, language="zh-hans").endswith(
        "专属优惠：满100减10券"
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("@{name}，好久没看到你了，{offer}", "好久没看到你了，满100减10券"),
        ("{name}，好久不见！", "好久不见！"),
        ("亲爱的@{name} 好久不见", "亲爱的好久不见"),
        ("Hi {name}, we miss you", "Hi, we miss you"),
    ],
)
@pytest.mark.parametrize("name", ["", "  ", None])
def test_a_wake_up_to_a_member_without_a_name_leaves_the_greeting_out(name, template, expected):
    context = {"template": template, "name": name, "offer": "满100减10券"}
    assert compose(MessageKind.WAKE_UP, context, language="zh-hans") == expected


def test_compose_each_gives_what_compose_gives_member_by_member():
    template = "@{name}，好久没看到你了，最近有没有需要的产品？给你留了一份专属优惠：{offer}"
    context = {"template": template, "offer": "满100减10券"}
    coupon = {**CONTEXTS[MessageKind.COUPON_GRANTED]}
    coupon.pop("reason", None)
    members = [
        {"name": "小王", "link": "https://q.example/m/shop/l/a/"},
        {"name": "", "link": "https://q.example/m/shop/l/b/"},
        {"name": "{offer} \\1 小李", "link": ""},
        {"name": " 小张 ", "link": "https://q.example/m/shop/l/c/", "coupon": coupon},
        {"name": None, "link": None},
    ]
    texts = compose_each(MessageKind.WAKE_UP, context, members, language="zh-hans")
    for member, text in zip(members, texts, strict=True):
        single = {**context, **member, "name": (member["name"] or "").strip()}
        assert text == compose(MessageKind.WAKE_UP, single, language="zh-hans") or (
            "{offer}" in member["name"]  # compose fills it in a name; compose_each does not
            and text.startswith("@{offer} \\1 小李，")
        )


def test_a_personal_link_ends_what_is_said_to_one_member():
    context = {**CONTEXTS[MessageKind.LOTTERY_WON], "link": "https://q.example/m/shop/l/abc/"}
    text = compose(MessageKind.LOTTERY_WON, context, language="zh-hans")
    assert text.splitlines()[-1] == "你的专属页面：https://q.example/m/shop/l/abc/"
    english = compose(MessageKind.LOTTERY_WON, context, language="en")
    assert english.splitlines()[-1] == "Your page: https://q.example/m/shop/l/abc/"
    # without a link (a member who may not have one) nothing dangles
    assert "\n" not in compose(
        MessageKind.LOTTERY_WON, CONTEXTS[MessageKind.LOTTERY_WON], language="zh-hans"
    )


def test_a_campaign_post_ends_with_its_public_page():
    context = {
        **CONTEXTS[MessageKind.CAMPAIGN_START],
        "public_link": "https://q.example/m/shop/c/7/",
    }
    text = compose(MessageKind.CAMPAIGN_START, context, language="zh-hans")
    assert text.splitlines()[-1] == "详情和参与：https://q.example/m/shop/c/7/"


def test_the_member_link_message_says_it_is_personal():
    text = compose(MessageKind.MEMBER_LINK, CONTEXTS[MessageKind.MEMBER_LINK], language="zh-hans")
    assert text == (
        "这是你的专属页面：https://qunyun.example/m/shop/l/t0k3n/ —— 48 小时内有效，只能打开一次，"
        "请不要转发。需要新的链接，再发一次关键词给我就好。"
    )


def test_a_poll_lists_its_numbered_choices_and_how_to_answer():
    text = compose(MessageKind.POLL, CONTEXTS[MessageKind.POLL], language="zh-hans")
    assert text == (
        "投票：下次团购选哪个？\n1. 红枣\n2. 枸杞\n3. 桂圆\n"
        "回复选项编号即可投票，12-08 20:00 截止。\n"
        "在这里投票：https://q.example/m/shop/p/7/"
    )
    several = {**CONTEXTS[MessageKind.POLL], "multiple": True}
    assert compose(MessageKind.POLL, several, language="en").splitlines()[4] == (
        "Reply with the numbers of your choices, separated by spaces (e.g. 1 3). "
        "Open until 12-08 20:00."
    )
    page_only = {**CONTEXTS[MessageKind.POLL], "replies": False}
    assert compose(MessageKind.POLL, page_only, language="zh-hans").splitlines()[4] == (
        "12-08 20:00 截止。"
    )


def test_a_survey_says_how_many_questions_and_where_to_answer():
    context = {
        "poll_kind": "survey",
        "title": "会员满意度调查",
        "questions": 3,
        "closes": "12-08 20:00",
        "link": "https://q.example/m/shop/p/8/",
    }
    assert compose(MessageKind.POLL, context, language="zh-hans") == (
        "问卷：会员满意度调查（共 3 题），12-08 20:00 截止。\n"
        "在这里填写：https://q.example/m/shop/p/8/"
    )
    assert compose(MessageKind.POLL, {**context, "questions": 1}, language="en").startswith(
        "Survey: 会员满意度调查 (1 question). Open until 12-08 20:00."
    )


def test_poll_results_give_votes_and_shares():
    text = compose(MessageKind.POLL_RESULTS, CONTEXTS[MessageKind.POLL_RESULTS], language="zh-hans")
    assert text == (
        "投票结果：下次团购选哪个？\n1. 红枣：2 票（67%）\n2. 枸杞：1 票（33%）\n"
        "3. 桂圆：0 票（0%）\n共 3 人参与，谢谢！"
    )
    english = compose(MessageKind.POLL_RESULTS, CONTEXTS[MessageKind.POLL_RESULTS], language="en")
    assert english.splitlines()[2] == "2. 枸杞: 1 vote (33%)"
    nobody = {"poll_kind": "survey", "title": "会员满意度调查", "total": 0}
    assert compose(MessageKind.POLL_RESULTS, nobody, language="zh-hans") == (
        "问卷“会员满意度调查”已结束，共 0 人参与，谢谢！"
    )


def test_a_reply_to_an_idea_quotes_it_and_offers_the_members_page():
    context = {**CONTEXTS[MessageKind.SUGGESTION_REPLY], "link": "https://q.example/m/shop/l/x/"}
    assert compose(MessageKind.SUGGESTION_REPLY, context, language="zh-hans") == (
        "关于你的建议“希望多搞秒杀”：好的，下周安排一场\n你的专属页面：https://q.example/m/shop/l/x/"
    )


AWARD = {"month_start": date(2026, 5, 1), "name": "李副团长", "days": 1, "handled": 1}


@pytest.mark.parametrize(
    ("award", "language", "text"),
    [
        (
            "best_activity",
            "zh-hans",
            "恭喜 @李副团长 获得 2026年5月 最佳活跃奖：本月有 1 天在群里活跃，谢谢你的陪伴！",
        ),
        (
            "best_activity",
            "en",
            "Congratulations to @李副团长 on the Best Activity Award for May 2026: active in the "
            "group on 1 day this month. Thank you for being here!",
        ),
        (
            "best_service",
            "zh-hans",
            "恭喜 李副团长 获得 2026年5月 最佳服务奖：本月帮 1 位群友解决或回访了问题，谢谢你用心的服务！",
        ),
        (
            "best_service",
            "en",
            "Congratulations to 李副团长 on the Best Service Award for May 2026: 1 member's "
            "question resolved or followed up this month. Thank you for the care!",
        ),
        ("top_sales", "zh-hans", "恭喜 李副团长 获得 2026年5月 最佳业绩奖！谢谢你为大家挑选好物。"),
        (
            "top_sales",
            "en",
            "Congratulations to 李副团长 on the Best Sales Award for May 2026! Thank you for "
            "finding such good things for everyone.",
        ),
    ],
)
def test_each_award_is_announced_in_the_groups_language(award, language, text):
    assert compose(MessageKind.AWARD, {**AWARD, "award": award}, language=language) == text


def test_award_counts_take_the_plural_and_an_unknown_award_is_an_error():
    many = {**AWARD, "award": "best_service", "handled": 12}
    assert "12 members' questions" in compose(MessageKind.AWARD, many, language="en")
    with pytest.raises(KeyError):
        compose(MessageKind.AWARD, {**AWARD, "award": "best_hat"}, language="en")


def test_the_leaving_survey_offers_the_seed_s_three_causes_and_other():
    texts = [
        compose(MessageKind.LEAVING_CHOICE, {"reason": code}, language="zh-hans")
        for code in ("content_not_useful", "too_many_ads", "no_benefits", "other")
    ]
    assert texts == ["内容不好", "广告太多", "没有福利", "其他原因"]


def test_a_poster_prints_the_offer_and_what_to_do():
    text = compose(MessageKind.POSTER, CONTEXTS[MessageKind.POSTER], language="zh-hans")
    assert text.split("\n") == [
        "健康优选",
        "白藜芦醇周末秒杀",
        "¥99（原价 ¥199）",
        "扫码查看详情并报名",
    ]
    group = compose(
        MessageKind.POSTER,
        {"poster_kind": "group", "org": "健康优选", "community": "健康优选1群"},
        language="zh-hans",
    )
    assert group.split("\n") == ["健康优选", "健康优选1群", "扫码进群"]
