"""Every message kind (per campaign kind where the text differs) in zh-hans and English,
composed from the demo data: no blank, no unresolved placeholder, no code or raw number, no
sentence that stops at a colon, no "¥0.00" for a campaign without a price; and the texts are
the golden files' (tests/integrations/golden/), so a changed sentence is a reviewed change.

After a deliberate change of wording: UPDATE_GOLDEN=1 pytest tests/integrations/
test_messages_golden.py rewrites the files; read their diff before committing it."""

import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from integrations.composer import _COMPOSERS, MessageKind, compose

from ..i18n.test_pages_in_words import problems_in

GOLDEN = Path(__file__).parent / "golden"
LANGUAGES = ("zh-hans", "en")
CAMPAIGN_KINDS = ("flash_sale", "group_buy", "lottery")
PER_CAMPAIGN_KIND = {MessageKind.CAMPAIGN_PREVIEW, MessageKind.CAMPAIGN_START}


def _campaign_context(campaign) -> dict:
    """As campaigns.services.campaign_publish gathers it."""
    org = campaign.organization
    return {
        "campaign_kind": campaign.kind,
        "when": campaign.starts_at.astimezone(org.tzinfo).strftime("%m-%d %H:%M"),
        "name": campaign.name,
        "stock": campaign.stock_total,
        "price": campaign.price,
        "original_price": campaign.original_price,
        "team_size": campaign.team_size,
    }


def demo_messages(org, language) -> list[tuple[str, str, dict, int | None]]:
    """[(label, message kind, context, community id)] from the demo organization's data."""
    from campaigns.models import Campaign, LotteryWinner, Order
    from care.followups import render_message
    from care.models import FollowUpRule
    from communities.models import Community, CommunityKind, CommunityRules, ScheduledPost
    from communities.rule_checks import compile_name_card
    from communities.rules import render_text, rules_context
    from communities.services import TIER_CONDITIONS
    from members.models import Membership

    group = Community.objects.for_org(org).filter(kind="general").order_by("pk").first()
    vip = Community.objects.for_org(org).filter(required_tier__isnull=False).order_by("pk")[0]
    ads = Community.objects.for_org(org).filter(kind="ads").order_by("pk").first()
    rules = CommunityRules.objects.for_org(org).get(community=group)
    by_kind = {r["kind"]: r.get("params", {}) for r in rules.rules}
    membership = (
        Membership.objects.for_org(org)
        .filter(community=group, status="active")
        .select_related("identity", "member")
        .order_by("pk")
        .first()
    )
    name = membership.identity.display_name or membership.member.display_name
    tier = vip.required_tier
    limit = int(org.group_limits["general"])
    with translation.override(language):
        general = str(CommunityKind.GENERAL.label)
        rules_ctx = rules_context(rules)
    card = compile_name_card(by_kind["name_card"]["format"])
    breaches = {
        "blocked": {"rule": "blocked"},
        "abuse": {"rule": "abuse"},
        "below_tier": {"rule": "below_tier", "tier": tier.name},
        "group_limit": {"rule": "group_limit", "limit": limit, "kind": general},
        "ads_link": {"rule": "ads_link", "domains": ["spam.example"]},
        "ads_keyword": {"rule": "ads_keyword", "keyword": by_kind["no_ads"]["keywords"][0]},
        "flood": {
            "rule": "flood",
            "max_consecutive": by_kind["no_flood"]["max_consecutive"],
            "window_seconds": by_kind["no_flood"].get("window_seconds", 60),
        },
        "name_card": {"rule": "name_card", "card": name, "example": card.example},
    }

    def breach(rule):
        return compose(MessageKind.BREACH, breaches[rule], language=language)

    found = [(f"breach {rule}", MessageKind.BREACH, c, None) for rule, c in breaches.items()]
    found += [
        ("welcome", MessageKind.WELCOME, {"community": group.name, "custom": ""}, group.pk),
        ("rules", MessageKind.RULES, rules_ctx, group.pk),
        (
            "warn",
            MessageKind.WARN,
            {
                "name": name,
                "detail": breach("ads_keyword"),
                "warning": 1,
                "threshold": rules.warnings_before_removal,
                "ads_group": ads.name,
            },
            group.pk,
        ),
        (
            "remove_announce",
            MessageKind.REMOVE_ANNOUNCE,
            {"name": name, "detail": breach("abuse")},
            group.pk,
        ),
        (
            "keyword_reply",
            MessageKind.KEYWORD_REPLY,
            {
                "text": rules.auto_replies[0]["reply"],
                "rules": render_text(rules, language),
            },
            group.pk,
        ),
        (
            "wake_up",
            MessageKind.WAKE_UP,
            {"template": rules.reminder_template, "name": name, "offer": rules.reminder_offer},
            group.pk,
        ),
        (
            "wake_up without an offer",
            MessageKind.WAKE_UP,
            {"template": rules.reminder_template, "name": name, "offer": ""},
            group.pk,
        ),
        (
            "wake_up to a member without a name",
            MessageKind.WAKE_UP,
            {"template": rules.reminder_template, "name": "", "offer": rules.reminder_offer},
            group.pk,
        ),
        (
            "post",
            MessageKind.POST,
            {
                "text": ScheduledPost.objects.for_org(org)
                .exclude(content_type="deal_preview")
                .order_by("pk")[0]
                .text
            },
            group.pk,
        ),
        (
            "entry_below_tier",
            MessageKind.ENTRY_BELOW_TIER,
            {
                "name": name,
                "group": vip.name,
                "tier": tier.name,
                "conditions": {key: getattr(tier, key) for key in TIER_CONDITIONS},
            },
            vip.pk,
        ),
        (
            "entry_group_limit",
            MessageKind.ENTRY_GROUP_LIMIT,
            {"name": name, "limit": limit, "kind": general},
            group.pk,
        ),
        (
            "entry_remove_announce",
            MessageKind.ENTRY_REMOVE_ANNOUNCE,
            {"name": name, "detail": breach("below_tier")},
            vip.pk,
        ),
        ("care_reply", MessageKind.CARE_REPLY, {"text": "已为您登记，售后同事今天内联系您"}, None),
    ]
    rule = FollowUpRule.objects.for_org(org).order_by("pk")[0]
    # an order the bots reported (campaign orders made here carry a random id)
    orders = Order.objects.for_org(org).exclude(items=[]).exclude(campaign__isnull=False)
    order = orders.order_by("placed_at", "external_order_id").first()
    found.append(
        (
            "follow_up",
            MessageKind.FOLLOW_UP,
            {"text": render_message(rule.message, order, language)},
            None,
        )
    )
    campaigns = Campaign.objects.for_org(org).order_by("-starts_at", "pk")
    for campaign_kind in CAMPAIGN_KINDS:
        campaign = campaigns.filter(kind=campaign_kind).first()
        for kind in sorted(PER_CAMPAIGN_KIND):
            found.append((f"{kind} {campaign_kind}", kind, _campaign_context(campaign), None))
        if campaign_kind == "group_buy":
            for kind in (MessageKind.GROUP_BUY_FILLED, MessageKind.GROUP_BUY_FAILED):
                found.append((kind, kind, {"name": campaign.name}, None))
    winner = (
        LotteryWinner.objects.for_org(org)
        .select_related("prize", "campaign")
        .order_by("prize__rank", "pk")
        .first()
    )
    found.append(
        (
            "lottery_won",
            MessageKind.LOTTERY_WON,
            {"prize": winner.prize.name, "name": winner.campaign.name},
            None,
        )
    )
    # polls and the suggestion box, as engagement's writers gather them (fixed page addresses)
    from engagement import services as engagement
    from engagement.models import Poll, SuggestionReply

    for poll in Poll.objects.for_org(org).order_by("kind", "pk"):
        context = {
            **engagement.poll_context(poll),
            "link": f"https://qunyun.example/m/p/{poll.kind}/",
        }
        found.append((f"poll {poll.kind}", MessageKind.POLL, context, None))
        found.append(
            (
                f"poll_results {poll.kind}",
                MessageKind.POLL_RESULTS,
                engagement.results_context(poll),
                None,
            )
        )
    reply = SuggestionReply.objects.for_org(org).select_related("suggestion").order_by("pk").first()
    found.append(
        (
            "suggestion_reply with the member's link",
            MessageKind.SUGGESTION_REPLY,
            engagement.reply_context(
                reply.suggestion, reply.text, f"https://qunyun.example/m/{org.slug}/l/TOKEN/"
            ),
            None,
        )
    )
    # what is said to one member carries their personal link (a fixed one here: golden text)
    link = f"https://qunyun.example/m/{org.slug}/l/TOKEN/"
    found += [
        ("member_link", MessageKind.MEMBER_LINK, {"link": link, "hours": 48}, None),
        ("link_button (under a campaign post, Telegram)", MessageKind.LINK_BUTTON, {}, None),
        (
            "lottery_won with the member's link",
            MessageKind.LOTTERY_WON,
            {"prize": winner.prize.name, "name": winner.campaign.name, "link": link},
            None,
        ),
        (
            "wake_up with the member's link",
            MessageKind.WAKE_UP,
            {
                "template": rules.reminder_template,
                "name": name,
                "offer": rules.reminder_offer,
                "link": link,
            },
            group.pk,
        ),
    ]
    found += _award_messages(org, group)
    found += _leaving_and_poster_messages(org, group, link)
    found += _coupon_messages(org, group, rules, name)
    return found


def _leaving_and_poster_messages(org, group, link) -> list:
    """The leaving survey (its message and page) and the QR posters, as members.writes,
    portal/views/leaving.py and communities/campaigns posters gather them."""
    from campaigns.models import Campaign
    from campaigns.posters import poster_context

    poster = f"https://qunyun.example/m/{org.slug}/poster/TOKEN/"
    found = [
        (
            "leaving_survey",
            MessageKind.LEAVING_SURVEY,
            {"community": group.name, "link": link},
            group.pk,
        ),
        ("leaving_question", MessageKind.LEAVING_QUESTION, {"community": group.name}, group.pk),
        ("leaving_thanks", MessageKind.LEAVING_THANKS, {"community": group.name}, group.pk),
        *[
            (f"leaving_choice {code}", MessageKind.LEAVING_CHOICE, {"reason": code}, group.pk)
            for code in ("content_not_useful", "too_many_ads", "no_benefits", "other")
        ],
        (
            "poster group",
            MessageKind.POSTER,
            {"poster_kind": "group", "org": org.name, "community": group.name},
            None,
        ),
        (
            "poster_reply",
            MessageKind.POSTER_REPLY,
            {"community": group.name, "url": poster},
            group.pk,
        ),
    ]
    campaigns = Campaign.objects.for_org(org).order_by("-starts_at", "pk")
    for campaign_kind in CAMPAIGN_KINDS:
        campaign = campaigns.filter(kind=campaign_kind).first()
        found.append(
            (f"poster {campaign_kind}", MessageKind.POSTER, poster_context(campaign), None)
        )
    return found  # fmt: skip


def _coupon_messages(org, group, rules, name) -> list:
    """Coupons as campaigns.coupons names them (offer_context): the demo's redemption prices
    and a wake-up coupon, a newcomer coupon, a photo reward and one given by hand."""
    from datetime import date

    amount = {
        "name": "新人专属10元券",
        "kind": "amount",
        "value": "10.00",
        "max_off": None,
        "min_spend": "0.00",
        "free_shipping": False,
        "expires": date(2026, 6, 30),
    }
    percent = {
        **amount,
        "name": "回归礼券",
        "kind": "percent",
        "value": "15.00",
        "max_off": "30.00",
        "min_spend": "100.00",
        "free_shipping": True,
    }
    shipping = {**amount, "name": "VIP包邮券", "value": "0.00", "free_shipping": True}
    return [
        (
            "wake_up with a coupon",
            MessageKind.WAKE_UP,
            {"template": rules.reminder_template, "name": name, "coupon": percent},
            group.pk,
        ),
        (
            "coupon_granted newcomer",
            MessageKind.COUPON_GRANTED,
            {**amount, "reason": "newcomer"},
            group.pk,
        ),
        (
            "coupon_granted showcase",
            MessageKind.COUPON_GRANTED,
            {**shipping, "reason": "showcase"},
            group.pk,
        ),
        (
            "coupon_granted manual",
            MessageKind.COUPON_GRANTED,
            {**percent, "value": "20.00", "max_off": None, "reason": "manual"},
            group.pk,
        ),
    ]


def _award_messages(org, group) -> list:
    """The monthly awards: the demo's confirmed best-activity winner, and the staff awards to
    the demo's deputy and sub-owner (as teamwork.services.awards announces them)."""
    from teamwork.models import Nominee
    from tenancy.models import User

    winner = (
        Nominee.objects.for_org(org)
        .filter(is_winner=True, award="best_activity")
        .select_related("round", "member")
        .order_by("community_id")
        .first()
    )
    month = winner.round.month
    deputy = User.objects.get(email="deputy@demo.qunyun.cn").full_name
    sub_owner = User.objects.get(email="subowner@demo.qunyun.cn").full_name
    return [
        (
            "award best_activity",
            MessageKind.AWARD,
            {"award": "best_activity", "month_start": month, "name": str(winner.member),
             "days": winner.figures["days"]},
            winner.community_id,
        ),
        (
            "award best_service",
            MessageKind.AWARD,
            {"award": "best_service", "month_start": month, "name": deputy, "handled": 3},
            group.pk,
        ),
        (
            "award top_sales",
            MessageKind.AWARD,
            {"award": "top_sales", "month_start": month, "name": sub_owner},
            group.pk,
        ),
    ]  # fmt: skip


def _render(org, language) -> list[tuple[str, str]]:
    rendered = []
    for label, kind, context, community_id in demo_messages(org, language):
        if kind == MessageKind.FOLLOW_UP:  # composed by care's own writer, with the order
            rendered.append((label, context["text"]))
            continue
        text = compose(kind, context, language=language, org=org, community_id=community_id)
        rendered.append((label, text))
    return rendered


def _golden_text(rendered) -> str:
    return "".join(f"## {label}\n{text}\n\n" for label, text in rendered)


@pytest.mark.django_db
@pytest.mark.time_machine("2026-12-02 04:00:00+00:00", tick=False)
def test_every_message_kind_reads_right_with_the_demo_data():
    from tenancy.models import Organization

    from ..i18n.test_pages_in_words import _data_values

    call_command("seed_demo", stdout=StringIO())
    org = Organization.objects.get(slug="jiankang")
    data_values = _data_values(org)
    failures = []
    for language in LANGUAGES:
        labels = [
            (kind, c.get("campaign_kind")) for _l, kind, c, _g in demo_messages(org, language)
        ]
        covered = {kind for kind, _ck in labels}
        assert covered == set(_COMPOSERS), set(_COMPOSERS) - covered
        for kind in PER_CAMPAIGN_KIND:
            assert {ck for k, ck in labels if k == kind} == set(CAMPAIGN_KINDS)
        rendered = _render(org, language)
        for label, text in rendered:
            where = f"{language} {label}: {text!r}"
            if not text.strip():
                failures.append(f"{where}: blank")
            if re.search(r"\{\w+\}|%\(\w+\)|\bNone\b", text):
                failures.append(f"{where}: unresolved placeholder")
            if text.rstrip().endswith(("：", ":")):
                failures.append(f"{where}: ends at a colon")
            if "¥0.00" in text or "¥0 " in text:
                failures.append(f"{where}: a price of nothing")
            failures += [f"{where}: {p}" for p in problems_in(text, data_values)]
        golden = GOLDEN / f"messages.{language}.txt"
        text = _golden_text(rendered)
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(text, encoding="utf-8")
        elif (old := golden.read_text(encoding="utf-8")) != text:
            failures.append(
                f"{golden.name} differs: UPDATE_GOLDEN=1 rewrites it; read the diff\n"
                + "\n".join(
                    f"  {a!r}\n≠ {b!r}"
                    for a, b in zip(old.split("\n\n"), text.split("\n\n"), strict=False)
                    if a != b
                )
            )
    assert not failures, "\n".join(failures)
