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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext


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
    POLL = "poll"
    POLL_RESULTS = "poll_results"
    SUGGESTION_REPLY = "suggestion_reply"
    AWARD = "award"
    LEAVING_SURVEY = "leaving_survey"
    LEAVING_QUESTION = "leaving_question"
    LEAVING_CHOICE = "leaving_choice"
    LEAVING_THANKS = "leaving_thanks"
    POSTER = "poster"
    POSTER_REPLY = "poster_reply"
    LINK_BUTTON = "link_button"
    COUPON_GRANTED = "coupon_granted"


# Said to one member: when the context has `link` (their personal link, members/access.py) the
# text ends by offering it. Group posts about a campaign end with its public page instead.
PERSONAL_KINDS = frozenset(
    {
        MessageKind.WAKE_UP,
        MessageKind.LOTTERY_WON,
        MessageKind.GROUP_BUY_FILLED,
        MessageKind.GROUP_BUY_FAILED,
        MessageKind.SUGGESTION_REPLY,
        MessageKind.COUPON_GRANTED,
    }
)
CAMPAIGN_POST_KINDS = frozenset({MessageKind.CAMPAIGN_PREVIEW, MessageKind.CAMPAIGN_START})


def compose(
    kind: str, context: dict, *, language: str, org=None, community_id: int | None = None
) -> str:
    """The text for `kind` in `language`. Raises KeyError for an unknown kind.

    With `org` (and the group's `community_id`), the operator's own wording of the message
    replaces the built-in one where they saved one: the group's first, then the
    organization's (see TEMPLATES below and integrations.template_store)."""
    with translation.override(language):
        text = _override(kind, context, org, language, community_id) if org is not None else None
        if text is None:
            text = _COMPOSERS[kind](context)
        if kind in PERSONAL_KINDS and context.get("link"):
            text += "\n" + _("Your page: %(link)s") % {"link": context["link"]}
        if kind in CAMPAIGN_POST_KINDS and context.get("public_link"):
            text += "\n" + _("Details and sign-up: %(link)s") % {"link": context["public_link"]}
        return text


def compose_each(
    kind: str, context: dict, members: list[dict], *, language: str, fills=("name", "link")
) -> list[str]:
    """`compose(kind, {**context, **m}, language=…)` for each `m` of `members`, for thousands
    at once (the wake-up): the text is composed once per shape (which of the `fills` are empty,
    and the other per-member values, e.g. a coupon) with markers in place of the `fills`, and
    each member's values (stripped) are put in place of the markers. Only plain text that the
    composer passes through untouched (a name, a link) may be a fill."""
    shapes: dict = {}
    texts = []
    for member in members:
        values = {key: (member.get(key) or "").strip() for key in fills}
        rest = {key: value for key, value in member.items() if key not in fills}
        shape = (tuple(key for key in fills if values[key]), _frozen(rest))
        text = shapes.get(shape)
        if text is None:
            marked = {key: _FILL_MARK.format(key) if values[key] else "" for key in fills}
            text = shapes[shape] = compose(kind, {**context, **rest, **marked}, language=language)
        texts.append(_FILL_MARKS.sub(lambda m, v=values: v[m.group(1)], text))
    return texts


_FILL_MARK = "\ue000{}\ue001"  # private-use characters: never in a template or a sentence
_FILL_MARKS = re.compile("\ue000(\\w+)\ue001")


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


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
    clause that would introduce it goes too: never "给你留了一份专属优惠：" and nothing after.
    With a `coupon` (issued for this wake-up) the offer is that coupon: its name, value and
    expiry (coupon_offer)."""
    template = c["template"]
    offer = coupon_offer(c["coupon"]) if c.get("coupon") else (c.get("offer") or "").strip()
    if not offer:
        template = _OFFER_CLAUSE.sub("", template).rstrip("，,：: ") or template
    name = (c.get("name") or "").strip()
    if not name:
        template = _without_name(template)
    return fill(template, {"name": name, "offer": offer})


# Without a name (a member whose platform sent none) the greeting goes rather than leaving
# "@，": a mention with what follows it ("@{name}，"), a name opening the text ("{name}，"), and
# elsewhere the name alone with the spaces before it ("Hi {name}," → "Hi,").
_NAME_MENTION = re.compile(r"^\s*@?\{name\}[\s，,、：:！!]*|@\{name\}[\s，,、：:！!]*")
_NAME_ALONE = re.compile(r"[ \t]*\{name\}")


def _without_name(template: str) -> str:
    return _NAME_ALONE.sub("", _NAME_MENTION.sub("", template))


def _follow_up(c: dict) -> str:
    """An after-sales follow-up template: {name} (the member), {order}, {items}."""
    items = c.get("items") or c["order"]
    return fill(c["template"], {"name": c.get("name", ""), "order": c["order"], "items": items})


# --- coupons ------------------------------------------------------------------------------------


def _percent_off(percent: Decimal) -> str:
    """10 → "10% off"; in Chinese the price paid in tenths, as shops say it: 10% off → 9折,
    15% off → 8.5折."""
    if (translation.get_language() or "").lower().startswith("zh"):
        tenths = (Decimal(100) - percent) / Decimal(10)
        return _("pay %(tenths)s tenths") % {"tenths": format(tenths.normalize(), "f")}
    return _("%(percent)s%% off") % {"percent": _amount(percent)}


def coupon_terms(c: dict) -> str:
    """What a coupon gives, in words: "¥10 off orders from ¥100", "10% off (at most ¥20 off),
    no minimum", "free shipping". context: kind (amount | percent), value, max_off (or None),
    min_spend, free_shipping."""
    value = Decimal(c["value"] or 0)
    if c["kind"] == "percent" and value > 0:
        discount = _percent_off(value)
        if c.get("max_off"):
            discount = _("%(discount)s (at most ¥%(cap)s off)") % {
                "discount": discount,
                "cap": _amount(c["max_off"]),
            }
    elif value > 0:
        discount = _("¥%(off)s off") % {"off": _amount(value)}
    else:
        discount = ""
    if discount and c.get("free_shipping"):
        offer = _("%(discount)s and free shipping") % {"discount": discount}
    else:
        offer = discount or _("free shipping")
    minimum = Decimal(c.get("min_spend") or 0)
    if minimum > 0:
        return _("%(offer)s on orders from ¥%(min)s") % {"offer": offer, "min": _amount(minimum)}
    return _("%(offer)s, no minimum") % {"offer": offer}


def coupon_offer(c: dict) -> str:
    """A coupon named with its value and expiry: “回归券” ¥10 off, no minimum (valid until
    June 30). context: name, expires (a date in the organization's time zone), and the terms
    (coupon_terms)."""
    return _("“%(name)s”: %(terms)s (valid until %(date)s)") % {
        "name": c["name"],
        "terms": coupon_terms(c),
        # a date format: "Jun 30"; in Chinese "6月30日"
        "date": date_format(c["expires"], pgettext("coupon expiry", "M j")),
    }


def _coupon_granted(c: dict) -> str:
    """A coupon was given to the member (newcomer, photo reward, by hand): context as
    coupon_offer, plus `reason` (source: newcomer, showcase, manual)."""
    opening = {
        "newcomer": _("Welcome! A coupon for newcomers is waiting for you:"),
        "showcase": _("Thank you for sharing your photos! Here is a coupon for you:"),
    }.get(c.get("reason"), _("A coupon for you:"))
    return _("%(opening)s %(offer)s") % {"opening": opening, "offer": coupon_offer(c)}


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
            "price": _amount(c["price"]),
            "was": _amount(c["original_price"]),
            "size": c["team_size"],
        }
    return _("Flash sale %(when)s: %(name)s, only %(n)s units at ¥%(price)s (was ¥%(was)s).") % {
        "when": c["when"],
        "name": c["name"],
        "n": c["stock"],
        "price": _amount(c["price"]),
        "was": _amount(c["original_price"]),
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


def _link_button(c: dict) -> str:
    """context: none. The label of the button a connector puts under a post that links to a
    campaign's page (Telegram's inline button); kept short, a button shows one line."""
    return _("Details and sign-up")


def _member_link(c: dict) -> str:
    """context: link, hours (how long it works). Sent privately: it signs the member in."""
    return _(
        "Here is your own page: %(link)s — it opens once, within %(hours)s hours; please do not "
        "forward it. Send me the keyword again for a new one."
    ) % {"link": c["link"], "hours": c["hours"]}


# --- polls, surveys, the suggestion box ---------------------------------------------------------


def _poll(c: dict) -> str:
    """A poll or survey posted in a group. context: poll_kind (poll, survey), title, closes
    (local time text), link (its page, for everyone); a poll: options (texts, numbered from 1),
    multiple (several may be chosen), replies (members may answer by replying with numbers);
    a survey: questions (how many)."""
    if c["poll_kind"] == "survey":
        lines = [
            ngettext(
                "Survey: %(title)s (%(n)s question). Open until %(closes)s.",
                "Survey: %(title)s (%(n)s questions). Open until %(closes)s.",
                c["questions"],
            )
            % {"title": c["title"], "n": c["questions"], "closes": c["closes"]}
        ]
        if c.get("link"):
            lines.append(_("Answer it here: %(link)s") % {"link": c["link"]})
        return "\n".join(lines)
    lines = [_("Poll: %(title)s") % {"title": c["title"]}]
    lines += [f"{n}. {text}" for n, text in enumerate(c["options"], start=1)]
    if c.get("replies"):
        if c.get("multiple"):
            lines.append(
                _(
                    "Reply with the numbers of your choices, separated by spaces (e.g. 1 3). "
                    "Open until %(closes)s."
                )
                % {"closes": c["closes"]}
            )
        else:
            lines.append(
                _("Reply with the number of your choice. Open until %(closes)s.")
                % {"closes": c["closes"]}
            )
    else:
        lines.append(_("Open until %(closes)s.") % {"closes": c["closes"]})
    if c.get("link"):
        lines.append(_("Vote here: %(link)s") % {"link": c["link"]})
    return "\n".join(lines)


def _poll_results(c: dict) -> str:
    """A poll's or survey's end, posted in its groups. context: poll_kind, title, total (people
    who answered); a poll: rows [{"text", "votes"}] in the choices' order."""
    total = c["total"]
    took_part = ngettext(
        "%(n)s person took part. Thank you!", "%(n)s people took part. Thank you!", total
    ) % {"n": total}
    if c["poll_kind"] == "survey":
        return ngettext(
            "The survey %(title)s is closed: %(n)s person took part. Thank you!",
            "The survey %(title)s is closed: %(n)s people took part. Thank you!",
            total,
        ) % {"title": c["title"], "n": total}
    lines = [_("Poll results: %(title)s") % {"title": c["title"]}]
    for n, row in enumerate(c["rows"], start=1):
        share = round(100 * row["votes"] / total) if total else 0
        votes = ngettext("%(n)s vote", "%(n)s votes", row["votes"]) % {"n": row["votes"]}
        lines.append(
            _("%(n)s. %(choice)s: %(votes)s (%(share)s%%)")
            % {"n": n, "choice": row["text"], "votes": votes, "share": share}
        )
    lines.append(took_part)
    return "\n".join(lines)


def _suggestion_reply(c: dict) -> str:
    """Staff's reply to a member's idea. context: idea (the start of what the member wrote),
    text (staff's words)."""
    return _("About your idea “%(idea)s”: %(text)s") % {"idea": c["idea"], "text": c["text"]}


# --- the team --------------------------------------------------------------------------------


def _award(c: dict) -> str:
    """A monthly award announced in the group (seed 002: 最佳活跃奖, 最佳服务奖). context:
    award (best_activity, best_service, top_sales), month_start (the month's first day), name;
    days (best_activity: days active in the group that month), handled (best_service:
    questions resolved and follow-ups done)."""
    values = {"name": c["name"], "month": _month(c["month_start"])}
    award = c["award"]
    if award == "best_activity":
        return ngettext(
            "Congratulations to @%(name)s on the Best Activity Award for %(month)s: active in "
            "the group on %(n)s day this month. Thank you for being here!",
            "Congratulations to @%(name)s on the Best Activity Award for %(month)s: active in "
            "the group on %(n)s days this month. Thank you for being here!",
            c["days"],
        ) % {**values, "n": c["days"]}
    if award == "best_service":
        return ngettext(
            "Congratulations to %(name)s on the Best Service Award for %(month)s: %(n)s "
            "member's question resolved or followed up this month. Thank you for the care!",
            "Congratulations to %(name)s on the Best Service Award for %(month)s: %(n)s "
            "members' questions resolved or followed up this month. Thank you for the care!",
            c["handled"],
        ) % {**values, "n": c["handled"]}
    if award == "top_sales":
        return (
            _(
                "Congratulations to %(name)s on the Best Sales Award for %(month)s! Thank you "
                "for finding such good things for everyone."
            )
            % values
        )
    raise KeyError(award)


def _month(first: date) -> str:
    """A month in the active language: "2026年5月", "May 2026"."""
    return date_format(first, "YEAR_MONTH_FORMAT")


# --- leaving, posters -------------------------------------------------------------------------


def _leaving_survey(c: dict) -> str:
    """Sent privately to a member who left a group. context: community, link (their personal
    link to the leaving survey)."""
    return _(
        "You have left %(community)s. Would you tell us why? One tap is enough, and it helps us "
        "run the group better: %(link)s"
    ) % {"community": c["community"], "link": c["link"]}


def _leaving_question(c: dict) -> str:
    """The leaving survey's question (seed 002 §5.3). context: community."""
    return _("Why did you leave %(community)s?") % {"community": c["community"]}


# The seed's causes as a member reads them (A, B, C, then "other"): churn reason -> text.
_LEAVING_CHOICES = {
    "content_not_useful": gettext_lazy("The content is not good"),
    "too_many_ads": gettext_lazy("Too many ads"),
    "no_benefits": gettext_lazy("No benefits"),
    "other": gettext_lazy("Something else"),
}


def _leaving_choice(c: dict) -> str:
    """One cause on the leaving survey. context: reason (a churn reason code)."""
    return str(_LEAVING_CHOICES[c["reason"]])


def _leaving_thanks(c: dict) -> str:
    """Shown when the member has answered. context: community."""
    return _(
        "Thank you for telling us. We will work on it; you are welcome back in %(community)s "
        "any time."
    ) % {"community": c["community"]}


def _poster(c: dict) -> str:
    """The lines printed on a QR poster (seed 004: 扫码进群, 海报), one per line. context:
    poster_kind (group, campaign), org (the organization's name); a group: community; a
    campaign: campaign_kind, name, price, original_price."""
    lines = [c["org"]]
    if c["poster_kind"] == "group":
        lines += [c["community"], _("Scan the code to join the group")]
        return "\n".join(lines)
    lines.append(c["name"])
    kind = c["campaign_kind"]
    if kind != "lottery" and c.get("price") is not None:
        if c.get("original_price") and Decimal(c["original_price"]) > Decimal(c["price"]):
            lines.append(
                _("¥%(price)s (was ¥%(was)s)")
                % {"price": _amount(c["price"]), "was": _amount(c["original_price"])}
            )
        else:
            lines.append(_("¥%(price)s") % {"price": _amount(c["price"])})
    lines.append(
        _("Scan the code to take part")
        if kind == "lottery"
        else _("Scan the code for details and to sign up")
    )
    return "\n".join(lines)


def _poster_reply(c: dict) -> str:
    """Sent privately to a member who asked for the group's poster. context: community, url
    (the poster image)."""
    return _(
        "Here is the poster of %(community)s: save it and share it with friends; they join by "
        "scanning the code. %(url)s"
    ) % {"community": c["community"], "url": c["url"]}


_COMPOSERS: dict[str, Callable[[dict], str]] = {
    MessageKind.WELCOME: _welcome,
    MessageKind.RULES: _rules,
    MessageKind.BREACH: _breach,
    MessageKind.WARN: _warn,
    MessageKind.REMOVE_ANNOUNCE: _remove_announce,
    MessageKind.KEYWORD_REPLY: _keyword_reply,
    MessageKind.WAKE_UP: _wake_up,
    MessageKind.COUPON_GRANTED: _coupon_granted,
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
    MessageKind.POLL: _poll,
    MessageKind.POLL_RESULTS: _poll_results,
    MessageKind.SUGGESTION_REPLY: _suggestion_reply,
    MessageKind.AWARD: _award,
    MessageKind.LEAVING_SURVEY: _leaving_survey,
    MessageKind.LEAVING_QUESTION: _leaving_question,
    MessageKind.LEAVING_CHOICE: _leaving_choice,
    MessageKind.LEAVING_THANKS: _leaving_thanks,
    MessageKind.POSTER: _poster,
    MessageKind.POSTER_REPLY: _poster_reply,
    MessageKind.LINK_BUTTON: _link_button,
}


# --- the operator's wording: templates and their variables -----------------------------------
# Each message an operator may reword declares the `{variables}` its template may use (with
# what they hold, shown beside the editor), those it must use, those that may be empty for a
# member (the sentence around an empty one is left out, as a wake-up does with {offer}), how
# the variables are read from the kind's context, and an example context for previews and
# tests. A saved template is checked against this (integrations.message_templates).


@dataclass(frozen=True)
class Template:
    kind: str
    label: Promise
    variables: dict  # {name: what it holds (lazy)}
    example: dict  # a context of the kind
    values: Callable[[dict], dict | None]  # None: the context carries the operator's own text
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Campaign texts differ per campaign kind: a lottery has no price and no stock.
    campaign_kind: str = ""
    # Whether its writers pass the organization to compose() yet; until they do the page shows
    # the built-in text only, so that no saved wording is silently ignored.
    editable: bool = True


def template_key(kind: str, context: dict) -> str:
    """Which template a composed message uses: the kind, per campaign kind for campaigns."""
    if kind in (MessageKind.CAMPAIGN_PREVIEW, MessageKind.CAMPAIGN_START):
        return f"{kind}_{context.get('campaign_kind')}"
    if kind == MessageKind.AWARD:
        return f"{kind}_{context.get('award')}"
    return kind


def template_label(key: str) -> str:
    spec = TEMPLATES.get(key)
    return str(spec.label) if spec else str(gettext_lazy("A message"))


def placeholders(template: str) -> list[str]:
    """The `{variables}` a template uses, in order, each once."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(template or "")))


def render(template: str, values: dict, optional=()) -> str:
    """A template with its variables filled in. A sentence whose optional variable is empty
    goes (never "your offer:" and nothing after it)."""
    text = template
    for name in optional:
        if values.get(name) in (None, ""):
            text = _clause(name).sub("", text)
    return fill(text, {k: "" if v is None else v for k, v in values.items()}).strip()


def _override(kind, context, org, language, community_id) -> str | None:
    from .template_store import active_text

    spec = TEMPLATES.get(template_key(kind, context))
    if spec is None or not spec.editable:
        return None
    values = spec.values(context)
    if values is None:
        return None
    template = active_text(org, template_key(kind, context), language, community_id)
    if not template:
        return None
    return render(template, values, spec.optional)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _clause(name: str) -> re.Pattern:
    return re.compile(r"[^。！？!?.\n]*\{" + re.escape(name) + r"\}[^。！？!?.\n]*[。！？!?.]?")


def _money(value) -> str:
    return "" if value is None else _amount(value)


def _example_breach(context: dict):
    """A breach for an example, written in the language it is shown in."""
    return lazy(lambda: _breach(context), str)()


def _tier_conditions(c: dict) -> str:
    met = [_TIER_CONDITIONS[k](v) for k, v in c.get("conditions", {}).items() if v]
    return _list(met) if met else ""


MEMBER_NAME = gettext_lazy("the member's name")
GROUP_NAME = gettext_lazy("the group's name")
_CAMPAIGN = gettext_lazy("the campaign's name")
_WHEN = gettext_lazy("when it starts (local time)")
_PRICE = gettext_lazy("the price, e.g. 99 or 9.90")
_WAS = gettext_lazy("the original price")

_CAMPAIGN_EXAMPLES = {
    "flash_sale": {"name": "白藜芦醇周末秒杀", "stock": 30, "price": Decimal("99.00")},
    "group_buy": {"name": "益生菌两人拼团", "stock": 0, "price": Decimal("59.00"), "team_size": 2},
    "lottery": {"name": "周年庆抽奖", "stock": 0, "price": Decimal("0.00")},
}
_CAMPAIGN_VARIABLES = {
    "flash_sale": {
        "when": _WHEN,
        "name": _CAMPAIGN,
        "stock": gettext_lazy("how many units"),
        "price": _PRICE,
        "original_price": _WAS,
    },
    "group_buy": {
        "when": _WHEN,
        "name": _CAMPAIGN,
        "price": _PRICE,
        "original_price": _WAS,
        "team_size": gettext_lazy("people per team"),
    },
    "lottery": {"when": _WHEN, "name": _CAMPAIGN},
}
_CAMPAIGN_LABELS = {
    (MessageKind.CAMPAIGN_PREVIEW, "flash_sale"): gettext_lazy("Flash sale: the day before"),
    (MessageKind.CAMPAIGN_PREVIEW, "group_buy"): gettext_lazy("Group buy: the day before"),
    (MessageKind.CAMPAIGN_PREVIEW, "lottery"): gettext_lazy("Lottery: the day before"),
    (MessageKind.CAMPAIGN_START, "flash_sale"): gettext_lazy("Flash sale: it starts"),
    (MessageKind.CAMPAIGN_START, "group_buy"): gettext_lazy("Group buy: it starts"),
    (MessageKind.CAMPAIGN_START, "lottery"): gettext_lazy("Lottery: it starts"),
}


def _campaign_values(names):
    def values(c: dict) -> dict:
        found = {key: c.get(key) for key in names}
        for key in ("price", "original_price"):
            if key in found:
                found[key] = _money(found[key])
        return found

    return values


def _campaign_templates() -> dict:
    found = {}
    for (kind, campaign_kind), label in _CAMPAIGN_LABELS.items():
        example = {
            "campaign_kind": campaign_kind,
            "when": "12-08 20:00",
            "original_price": Decimal("199.00") if campaign_kind != "lottery" else None,
            "team_size": None,
            **_CAMPAIGN_EXAMPLES[campaign_kind],
        }
        variables = _CAMPAIGN_VARIABLES[campaign_kind]
        found[f"{kind}_{campaign_kind}"] = Template(
            kind=kind,
            label=label,
            variables=variables,
            example=example,
            values=_campaign_values(variables),
            required=("name",),
            campaign_kind=campaign_kind,
        )
    return found


_AWARD_MONTH = gettext_lazy("the month, e.g. May 2026")
_STAFF_NAME = gettext_lazy("the staff member's name")


def _award_templates() -> dict:
    """The monthly awards, one text per award (announced by teamwork.services.awards)."""
    first = date(2026, 5, 1)
    specs = {
        "best_activity": (
            gettext_lazy("Monthly award: best activity (a member)"),
            {
                "name": MEMBER_NAME,
                "month": _AWARD_MONTH,
                "days": gettext_lazy("days the member was active in the group that month"),
            },
            {"name": "小王", "days": 25},
        ),
        "best_service": (
            gettext_lazy("Monthly award: best service (staff)"),
            {
                "name": _STAFF_NAME,
                "month": _AWARD_MONTH,
                "handled": gettext_lazy("members' questions resolved or followed up that month"),
            },
            {"name": "李副团长", "handled": 12},
        ),
        "top_sales": (
            gettext_lazy("Monthly award: best sales (staff)"),
            {"name": _STAFF_NAME, "month": _AWARD_MONTH},
            {"name": "刘分群主"},
        ),
    }
    found = {}
    for award, (label, variables, example) in specs.items():
        names = tuple(variables)
        found[f"{MessageKind.AWARD}_{award}"] = Template(
            kind=MessageKind.AWARD,
            label=label,
            variables=variables,
            example={"award": award, "month_start": first, **example},
            values=lambda c, names=names: {
                name: _month(c["month_start"]) if name == "month" else c[name] for name in names
            },
            required=("name",),
        )
    return found


TEMPLATES: dict[str, Template] = {
    MessageKind.WELCOME: Template(
        kind=MessageKind.WELCOME,
        label=gettext_lazy("Welcome a new member"),
        variables={"community": GROUP_NAME},
        example={"community": "健康优选1群", "custom": ""},
        # a group's own welcome (on its rules page) comes first
        values=lambda c: None if c.get("custom") else {"community": c["community"]},
    ),
    MessageKind.WARN: Template(
        kind=MessageKind.WARN,
        label=gettext_lazy("Warn a member"),
        variables={
            "name": MEMBER_NAME,
            "detail": gettext_lazy("which rule, and how it was broken"),
            "warning": gettext_lazy("the number of this warning"),
            "threshold": gettext_lazy("warnings before removal"),
            "ads_group": gettext_lazy("the group where ads are welcome, if there is one"),
        },
        example={
            "name": "小王",
            "detail": _example_breach({"rule": "ads_link", "domains": ["spam.example"]}),
            "warning": 1,
            "threshold": 2,
            "ads_group": "健康优选广告群",
        },
        values=lambda c: {
            "name": c["name"],
            "detail": c["detail"],
            "warning": c["warning"],
            "threshold": c["threshold"],
            "ads_group": c.get("ads_group") or "",
        },
        required=("detail",),
        optional=("ads_group",),
    ),
    MessageKind.REMOVE_ANNOUNCE: Template(
        kind=MessageKind.REMOVE_ANNOUNCE,
        label=gettext_lazy("Announce a removal"),
        variables={"name": MEMBER_NAME, "detail": gettext_lazy("which rule was broken")},
        example={
            "name": "小王",
            "detail": _example_breach({"rule": "ads_keyword", "keyword": "加微信"}),
        },
        values=lambda c: {"name": c["name"], "detail": c["detail"]},
        required=("name",),
    ),
    MessageKind.ENTRY_BELOW_TIER: Template(
        kind=MessageKind.ENTRY_BELOW_TIER,
        label=gettext_lazy("Joined a VIP group below its tier"),
        variables={
            "name": MEMBER_NAME,
            "group": GROUP_NAME,
            "tier": gettext_lazy("the tier the group requires"),
            "conditions": gettext_lazy("how to reach that tier (empty when staff grant it)"),
        },
        example={
            "name": "小王",
            "group": "金卡会员群",
            "tier": "金卡",
            "conditions": {"min_paid_orders": 2, "min_spend": Decimal("500.00")},
        },
        values=lambda c: {
            "name": c["name"],
            "group": c["group"],
            "tier": c["tier"],
            "conditions": _tier_conditions(c),
        },
        required=("tier",),
        optional=("conditions",),
    ),
    MessageKind.ENTRY_GROUP_LIMIT: Template(
        kind=MessageKind.ENTRY_GROUP_LIMIT,
        label=gettext_lazy("Joined more groups of a kind than allowed"),
        variables={
            "name": MEMBER_NAME,
            "limit": gettext_lazy("how many groups of the kind a member may join"),
            "kind": gettext_lazy("the kind of group, e.g. general groups"),
        },
        example={"name": "小王", "limit": 2, "kind": "综合群"},
        values=lambda c: {"name": c["name"], "limit": c["limit"], "kind": c["kind"]},
        required=("limit",),
    ),
    MessageKind.ENTRY_REMOVE_ANNOUNCE: Template(
        kind=MessageKind.ENTRY_REMOVE_ANNOUNCE,
        label=gettext_lazy("Announce a removal for the entry rules"),
        variables={"name": MEMBER_NAME, "detail": gettext_lazy("which entry rule is not met")},
        example={"name": "小王", "detail": _example_breach({"rule": "below_tier", "tier": "金卡"})},
        values=lambda c: {"name": c["name"], "detail": c["detail"]},
        required=("name",),
    ),
    **_campaign_templates(),
    MessageKind.LOTTERY_WON: Template(
        kind=MessageKind.LOTTERY_WON,
        label=gettext_lazy("Tell a lottery winner"),
        variables={"prize": gettext_lazy("the prize won"), "name": _CAMPAIGN},
        example={"prize": "保温杯", "name": "周年庆抽奖"},
        values=lambda c: {"prize": c["prize"], "name": c["name"]},
        required=("prize",),
    ),
    MessageKind.GROUP_BUY_FILLED: Template(
        kind=MessageKind.GROUP_BUY_FILLED,
        label=gettext_lazy("A group buy team is complete"),
        variables={"name": _CAMPAIGN},
        example={"name": "益生菌两人拼团"},
        values=lambda c: {"name": c["name"]},
        required=("name",),
    ),
    MessageKind.GROUP_BUY_FAILED: Template(
        kind=MessageKind.GROUP_BUY_FAILED,
        label=gettext_lazy("A group buy team did not fill"),
        variables={"name": _CAMPAIGN},
        example={"name": "益生菌两人拼团"},
        values=lambda c: {"name": c["name"]},
        required=("name",),
    ),
    **_award_templates(),
    MessageKind.LEAVING_SURVEY: Template(
        kind=MessageKind.LEAVING_SURVEY,
        label=gettext_lazy("Ask a member who left why"),
        variables={
            "community": GROUP_NAME,
            "link": gettext_lazy("the member's link to the leaving survey"),
        },
        example={"community": "健康优选1群", "link": "https://qunyun.example/m/shop/l/TOKEN/"},
        values=lambda c: {"community": c["community"], "link": c["link"]},
        required=("link",),
    ),
}
