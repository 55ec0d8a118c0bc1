"""Evaluating a group's rules against one message: which rule it breaks, and why.

Pure functions over the rule set (`CommunityRules.rules`) and a few fields of the membership
(flood window, name-card state, join time). The members app applies the outcome (warn,
remove); the policy of what counts as a breach lives here, beside the rules.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from .rules import compile_name_card

NAME_CARD_GRACE = timedelta(days=1)


def rule_params(rules, kind):
    """The params of the group's rule of this kind, or None when it has none."""
    if rules is None:
        return None
    for rule in rules.rules:
        if rule["kind"] == kind:
            return rule.get("params", {})
    return None


def ad_breach(params, event) -> dict | None:
    """Why this message is an ad under the group's no_ads rule (a breach context for the
    composer), or None."""
    allowed = set(params.get("allowed_domains", []))
    if event.has_link or event.links:
        domains = {
            (urlparse(link if "//" in link else f"//{link}").hostname or "") for link in event.links
        }
        off_list = [d for d in domains if not any(d == a or d.endswith("." + a) for a in allowed)]
        if off_list or not event.links:
            return {"rule": "ads_link", "domains": sorted(off_list)}
    text = (event.text or "").lower()
    for keyword in params.get("keywords", []):
        if keyword.lower() in text:
            return {"rule": "ads_keyword", "keyword": keyword}
    return None


def name_card_ok(rules, name_card) -> bool:
    params = rule_params(rules, "name_card")
    if params is None:
        return True
    return compile_name_card(params["format"]).matches(name_card)


def abuse_breach(rules, event, words) -> dict | None:
    """A breach context when the group bans personal attacks and the message holds one of the
    organization's abuse words, or None."""
    if rule_params(rules, "no_personal_attacks") is None or not event.text:
        return None
    text = event.text.casefold()
    if any(word.casefold() in text for word in words if word):
        return {"rule": "abuse"}
    return None


def first_breach(rules, event, membership, at, abuse_words=()):
    """(reason, breach context) of the first rule this message breaks, or None; the members
    app has the context composed into the detail a member reads. Moves the membership's
    flood window (`flood_window_start`, `flood_count`) as a side effect: the caller saves it."""
    params = rule_params(rules, "no_ads")
    if params is not None:
        why = ad_breach(params, event)
        if why:
            return "ads", why
    abuse = abuse_breach(rules, event, abuse_words)
    if abuse:
        return "abuse", abuse
    params = rule_params(rules, "no_flood")
    if params is not None:
        window = timedelta(seconds=params["window_seconds"])
        start = membership.flood_window_start
        if start is None or at - start > window:
            membership.flood_window_start, membership.flood_count = at, 1
        else:
            membership.flood_count += 1
            if membership.flood_count > params["max_consecutive"]:
                membership.flood_window_start, membership.flood_count = at, 0
                return "flood", {
                    "rule": "flood",
                    "max_consecutive": params["max_consecutive"],
                    "window_seconds": params["window_seconds"],
                }
    params = rule_params(rules, "name_card")
    if (
        params is not None
        and event.name_card
        and not membership.name_card_ok
        and at - membership.joined_at > NAME_CARD_GRACE
    ):
        card = compile_name_card(params["format"])
        return "name_card", {"rule": "name_card", "card": event.name_card, "example": card.example}
    return None


def keyword_reply(rules, text: str) -> str | None:
    """The group's auto-reply to a message that is exactly one of its keywords, or None."""
    text = (text or "").strip()
    if not text or rules is None:
        return None
    for rule in rules.auto_replies:
        if text == rule.get("keyword"):
            return rule.get("reply", "")
    return None
