"""Everything a member reads from the bot is composed here, and nowhere else.

`compose(kind, context, language=...)` turns a message kind and its context (plain values:
names, numbers, dates, the operator's own texts) into the text the bot posts. Writers (members,
campaigns, care, content) collect the context and call this; they never build a sentence a
member reads. The operator's own words (a custom welcome, a keyword reply, a post, a care reply,
a follow-up or wake-up template) pass through here too, so that one place decides what goes out.

Operator-facing text (audit lines, ledger details, errors) is not composed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class MessageKind:
    """What the bot is saying. A kind names a sentence, not a transport (see ActionKind)."""

    WELCOME = "welcome"
    RULES = "rules"
    WARN = "warn"
    REMOVE_ANNOUNCE = "remove_announce"
    BREACH = "breach"
    KEYWORD_REPLY = "keyword_reply"
    WAKE_UP = "wake_up"
    POST = "post"
    CAMPAIGN_PREVIEW = "campaign_preview"
    CAMPAIGN_START = "campaign_start"
    LOTTERY_WON = "lottery_won"
    GROUP_BUY_FILLED = "group_buy_filled"
    GROUP_BUY_FAILED = "group_buy_failed"
    ENTRY_BELOW_TIER = "entry_below_tier"
    ENTRY_GROUP_LIMIT = "entry_group_limit"
    ENTRY_REMOVE_ANNOUNCE = "entry_remove_announce"
    CARE_REPLY = "care_reply"
    FOLLOW_UP = "follow_up"
    MEMBER_LINK = "member_link"


# Said to one member: when the context has `link` (their personal link, members/access.py) the
# text ends by offering it. Group posts about a campaign end with its public page instead.
PERSONAL_KINDS = frozenset(
    {
        MessageKind.WAKE_UP,
        MessageKind.LOTTERY_WON,
        MessageKind.GROUP_BUY_FILLED,
        MessageKind.GROUP_BUY_FAILED,
    }
)
CAMPAIGN_POST_KINDS = frozenset({MessageKind.CAMPAIGN_PREVIEW, MessageKind.CAMPAIGN_START})


def compose(kind: str, context: dict, *, language: str) -> str:
    """The text for `kind` in `language`. Raises KeyError for an unknown kind."""
    with translation.override(language):
        text = _COMPOSERS[kind](context)
        if kind in PERSONAL_KINDS and context.get("link"):
            text += "\n" + _("Your page: %(link)s") % {"link": context["link"]}
        if kind in CAMPAIGN_POST_KINDS and context.get("public_link"):
            text += "\n" + _("Details and sign-up: %(link)s") % {"link": context["public_link"]}
        return text


def fill(template: str, values: dict) -> str:
    """An operator's template with `{name}`-style placeholders filled in; unknown ones stay."""
    text = template or ""
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


# --- joining and the rules ---------------------------------------------------------------------


def _welcome(c: dict) -> str:
    return c.get("custom") or _("Welcome to %(name)s!") % {"name": c["community"]}


def _describe_rule(rule: dict) -> str:
    kind, params = rule["kind"], rule.get("params", {})
    if kind == "no_ads":
        line = _("No ads unrelated to this group.")
        if params.get("allowed_domains"):
            line += " " + _("Links allowed only from: %(domains)s.") % {
                "domains": ", ".join(params["allowed_domains"])
            }
        return line
    if kind == "no_flood":
        return _("No flooding: at most %(n)s messages in a row.") % {"n": params["max_consecutive"]}
    if kind == "name_card":
        return _("Set your name card as %(format)s, e.g. %(example)s.") % {
            "format": params["format"],
            "example": params["example"],
        }
    if kind == "no_personal_attacks":
        return _("No personal attacks or insults.")
    return params.get("text", "")


def _rules(c: dict) -> str:
    """context: community, intro (list of the operator's paragraphs), rules (rule dicts; a
    name_card rule's params carry an `example`), warnings_before_removal."""
    parts = []
    intro = [text.strip() for text in c.get("intro", []) if text and text.strip()]
    if intro:
        parts.append(_("Welcome to %(name)s!") % {"name": c["community"]})
        parts += intro
    if c.get("rules"):
        parts.append(_("Group rules:"))
        for index, rule in enumerate(c["rules"], start=1):
            parts.append(f"{index}. {_describe_rule(rule)}")
        n = c["warnings_before_removal"]
        if n == 0:
            parts.append(_("Breaking a rule means removal from the group."))
        else:
            parts.append(
                ngettext(
                    "Breaking a rule earns a warning; after %(n)s warning you are removed.",
                    "Breaking a rule earns a warning; after %(n)s warnings you are removed.",
                    n,
                )
                % {"n": n}
            )
    return "\n".join(parts)


# --- enforcement --------------------------------------------------------------------------------


def _breach(c: dict) -> str:
    """Why a member is warned or removed; context: rule (blocked, abuse, ads_link, ads_keyword,
    flood, name_card, below_tier, group_limit) and its values."""
    rule = c["rule"]
    if rule == "blocked":
        return _("on the block list")
    if rule == "abuse":
        return _("personal attacks or insults")
    if rule == "below_tier":
        return _("for %(tier)s members and above") % {"tier": c["tier"]}
    if rule == "group_limit":
        return _("at most %(limit)s %(kind)s per member") % {"limit": c["limit"], "kind": c["kind"]}
    if rule == "ads_link":
        return _("link not on the allow-list: %(domains)s") % {
            "domains": ", ".join(c["domains"]) or _("unknown")
        }
    if rule == "ads_keyword":
        return _("ad keyword “%(keyword)s”") % {"keyword": c["keyword"]}
    if rule == "flood":
        return _("more than %(n)s messages within %(s)s seconds") % {
            "n": c["max_consecutive"],
            "s": c["window_seconds"],
        }
    if rule == "name_card":
        return _("name card “%(card)s” does not follow the group's format, e.g. %(example)s") % {
            "card": c["card"],
            "example": c["example"],
        }
    raise KeyError(rule)


def _warn(c: dict) -> str:
    values = {"name": c["name"], "detail": c["detail"], "n": c["warning"], "max": c["threshold"]}
    if c.get("ads_group"):  # the organization has a group where ads are welcome
        return _(
            "@%(name)s, please follow the group rules: %(detail)s. Warning %(n)s of %(max)s. "
            "Ads are welcome in “%(group)s”."
        ) % {**values, "group": c["ads_group"]}
    return (
        _("@%(name)s, please follow the group rules: %(detail)s. Warning %(n)s of %(max)s.")
        % values
    )


def _remove_announce(c: dict) -> str:
    return _("%(name)s was removed for breaking the group rules (%(detail)s).") % {
        "name": c["name"],
        "detail": c["detail"],
    }


# --- who may join -------------------------------------------------------------------------------

_TIER_CONDITIONS = {
    "min_paid_orders": lambda n: ngettext("%(n)s paid order", "%(n)s paid orders", n) % {"n": n},
    "min_spend": lambda n: _("¥%(n)s spent") % {"n": _amount(n)},
    "min_points": lambda n: ngettext("%(n)s point", "%(n)s points", n) % {"n": n},
    "min_active_days_30": lambda n: (
        ngettext("active on %(n)s day in the last 30", "active on %(n)s days in the last 30", n)
        % {"n": n}
    ),
}


def _entry_below_tier(c: dict) -> str:
    """context: name, group, tier, conditions ({condition: threshold}; the zero ones are left
    out)."""
    values = {"name": c["name"], "group": c["group"], "tier": c["tier"]}
    met = [_TIER_CONDITIONS[k](v) for k, v in c.get("conditions", {}).items() if v]
    if met:
        return _(
            "@%(name)s, %(group)s is for %(tier)s members and above. To qualify: %(conditions)s."
        ) % {**values, "conditions": _list(met)}
    return (
        _(
            "@%(name)s, %(group)s is for %(tier)s members and above. Staff grant this level; ask "
            "them how to qualify."
        )
        % values
    )


def _entry_group_limit(c: dict) -> str:
    """context: name, kind (the group kind's label), limit."""
    return ngettext(
        "@%(name)s, each member may join %(limit)s %(kind)s; please stay in the one you like best.",
        "@%(name)s, each member may join %(limit)s %(kind)s at most; please keep the ones you "
        "like best.",
        c["limit"],
    ) % {"name": c["name"], "limit": c["limit"], "kind": c["kind"]}


def _entry_remove_announce(c: dict) -> str:
    return _(
        "%(name)s does not meet this group's entry rules yet (%(detail)s) and has been asked to "
        "leave; welcome back once they do."
    ) % {"name": c["name"], "detail": c["detail"]}


def _amount(value) -> str:
    """500 for 500.00, 99.50 for 99.5: whole yuan without decimals."""
    value = Decimal(value)
    return str(value.quantize(Decimal(1))) if value == value.to_integral() else f"{value:.2f}"


def _list(items: list) -> str:
    return _(", ").join(str(i) for i in items)


# --- the operator's own words -------------------------------------------------------------------


def _verbatim(c: dict) -> str:
    return c["text"]


# The sentence of a template that holds the offer, with its closing punctuation.
_OFFER_CLAUSE = re.compile(r"[^。！？!?.\n]*\{offer\}[^。！？!?.\n]*[。！？!?.]?")


def _keyword_reply(c: dict) -> str:
    """The operator's reply to a keyword; `{rules}` stands for the group's rules as posted."""
    return fill(c["text"], {"rules": c.get("rules", "")})


def _wake_up(c: dict) -> str:
    """The group's wake-up template with {name} and {offer} filled in. Without an offer, the
    clause that would introduce it goes too: never "给你留了一份专属优惠：" and nothing after."""
    template, offer = c["template"], (c.get("offer") or "").strip()
    if not offer:
        template = _OFFER_CLAUSE.sub("", template).rstrip("，,：: ") or template
    return fill(template, {"name": c["name"], "offer": offer})


def _follow_up(c: dict) -> str:
    """An after-sales follow-up template: {name} (the member), {order}, {items}."""
    items = c.get("items") or c["order"]
    return fill(c["template"], {"name": c.get("name", ""), "order": c["order"], "items": items})


# --- campaigns ----------------------------------------------------------------------------------


def _campaign_preview(c: dict) -> str:
    """context: campaign_kind, when (local time text), name, stock, price, original_price,
    team_size (group buys), prizes (lotteries)."""
    kind = c["campaign_kind"]
    if kind == "lottery":
        return _("Lottery %(when)s: %(name)s. Join in the group for a chance to win.") % {
            "when": c["when"],
            "name": c["name"],
        }
    if kind == "group_buy":
        return _(
            "Group buy %(when)s: %(name)s at ¥%(price)s (was ¥%(was)s), teams of %(size)s."
        ) % {
            "when": c["when"],
            "name": c["name"],
            "price": c["price"],
            "was": c["original_price"],
            "size": c["team_size"],
        }
    return _("Flash sale %(when)s: %(name)s, only %(n)s units at ¥%(price)s (was ¥%(was)s).") % {
        "when": c["when"],
        "name": c["name"],
        "n": c["stock"],
        "price": c["price"],
        "was": c["original_price"],
    }


def _campaign_start(c: dict) -> str:
    return _("Starting now! ") + _campaign_preview(c)


def _lottery_won(c: dict) -> str:
    return _("Congratulations! You won %(prize)s in %(name)s.") % {
        "prize": c["prize"],
        "name": c["name"],
    }


def _group_buy_filled(c: dict) -> str:
    return _("Your group buy of %(name)s is complete: it ships soon.") % {"name": c["name"]}


def _group_buy_failed(c: dict) -> str:
    return _("Your group buy of %(name)s did not fill in time; your payment is refunded.") % {
        "name": c["name"]
    }


def _member_link(c: dict) -> str:
    """context: link, hours (how long it works). Sent privately: it signs the member in."""
    return _(
        "Here is your own page: %(link)s — it opens once, within %(hours)s hours; please do not "
        "forward it. Send me the keyword again for a new one."
    ) % {"link": c["link"], "hours": c["hours"]}


_COMPOSERS: dict[str, Callable[[dict], str]] = {
    MessageKind.WELCOME: _welcome,
    MessageKind.RULES: _rules,
    MessageKind.BREACH: _breach,
    MessageKind.WARN: _warn,
    MessageKind.REMOVE_ANNOUNCE: _remove_announce,
    MessageKind.KEYWORD_REPLY: _keyword_reply,
    MessageKind.WAKE_UP: _wake_up,
    MessageKind.POST: _verbatim,
    MessageKind.ENTRY_BELOW_TIER: _entry_below_tier,
    MessageKind.ENTRY_GROUP_LIMIT: _entry_group_limit,
    MessageKind.ENTRY_REMOVE_ANNOUNCE: _entry_remove_announce,
    MessageKind.CARE_REPLY: _verbatim,
    MessageKind.FOLLOW_UP: _follow_up,
    MessageKind.CAMPAIGN_PREVIEW: _campaign_preview,
    MessageKind.CAMPAIGN_START: _campaign_start,
    MessageKind.LOTTERY_WON: _lottery_won,
    MessageKind.GROUP_BUY_FILLED: _group_buy_filled,
    MessageKind.GROUP_BUY_FAILED: _group_buy_failed,
    MessageKind.MEMBER_LINK: _member_link,
}
